// State colours and words, the same everywhere (chips, timeline, legends), in light and dark mode.
// Each chip's ink reaches WCAG AA contrast (4.5:1) on its colour, and no two states share a
// colour: the darker and lighter shades tell RUNNING from THAWED and FROZEN from FREEZING. Pure.
import type { StateName } from "@corral/core";

export const STATE_COLOR: Record<StateName, string> = {
  STOPPED: "#6b7484",
  STARTING: "#2563eb",
  RUNNING: "#18794e",
  STOPPING: "#e8a317",
  ABORTING: "#c62a2f",
  FREEZING: "#22b8cf",
  FROZEN: "#0b7285",
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
