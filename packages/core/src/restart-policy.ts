// Restart policies, as an operator knows them from Docker and Incus: never, on-failure (with
// exponential backoff and a limit) and always; and flapping, a container that stopped abnormally
// too often too fast. The decision after each stop, from the policy, why it stopped and what
// came before. Pure.
import type { StopReason } from "./stop-reason.ts";

export const RESTART_POLICIES = ["never", "on-failure", "always"] as const;
export type RestartPolicyName = (typeof RESTART_POLICIES)[number];

export interface RestartPolicy {
  policy: RestartPolicyName;
  /** on-failure: restarts in a row before it gives up */
  maxRestarts: number;
  /** the wait before the first restart; doubled for each one after it in a row */
  backoffMs: number;
  maxBackoffMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = { policy: "never", maxRestarts: 5, backoffMs: 1000, maxBackoffMs: 60_000 };

/** What the list and a container's detail say of its restarts. */
export interface RestartStatus {
  policy: RestartPolicyName;
  /** restarts the policy made in a row */
  restarts: number;
  flapping: boolean;
  /** on-failure gave up after its limit */
  gaveUp: boolean;
  /** when the pending restart is due (ms since the epoch) */
  nextAt?: number;
}

/** Flapping: this many abnormal stops within the window. */
export const FLAPPING = { stops: 3, windowMs: 5 * 60_000 } as const;

/** A run that stayed up this long was a good one: the restarts in a row start again from 0. */
export const STEADY_MS = 10_000;

/** What the keeper remembers of a container's last stops. */
export interface RestartHistory {
  /** restarts the policy made in a row */
  restarts: number;
  /** when it stopped abnormally, within the flapping window */
  abnormal: number[];
}

export const NO_HISTORY: RestartHistory = { restarts: 0, abnormal: [] };

export interface RestartDecision {
  restart: boolean;
  /** the wait before it, when it restarts */
  delayMs: number;
  flapping: boolean;
  /** on-failure gave up: the limit of restarts in a row was reached */
  gaveUp: boolean;
  history: RestartHistory;
}

/** A stop the container did not want: a failure, an OOM kill, a kill from outside, a failed start. */
export function isAbnormal(stop: StopReason): boolean {
  switch (stop.reason) {
    case "exited": return stop.code !== 0;
    case "oom-killed": case "killed-outside": case "start-failed": return true;
    default: return false;
  }
}

/**
 * After a stop: restart or not, after how long, and whether it is flapping. `ranMs` is how long
 * the run was up (0 for a failed start). A stop asked through corral is never undone; a reboot
 * restarts by itself.
 */
export function decideRestart(policy: RestartPolicy, stop: StopReason, ranMs: number, history: RestartHistory, now: number): RestartDecision {
  const abnormal = isAbnormal(stop);
  const recent = history.abnormal.filter((t) => now - t < FLAPPING.windowMs);
  if (abnormal) recent.push(now);
  const flapping = recent.length >= FLAPPING.stops;
  const inARow = ranMs >= STEADY_MS ? 0 : history.restarts;
  const wanted = policy.policy === "always" ? stop.reason !== "stopped" && stop.reason !== "rebooted"
    : policy.policy === "on-failure" ? abnormal : false;
  const gaveUp = wanted && policy.policy === "on-failure" && inARow >= policy.maxRestarts;
  const restart = wanted && !gaveUp;
  return {
    restart,
    delayMs: restart ? Math.min(policy.backoffMs * 2 ** inARow, policy.maxBackoffMs) : 0,
    flapping,
    gaveUp,
    history: { restarts: restart ? inARow + 1 : inARow, abnormal: recent },
  };
}
