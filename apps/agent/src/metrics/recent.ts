// A container's recent samples at full resolution, in a fixed ring of typed arrays: one column a
// field, NaN for "not measured". 300 samples (10 minutes at 2 s) take 14 KiB a container, where
// as many Sample objects would take some 70 KiB of heap; 200 containers: 3 MB. The ring starts
// small and doubles up to its capacity: a thousand containers started at once would otherwise
// take 14 MB before their first sample.
import { SAMPLE_FIELDS, type Sample } from "@corral/core";

/** Samples a ring has room for before it first grows (a minute at 2 s). */
const FIRST_ROOM = 32;

export class SampleRing {
  private times: Float64Array;
  private columns: Float32Array[];
  private running: Float32Array;
  /** where the next sample goes */
  private next = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    const room = Math.min(FIRST_ROOM, capacity);
    this.times = new Float64Array(room);
    this.columns = SAMPLE_FIELDS.map(() => new Float32Array(room));
    this.running = new Float32Array(room);
  }

  /** The slots allocated so far: the ring wraps only once they reach its capacity. */
  private get room(): number {
    return this.times.length;
  }

  /** Twice the room, up to the capacity; only while it has not wrapped (samples in 0..count). */
  private grow(): void {
    const room = Math.min(this.room * 2, this.capacity);
    const wider = <T extends Float32Array | Float64Array>(old: T, make: (n: number) => T): T => {
      const next = make(room);
      next.set(old);
      return next;
    };
    this.times = wider(this.times, (n) => new Float64Array(n));
    this.columns = this.columns.map((c) => wider(c, (n) => new Float32Array(n)));
    this.running = wider(this.running, (n) => new Float32Array(n));
  }

  get size(): number {
    return this.count;
  }

  push(s: Sample): void {
    if (this.count === this.room && this.room < this.capacity) this.grow();
    const i = this.next;
    this.times[i] = s.t;
    for (const [f, field] of SAMPLE_FIELDS.entries()) this.columns[f]![i] = s[field] ?? Number.NaN;
    this.running[i] = s.running ?? Number.NaN;
    this.next = (i + 1) % this.room;
    this.count = Math.min(this.count + 1, this.capacity);
  }

  /** The time of the newest sample, or undefined when empty. */
  lastTime(): number | undefined {
    return this.count === 0 ? undefined : this.times[(this.next - 1 + this.room) % this.room];
  }

  /** Samples with from <= t < to, oldest first. */
  range(from: number, to: number): Sample[] {
    const out: Sample[] = [];
    const start = (this.next - this.count + this.room) % this.room;
    for (let k = 0; k < this.count; k++) {
      const i = (start + k) % this.room;
      const t = this.times[i]!;
      if (t < from || t >= to) continue;
      out.push(this.at(i));
    }
    return out;
  }

  private at(i: number): Sample {
    // float32 holds 7 digits: CPU % to the hundredth, the rest whole (bytes within 1 in 10^7)
    const value = (v: number, field: string): number | null =>
      Number.isNaN(v) ? null : field === "cpu" ? Math.round(v * 100) / 100 : Math.round(v);
    const s = { t: this.times[i]! } as Sample;
    for (const [f, field] of SAMPLE_FIELDS.entries()) s[field] = value(this.columns[f]![i]!, field);
    const running = this.running[i]!;
    if (!Number.isNaN(running)) s.running = running;
    return s;
  }
}
