// Every 2 s, a sample of each running container's cgroups and veths (read-plan.ts says which
// files), and the host's sum of them. The last 10 minutes stay in memory at full resolution
// (recent.ts); each minute is also written to the store as one point a container (store/samples.ts,
// kept 24 h). Listeners (metrics.onSample) get every tick. Runs in the host's namespaces, on the
// agent's event loop: a tick reads a few small files per container synchronously, which costs less
// than handing each read to the thread pool (see the bench's `samples` section for what it costs),
// in slices of about a millisecond, each in a turn of its own: a thousand running containers take
// some 50 ms to read, and in one piece that stall held every event meanwhile (the fan-out's p99).
import {
  downsample, HISTORY_STEP_MS, RECENT_WINDOW_MS, SAMPLE_INTERVAL_MS, sumSamples, toSample,
  type Counters, type Sample, type SampleTick,
} from "@corral/core";
import type { HostFiles } from "../host/host.ts";
import { isStorageError } from "../store/store.ts";
import type { SampleHistory } from "../store/samples.ts";
import { expected, unexpected } from "../errors.ts";
import type { Logger } from "../log.ts";
import { readCounters, readPlan, type CgroupDirs, type ReadPlan } from "./read-plan.ts";
import { SampleRing } from "./recent.ts";

/** How long a tick reads before it lets the event loop turn. */
const SLICE_MS = 1;

/** A running container as the sampler sees it: which run (its counters start again with a new one), its cgroup and its veths' host ends. */
export interface SampleTarget {
  name: string;
  run: string;
  cgroup: CgroupDirs;
  veths: string[];
}

export interface SamplerOptions {
  intervalMs?: number;
  windowMs?: number;
  now?: () => number;
}

/** The host's key used in the store and in range queries for the host-wide series. */
export const HOST = "";

interface Tracked {
  run: string;
  plan: ReadPlan;
  last?: Counters;
  ring: SampleRing;
}

export class Sampler {
  private readonly tracked = new Map<string, Tracked>();
  private readonly hostRing: SampleRing;
  private readonly listeners = new Set<(tick: SampleTick) => void>();
  private readonly intervalMs: number;
  private readonly capacity: number;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  /** the minute being gathered for the store, and its last tick */
  private minute = Number.NaN;
  private memTotal: number | null = null;

  constructor(
    private readonly files: HostFiles,
    private readonly targets: () => SampleTarget[],
    private readonly history: SampleHistory,
    private readonly log: Logger,
    opts: SamplerOptions = {},
  ) {
    this.intervalMs = opts.intervalMs ?? SAMPLE_INTERVAL_MS;
    this.capacity = Math.ceil((opts.windowMs ?? RECENT_WINDOW_MS) / this.intervalMs);
    this.now = opts.now ?? Date.now;
    this.hostRing = new SampleRing(this.capacity);
  }

