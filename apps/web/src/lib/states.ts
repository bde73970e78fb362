// State colours and words, the same everywhere (chips, timeline, legends). Pure.
import type { StateName } from "@corral/core";

export const STATE_COLOR: Record<StateName, string> = {
  STOPPED: "#8a94a6",
  STARTING: "#3b82f6",
  RUNNING: "#1f9d55",
  STOPPING: "#e8a317",
  ABORTING: "#e5484d",
  FREEZING: "#22b8cf",
  FROZEN: "#0e8fa6",
  THAWED: "#51cf66",
};

/** Text on a chip of that colour. */
export const STATE_INK: Record<StateName, string> = {
  STOPPED: "#ffffff",
  STARTING: "#ffffff",
  RUNNING: "#ffffff",
  STOPPING: "#1f1300",
  ABORTING: "#ffffff",
  FREEZING: "#00262d",
  FROZEN: "#ffffff",
  THAWED: "#0b2e13",
};

export const PHASE_ORDER = ["network", "cgroup", "clone", "setup", "exec"] as const;

export const PHASE_COLOR: Record<string, string> = {
  network: "#93c5fd",
  cgroup: "#60a5fa",
  clone: "#3b82f6",
  setup: "#2563eb",
  exec: "#1d4ed8",
};
