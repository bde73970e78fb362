// Resource samples of a container: the raw counters read from its cgroups and veths, the rates
// derived from two readings, and the downsampling of a series. Pure; shared by the agent (which
// samples, keeps and stores them) and the dashboard (which graphs them).

/** What one reading of a container's cgroups and veths gave; a field is undefined where it could not be read. */
export interface Counters {
  /** ms since the epoch */
  t: number;
  /** CPU time used since the cgroup was made, µs */
  cpuUsec?: number;
  memBytes?: number;
  memPeak?: number;
  /** null: no limit */
  memLimit?: number | null;
  oomKills?: number;
  /** v1's memory.failcnt: how often the limit was hit */
  memFailcnt?: number;
  ioRead?: number;
  ioWrite?: number;
  /** bytes the container received and sent (its veths' host ends, the other way round) */
  netRx?: number;
  netTx?: number;
  pids?: number;
}

/**
 * One point of a container's series (or, with `running`, the host's: the sum over its running
 * containers). A null field was not measured: no such cgroup controller for this container, or the
 * first reading of a rate.
 */
export interface Sample {
  /** ms since the epoch */
  t: number;
  /** CPU used, in % of one core */
  cpu: number | null;
  mem: number | null;
  memPeak: number | null;
  /** the memory limit; null when there is none (or no memory cgroup) */
  memLimit: number | null;
  /** OOM kills in this cgroup so far */
  oomKills: number | null;
  /** bytes per second */
  ioRead: number | null;
  ioWrite: number | null;
  netRx: number | null;
  netTx: number | null;
  pids: number | null;
  /** host-wide samples only: how many containers ran */
  running?: number;
}

export const SAMPLE_FIELDS = ["cpu", "mem", "memPeak", "memLimit", "oomKills", "ioRead", "ioWrite", "netRx", "netTx", "pids"] as const;
export type SampleField = (typeof SAMPLE_FIELDS)[number];

/** How often the agent samples, and how long it keeps each resolution. */
export const SAMPLE_INTERVAL_MS = 2000;
export const RECENT_WINDOW_MS = 10 * 60_000;
export const HISTORY_STEP_MS = 60_000;
export const HISTORY_KEEP_MS = 24 * 3600_000;

/** A per-second rate between two readings of a counter; null without both, or if the counter went back (a new cgroup). */
function rate(before: number | undefined, after: number | undefined, seconds: number): number | null {
  if (before === undefined || after === undefined || seconds <= 0 || after < before) return null;
  return (after - before) / seconds;
}

/** The sample a reading makes, its rates taken against the reading before it (none: the rates are null). */
export function toSample(prev: Counters | undefined, cur: Counters): Sample {
  const seconds = prev ? (cur.t - prev.t) / 1000 : 0;
  const cpuUsecPerSec = rate(prev?.cpuUsec, cur.cpuUsec, seconds);
  return {
    t: cur.t,
    cpu: cpuUsecPerSec === null ? null : round2(cpuUsecPerSec / 10_000),
    mem: cur.memBytes ?? null,
    memPeak: cur.memPeak ?? null,
    memLimit: cur.memLimit ?? null,
    oomKills: cur.oomKills ?? null,
    ioRead: roundOrNull(rate(prev?.ioRead, cur.ioRead, seconds)),
    ioWrite: roundOrNull(rate(prev?.ioWrite, cur.ioWrite, seconds)),
    netRx: roundOrNull(rate(prev?.netRx, cur.netRx, seconds)),
    netTx: roundOrNull(rate(prev?.netTx, cur.netTx, seconds)),
    pids: cur.pids ?? null,
  };
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

function roundOrNull(n: number | null): number | null {
  return n === null ? null : Math.round(n);
}

/** How a field of several samples becomes one: rates are averaged, levels take their highest, counts their last. */
const MERGE: Record<SampleField, "mean" | "max" | "last"> = {
  cpu: "mean", ioRead: "mean", ioWrite: "mean", netRx: "mean", netTx: "mean",
  mem: "max", memPeak: "max", pids: "max",
  memLimit: "last", oomKills: "last",
};

/** Several samples (in time order) as one, stamped `t`. */
export function mergeSamples(samples: readonly Sample[], t: number): Sample {
  const out: Sample = { t, cpu: null, mem: null, memPeak: null, memLimit: null, oomKills: null, ioRead: null, ioWrite: null, netRx: null, netTx: null, pids: null };
  for (const field of SAMPLE_FIELDS) {
    const values = samples.map((s) => s[field]).filter((v): v is number => v !== null);
    if (values.length === 0) continue;
    const how = MERGE[field];
    out[field] = how === "mean" ? round2(values.reduce((a, b) => a + b, 0) / values.length)
      : how === "max" ? Math.max(...values) : values[values.length - 1]!;
  }
  const running = samples.map((s) => s.running).filter((v): v is number => v !== undefined);
  if (running.length > 0) out.running = Math.max(...running);
  return out;
}

/** A series (in time order) in buckets of `stepMs`, each stamped with its bucket's start. */
export function downsample(samples: readonly Sample[], stepMs: number): Sample[] {
  const out: Sample[] = [];
  let bucket: Sample[] = [];
  let bucketStart = Number.NaN;
  for (const s of samples) {
    const start = Math.floor(s.t / stepMs) * stepMs;
    if (start !== bucketStart && bucket.length > 0) {
      out.push(mergeSamples(bucket, bucketStart));
      bucket = [];
    }
    bucketStart = start;
    bucket.push(s);
  }
  if (bucket.length > 0) out.push(mergeSamples(bucket, bucketStart));
  return out;
}

/** The host-wide sample: each field summed over the containers that have it (limits are not summed). */
export function sumSamples(samples: readonly Sample[], t: number): Sample {
  const sum = (field: SampleField): number | null => {
    let total: number | null = null;
    for (const s of samples) {
      const v = s[field];
      if (v !== null) total = (total ?? 0) + v;
    }
    return total === null ? null : round2(total);
  };
  return {
    t, cpu: sum("cpu"), mem: sum("mem"), memPeak: null, memLimit: null, oomKills: sum("oomKills"),
    ioRead: sum("ioRead"), ioWrite: sum("ioWrite"), netRx: sum("netRx"), netTx: sum("netTx"), pids: sum("pids"),
    running: samples.length,
  };
}

/** What metrics.onSample yields each tick: every sampled container's point, and the host's. */
export interface SampleTick {
  t: number;
  host: Sample;
  containers: Record<string, Sample>;
}