  start(): void {
    if (this.timer) return;
    this.memTotal = this.readMemTotal();
    this.timer = setInterval(() => {
      // one tick at a time: one that outlasts the interval (a host that crawls) skips the next
      if (this.ticking) return;
      this.ticking = true;
      this.tick().catch((e: unknown) => {
        // a tick that failed is a gap in the graphs; the next one is tried all the same
        unexpected("taking resource samples", e);
      }).finally(() => (this.ticking = false));
    }, this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  get running(): boolean {
    return this.timer !== undefined;
  }

  onTick(listener: (tick: SampleTick) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Read every running container once; publish the tick; at a new minute, store the last one. */
  async tick(): Promise<SampleTick> {
    const t = this.now();
    const seen = new Set<string>();
    const containers: Record<string, Sample> = {};
    let slice = performance.now();
    for (const target of [...this.targets()]) {
      if (performance.now() - slice > SLICE_MS) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        slice = performance.now();
      }
      seen.add(target.name);
      let tr = this.tracked.get(target.name);
      if (tr?.run !== target.run) {
        // a new run: its counters start again and its veths are new (the ring keeps the last run's points)
        const ring = tr?.ring ?? new SampleRing(this.capacity);
        tr = { run: target.run, plan: readPlan(target.cgroup, target.veths), ring };
        this.tracked.set(target.name, tr);
      }
      const counters = readCounters(this.files, tr.plan, t);
      const sample = toSample(tr.last, counters);
      tr.last = counters;
      tr.ring.push(sample);
      containers[target.name] = sample;
    }
    for (const [name, tr] of this.tracked) {
      if (seen.has(name)) continue;
      tr.last = undefined;
      // a stopped container's points stay until they leave the window
      if ((tr.ring.lastTime() ?? 0) < t - this.capacity * this.intervalMs) this.tracked.delete(name);
    }
    const host = { ...sumSamples(Object.values(containers), t), memLimit: this.memTotal };
    this.hostRing.push(host);
    const tick: SampleTick = { t, host, containers };
    this.storeMinute(t);
    for (const l of this.listeners) l(tick);
    return tick;
  }

  /** Once a minute is over, its samples as one point a container, into the store. */
  private storeMinute(t: number): void {
    const minute = Math.floor(t / HISTORY_STEP_MS) * HISTORY_STEP_MS;
    if (minute === this.minute) return;
    const finished = this.minute;
    this.minute = minute;
    if (Number.isNaN(finished)) return;
    const points = new Map<string, Sample>();
    const add = (name: string, ring: SampleRing) => {
      const [point] = downsample(ring.range(finished, finished + HISTORY_STEP_MS), HISTORY_STEP_MS);
      if (point) points.set(name, point);
    };
    add(HOST, this.hostRing);
    for (const [name, tr] of this.tracked) add(name, tr.ring);
    try {
      this.history.write(points, t);
    } catch (e) {
      // a full disk costs the history this minute; the live samples go on
      if (!isStorageError(e)) throw e;
      this.log.error("samples not stored: the store cannot be written", { error: (e as Error).message });
    }
  }

  /** The recent window of one container (HOST: the host), from <= t < to. */
  recent(container: string, from: number, to: number): Sample[] {
    const ring = container === HOST ? this.hostRing : this.tracked.get(container)?.ring;
    return ring?.range(from, to) ?? [];
  }

  /** The ticks of the recent window after `after` (ms), rebuilt from the rings, oldest first. */
  ticksAfter(after: number, only?: string): SampleTick[] {
    const to = this.now() + 1;
    const ticks = new Map<number, SampleTick>();
    for (const host of this.hostRing.range(after + 1, to)) ticks.set(host.t, { t: host.t, host, containers: {} });
    for (const [name, tr] of this.tracked) {
      if (only !== undefined && name !== only) continue;
      for (const s of tr.ring.range(after + 1, to)) {
        const tick = ticks.get(s.t);
        if (tick) tick.containers[name] = s;
      }
    }
    return [...ticks.values()];
  }

  /**
   * A series over [from, to): the recent window's full resolution where it reaches, the store's
   * minutes before it; at most `maxPoints` (longer spans are downsampled further).
   */
  range(container: string, from: number, to: number, maxPoints = 1500): { step: number; samples: Sample[] } {
    const recent = this.recent(container, from, to);
    const windowStart = recent[0]?.t ?? to;
    const stored = from < windowStart ? this.history.range(container, from, Math.min(to, Math.floor(windowStart / HISTORY_STEP_MS) * HISTORY_STEP_MS)) : [];
    let samples = [...stored, ...recent];
    let step = recent.length > 0 ? this.intervalMs : HISTORY_STEP_MS;
    if (samples.length > maxPoints) {
      step = Math.max(step, Math.ceil((to - from) / maxPoints / HISTORY_STEP_MS) * HISTORY_STEP_MS);
      samples = downsample(samples, step);
    }
    return { step, samples };
  }

  private readMemTotal(): number | null {
    try {
      const kb = /^MemTotal:\s+(\d+) kB$/m.exec(this.files.readText("/proc/meminfo"))?.[1];
      return kb === undefined ? null : Number(kb) * 1024;
    } catch (e) {
      expected(e, ["ENOENT"], "reading /proc/meminfo");
      return null;
    }
  }
}
