// Why a run ended, as one word with its evidence: what a STOPPED event carries (detail.stop) and
// what containers.get / `corral info --json` show as lastStop. A run that a verb of corral's
// ended is "stopped" or "rebooted" with who asked; one that ended by itself says how, from the
// init's wait status and the cgroup's OOM kill count, and is never blamed on the init when
// something else killed it. Pure.
import { decodeWaitStatus, type EventCause } from "./events.ts";
import { SIGHUP, SIGINT, signalName } from "./signals.ts";

export type StopReason =
  /** the init exited by itself, with this code */
  | { reason: "exited"; code: number }
  /** the kernel's OOM killer killed in the container's cgroup (its limit, or the host's memory) */
  | { reason: "oom-killed"; oomKills: number; signal?: string; code?: number }
  /** corral ended it: stop, abort or kill now, with who asked */
  | { reason: "stopped"; actor: string; request?: string; signal?: string }
  /** a signal corral did not send (kill -9 from the host) */
  | { reason: "killed-outside"; signal: string }
  /** the init halted the container (poweroff inside: its reboot(2) ended it with SIGINT) */
  | { reason: "halted" }
  /** rebooted: asked through corral (actor), or by the init itself */
  | { reason: "rebooted"; actor?: string; request?: string }
  /** the start failed at this step */
  | { reason: "start-failed"; step: string; message: string };

export interface RunEnd {
  /** the init's raw wait status */
  status: number;
  /** what a verb of corral's asked for this run's end, if one did */
  asked?: { cause: EventCause; restart: boolean };
  /** the oom_kill count of the run's cgroup at its end (a run's cgroup is new: it starts at 0) */
  oomKills: number;
}

export function stopReason(end: RunEnd): StopReason {
  const d = decodeWaitStatus(end.status);
  const signal = "signaled" in d ? d.signal : undefined;
  const signalText = signal === undefined ? {} : { signal: signalName(signal) };
  if (end.asked) {
    const who = { actor: end.asked.cause.actor, ...(end.asked.cause.request ? { request: end.asked.cause.request } : {}) };
    return end.asked.restart ? { reason: "rebooted", ...who } : { reason: "stopped", ...who, ...signalText };
  }
  if (signal === SIGHUP) return { reason: "rebooted" };
  if (signal === SIGINT) return { reason: "halted" };
  if (end.oomKills > 0) return { reason: "oom-killed", oomKills: end.oomKills, ...signalText, ...("exited" in d ? { code: d.code } : {}) };
  if (signal !== undefined) return { reason: "killed-outside", signal: signalName(signal) };
  return { reason: "exited", code: "exited" in d ? d.code : 0 };
}

/** The cause a STOPPED event names for a run nobody asked to end: never "init" for a kill. */
export function selfStopCause(stop: StopReason): EventCause {
  switch (stop.reason) {
    case "exited": return { actor: "init", request: `exited with code ${stop.code}` };
    case "halted": return { actor: "init", request: "halt" };
    case "rebooted": return { actor: "init", request: "reboot" };
    case "oom-killed": return { actor: "kernel", request: `OOM kill in its cgroup${stop.signal ? ` (init ${stop.signal === "SIGKILL" ? "killed" : `ended by ${stop.signal}`})` : ""}` };
    case "killed-outside": return { actor: "outside corral", request: `killed by ${stop.signal}` };
    default: return { actor: "init", request: stop.reason };
  }
}

/** The stop in words, for `corral info`, `corral ls` and the dashboard. */
export function stopWords(stop: StopReason): string {
  switch (stop.reason) {
    case "exited": return `exited with code ${stop.code}`;
    case "oom-killed": return `OOM-killed${stop.oomKills > 1 ? ` (${stop.oomKills} OOM kills)` : ""}`;
    case "stopped": return `stopped by ${stop.actor}${stop.request ? ` (${stop.request})` : ""}`;
    case "killed-outside": return `killed by ${stop.signal} from outside corral`;
    case "halted": return "halted from inside";
    case "rebooted": return stop.actor ? `rebooted by ${stop.actor}` : "rebooted from inside";
    case "start-failed": return `start failed at ${stop.step}`;
  }
}

/** What a STOPPED event says of its stop: its own detail.stop, or for an older event its failed start. */
export function stopOf(detail: { stop?: unknown; error?: { step: string; message: string } }): StopReason | undefined {
  if (detail.stop && typeof detail.stop === "object" && "reason" in detail.stop) return detail.stop as StopReason;
  if (detail.error) return { reason: "start-failed", step: detail.error.step, message: detail.error.message };
  return undefined;
}
