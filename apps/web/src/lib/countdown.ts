// The countdown of a stop or a reboot in progress, as the container's last event announces it. Pure.
import type { StateEvent } from "@corral/core";

export interface CountdownView {
  reboot: boolean;
  signal: string;
  /** when the signal went */
  at: number;
  killAt: number;
  /** ms to the kill, 0 once due */
  left: number;
  /** how much of the wait has passed, 0 to 1 */
  fraction: number;
  note?: string;
}

/**
 * The countdown a STOPPING event announces: a stop (the halt signal at t, SIGKILL at killAt) or a
 * reboot the agent records when it is asked for (`reboot: true`, the reboot signal, then the kill).
 * Null when the container is not in such a countdown. Pure.
 */
export function countdownOf(state: string, last: StateEvent | undefined, now: number): CountdownView | null {
  if (state !== "STOPPING" || last?.state !== "STOPPING" || last.detail.killAt === undefined) return null;
  const d = last.detail;
  const killAt = d.killAt!;
  const total = Math.max(1, killAt - last.at);
  return {
    reboot: d.reboot === true,
    signal: typeof d.signal === "string" ? d.signal : d.reboot ? "Reboot signal" : "Halt signal",
    at: last.at,
    killAt,
    left: Math.max(0, killAt - now),
    fraction: Math.min(1, Math.max(0, (now - last.at) / total)),
    ...(d.note ? { note: d.note } : {}),
  };
}

