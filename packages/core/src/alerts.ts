// Alerts: which state events and samples an operator must hear of. The rules are pure: AlertRules
// is fed the stored events and the sampler's ticks in order and answers the alerts they raise; the
// agent (apps/agent/src/alerts) stores them, publishes them and delivers them to webhooks.
//
//   event / samples                                           alert            severity
//   STOPPED stop.reason exited, code != 0                     abnormal-stop    warning
//   STOPPED stop.reason killed-outside                        abnormal-stop    warning
//   STOPPED stop.reason oom-killed                            oom-killed       critical
//   STOPPED stop.reason start-failed                          start-failed     warning
//   STOPPED detail.flapping (the first of an episode)         flapping         critical
//   STOPPED stopped by corral with SIGKILL after a STOPPING
//     that sent a halt signal with a timeout (timeoutMs > 0)  stop-needed-kill warning
//   memory / its limit > share for `forMs` (samples)          memory-high      warning
//
// Stops that were asked for or ended well (stopped, halted, rebooted, exited 0) raise nothing. A
// STOPPED of a flapping container raises only the flapping alert, once until it stops flapping:
// its every failed restart would otherwise raise one more.
import type { StateEvent } from "./events.ts";
import type { SampleTick } from "./samples.ts";
import { stopOf, stopWords } from "./stop-reason.ts";

export const ALERT_KINDS = ["abnormal-stop", "oom-killed", "start-failed", "flapping", "stop-needed-kill", "memory-high"] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];
export type AlertSeverity = "warning" | "critical";

/** An alert as the rules raise it, before the store gives it an id. */
export interface AlertDraft {
  kind: AlertKind;
  severity: AlertSeverity;
  container: string;
  /** ms since the epoch: the event's or the sample's time */
  at: number;
  /** one sentence for the operator */
  message: string;
  /** the event that raised it (its seq), if an event did */
  seq?: number;
  /** the evidence: the stop, the memory figures */
  detail: Record<string, unknown>;
}

/** A stored alert. */
export interface Alert extends AlertDraft {
  id: number;
  /** when and by whom it was acknowledged; null while it is not */
  acknowledgedAt: number | null;
  acknowledgedBy: string | null;
}

export interface MemoryRule {
  /** memory / limit above this share ... */
  share: number;
  /** ... for this long (ms) */
  forMs: number;
}

export const DEFAULT_MEMORY_RULE: MemoryRule = { share: 0.9, forMs: 30_000 };

/** The alert kinds in words, for the dashboard and the webhooks' receivers. */
export function alertKindWords(kind: AlertKind): string {
  switch (kind) {
    case "abnormal-stop": return "stopped abnormally";
    case "oom-killed": return "OOM-killed";
    case "start-failed": return "failed to start";
    case "flapping": return "flapping";
    case "stop-needed-kill": return "stop needed a kill";
    case "memory-high": return "memory near its limit";
  }
}

function percent(share: number): string {
  return `${Math.round(share * 100)} %`;
}

export class AlertRules {
  /** each container's STOPPING timeout (ms) in its current stop, until its STOPPED */
  private readonly stopTimeouts = new Map<string, number>();
  /** containers whose last STOPPED said flapping: no second flapping alert until one does not */
  private readonly flapping = new Set<string>();
  /** since when each container's memory has been above the share, and whether that was told */
  private readonly memoryHigh = new Map<string, { since: number; raised: boolean }>();

  constructor(private readonly memory: MemoryRule = DEFAULT_MEMORY_RULE) {}

  /** A stored state event, in seq order: the alerts it raises (none, mostly). */
  onEvent(event: StateEvent): AlertDraft[] {
    const { container, detail } = event;
    if (event.state === "STOPPING") {
      this.stopTimeouts.set(container, typeof detail.timeoutMs === "number" ? detail.timeoutMs : 0);
      return [];
    }
    if (event.state !== "STOPPED") return [];
    const timeoutMs = this.stopTimeouts.get(container) ?? 0;
    this.stopTimeouts.delete(container);
    this.memoryHigh.delete(container);
    const stop = stopOf(detail);
    const base = { container, at: event.at, seq: event.seq };
    const evidence = { ...(stop ? { stop } : {}), ...(typeof detail.restarts === "number" ? { restarts: detail.restarts } : {}) };

    if (detail.flapping === true) {
      if (this.flapping.has(container)) return [];
      this.flapping.add(container);
      const restarts = typeof detail.restarts === "number" ? ` after ${detail.restarts} restarts` : "";
      return [{ ...base, kind: "flapping", severity: "critical", message: `${container} is flapping${restarts}${stop ? ` (last: ${stopWords(stop)})` : ""}`, detail: evidence }];
    }
    this.flapping.delete(container);
    if (!stop) return [];
    const raise = (kind: AlertKind, severity: AlertSeverity, words: string): AlertDraft[] =>
      [{ ...base, kind, severity, message: `${container} ${words}`, detail: evidence }];
    switch (stop.reason) {
      case "oom-killed": return raise("oom-killed", "critical", `was OOM-killed${stop.oomKills > 1 ? ` (${stop.oomKills} OOM kills)` : ""}`);
      case "start-failed": return raise("start-failed", "warning", `failed to start at ${stop.step}: ${stop.message}`);
      case "killed-outside": return raise("abnormal-stop", "warning", stopWords(stop));
      case "exited": return stop.code === 0 ? [] : raise("abnormal-stop", "warning", stopWords(stop));
      case "stopped": {
        const signal = stop.signal ?? detail.signal;
        if (signal !== "SIGKILL" || timeoutMs <= 0) return [];
        return [{ ...base, kind: "stop-needed-kill", severity: "warning",
          message: `${container} did not stop within ${timeoutMs / 1000} s of its halt signal and was killed`,
          detail: { ...evidence, timeoutMs } }];
      }
      default: return [];
    }
  }

  /**
   * A tick of samples: a container whose memory stayed above the share of its limit for forMs
   * raises one alert, and none again until it has gone below the share (or stopped) once.
   */
  onTick(tick: SampleTick): AlertDraft[] {
    const alerts: AlertDraft[] = [];
    for (const name of this.memoryHigh.keys()) if (!(name in tick.containers)) this.memoryHigh.delete(name);
    for (const [container, s] of Object.entries(tick.containers)) {
      if (s.mem === null || s.memLimit === null || s.memLimit <= 0 || s.mem / s.memLimit <= this.memory.share) {
        this.memoryHigh.delete(container);
        continue;
      }
      const high = this.memoryHigh.get(container) ?? { since: s.t, raised: false };
      this.memoryHigh.set(container, high);
      if (high.raised || s.t - high.since < this.memory.forMs) continue;
      high.raised = true;
      const share = s.mem / s.memLimit;
      alerts.push({
        kind: "memory-high", severity: "warning", container, at: s.t,
        message: `${container} has used ${percent(share)} of its memory limit for ${Math.round((s.t - high.since) / 1000)} s`,
        detail: { mem: s.mem, memLimit: s.memLimit, share, since: high.since, threshold: this.memory.share },
      });
    }
    return alerts;
  }
}
