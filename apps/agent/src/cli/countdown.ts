// What `corral stop` and `corral reboot` say while they wait, decided from the container's
// events (pure, so that the unit tests drive it): the halt or reboot signal sent, the seconds
// left before SIGKILL, and for a reboot each step until the next run is RUNNING.
import type { StateEvent } from "@corral/core";

/**
 * The line for a STOPPING event that says when SIGKILL is due (a stop, and a reboot once the
 * agent records its signal and kill time the same way), or undefined for any other event.
 */
export function killLine(name: string, e: StateEvent, now: number): string | undefined {
  if (e.state !== "STOPPING" || e.detail.timeoutMs === undefined) return undefined;
  const { signal, note, timeoutMs } = e.detail;
  if (note || timeoutMs === 0) return `${name}: ${note ?? `${String(signal)} at once`}`;
  const left = Math.max(0, Math.ceil(((e.detail.killAt ?? now) - now) / 1000));
  return `${name}: ${String(signal)} sent; SIGKILL in ${left} s`;
}

/** Where a reboot is, from the events heard since it was asked for. */
export type RebootStep =
  | { step: "asked" }
  /** the agent said which signal went and when SIGKILL is due */
  | { step: "signalled"; event: StateEvent }
  | { step: "ended"; how: string }
  | { step: "starting" }
  | { step: "running"; pid?: number }
  | { step: "failed"; error: string };

/** The next step of a reboot after event `e` (an event of the container, in order). */
export function rebootStep(current: RebootStep, e: StateEvent): RebootStep {
  if (current.step === "running" || current.step === "failed") return current;
  switch (e.state) {
    case "STOPPING":
      // with timeoutMs: the request's own record; without: the init has ended (fini)
      if (e.detail.timeoutMs !== undefined) return { step: "signalled", event: e };
      return current;
    case "STOPPED":
      return { step: "ended", how: e.detail.signal !== undefined ? `the init ended by ${String(e.detail.signal)}` : `the init exited ${e.detail.exitCode ?? "?"}` };
    case "STARTING":
      return current.step === "ended" ? { step: "starting" } : current;
    case "RUNNING":
      return current.step === "starting" ? { step: "running", pid: e.detail.pid } : current;
    case "ABORTING":
      return current.step === "starting" ? { step: "failed", error: e.detail.error?.message ?? "the new run was aborted" } : current;
    default:
      return current;
  }
}

/** The terminal's status line for a step, `waited` seconds after the reboot was asked for. */
export function rebootLine(name: string, s: RebootStep, waited: number, now: number): string {
  switch (s.step) {
    case "asked": return `${name}: reboot signal sent; waiting for the init to end (${waited} s)`;
    case "signalled": return killLine(name, s.event, now) ?? `${name}: reboot signal sent`;
    case "ended": return `${name}: ${s.how}; starting again`;
    case "starting": return `${name}: starting again`;
    case "running": return `${name}: RUNNING again${s.pid ? ` (pid ${s.pid})` : ""}`;
    case "failed": return `${name}: the reboot failed: ${s.error}`;
  }
}
