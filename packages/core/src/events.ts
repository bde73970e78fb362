// Wire types for state events, shared by the agent (which stores and publishes them) and the
// dashboard (which draws the timeline).

import type { StateName } from "./states.ts";
import type { StopReason } from "./stop-reason.ts";

/** Who or what caused a state change: "operator:<id>", "init", "agent", "autostart", ... */
export type EventCause = { actor: string; request?: string };

/** One timed step of a start; names follow start.c's order. */
export type StartPhase = {
  name: "cgroup" | "network" | "clone" | "setup" | "exec" | (string & {});
  ms: number;
};

export type EventError = { step: string; syscall?: string; errno?: number; message: string };

export type EventDetail = {
  /** Raw wait status, as LXC puts it in its exit-code monitor message. */
  exitStatus?: number;
  exitCode?: number;
  signal?: number | string;
  phases?: StartPhase[];
  error?: EventError;
  reboot?: boolean;
  /** the init ended by a halt (its reboot(2) in the namespace ended it with SIGINT) */
  halt?: boolean;
  pid?: number;
  /** a stop: the time between the halt signal and SIGKILL, and when SIGKILL is due (ms since the epoch) */
  timeoutMs?: number;
  killAt?: number;
  note?: string;
  /** STOPPED: why the run ended, with its evidence (stop-reason.ts) */
  stop?: StopReason;
  [k: string]: unknown;
};

export type StateEvent = {
  seq: number;
  container: string;
  state: StateName;
  /** milliseconds since the epoch */
  at: number;
  cause: EventCause;
  detail: EventDetail;
};

// ---- wait status ---------------------------------------------------------------------------
// Linux encodes a wait status as: exited -> (code << 8); killed by a signal -> signal number in
// the low 7 bits (0x80 set if a core was dumped); stopped -> 0x7f | (sig << 8);
// continued -> 0xffff. These are the WIFEXITED/WEXITSTATUS/WTERMSIG macros of <sys/wait.h>.

export type WaitStatus =
  | { exited: true; code: number }
  | { signaled: true; signal: number; coreDumped: boolean }
  | { stopped: true; signal: number }
  | { continued: true };

export function decodeWaitStatus(raw: number): WaitStatus {
  const low = raw & 0x7f;
  if (low === 0) return { exited: true, code: (raw >> 8) & 0xff };
  if (raw === 0xffff) return { continued: true };
  if (low === 0x7f) return { stopped: true, signal: (raw >> 8) & 0xff };
  return { signaled: true, signal: low, coreDumped: (raw & 0x80) !== 0 };
}

/** The exit code a shell would report: the code, or 128 + the signal that killed it. */
export function shellExitCode(raw: number): number {
  const status = decodeWaitStatus(raw);
  if ("exited" in status) return status.code;
  if ("signaled" in status) return 128 + status.signal;
  if ("stopped" in status) return 128 + status.signal;
  return 0;
}

/** Build a raw wait status (handy for tests and for fakes). */
export function encodeWaitStatus(s: { code: number } | { signal: number; coreDumped?: boolean }): number {
  if ("code" in s) return (s.code & 0xff) << 8;
  return (s.signal & 0x7f) | (s.coreDumped ? 0x80 : 0);
}

/** Alias of shellExitCode, under the name the agent's brief used. */
export const exitCodeFromWaitStatus = shellExitCode;

/** Now, in ms since the epoch to the microsecond: event times order the phases of a start. */
export function preciseNow(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000) / 1000;
}
