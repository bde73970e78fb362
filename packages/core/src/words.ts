// Words for people that the CLI and the dashboard both show: how long a container has run and
// how its last run ended. Pure.
import { decodeWaitStatus } from "./events.ts";
import { signalName } from "./signals.ts";
import type { StateName } from "./states.ts";

/** Whole seconds, minutes, hours: "42 s", "3m 12s", "5h 02m", "3d 4h"; "-" for a stopped container. */
export function uptime(startedAt: number | undefined, now: number, state?: StateName): string {
  if (!startedAt || state === "STOPPED") return "-";
  const s = Math.max(0, Math.floor((now - startedAt) / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, "0")}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${String(m % 60).padStart(2, "0")}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** Short, for a list: "exit 0", "SIGKILL (137)". */
export function exitShort(status: number | undefined, code: number | undefined): string {
  if (status === undefined) return code !== undefined ? `exit ${code}` : "-";
  const w = decodeWaitStatus(status);
  if ("exited" in w) return `exit ${w.code}`;
  if ("signaled" in w) return `${signalName(w.signal)} (${code ?? 128 + w.signal})`;
  return `status ${status}`;
}
