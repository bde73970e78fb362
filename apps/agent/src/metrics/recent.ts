// A container's recent samples at full resolution, in a fixed ring of typed arrays: one column a
// field, NaN for "not measured". 300 samples (10 minutes at 2 s) take 14 KiB a container, where
// as many Sample objects would take some 70 KiB of heap; 200 containers: 3 MB.
import { SAMPLE_FIELDS, type Sample } from "@corral/core";

export class SampleRing {
  private readonly times: Float64Array;
  private readonly columns: Float32Array[];
  private readonly running: Float32Array;
  /** where the next sample goes */
  private next = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    this.times = new Float64Array(capacity);
    this.columns = SAMPLE_FIELDS.map(() => new Float32Array(capacity));
    this.running = new Float32Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  push(s: Sample): void {
    const i = this.next;
    this.times[i] = s.t;
    for (const [f, field] of SAMPLE_FIELDS.entries()) this.columns[f]![i] = s[field] ?? Number.NaN;
    this.running[i] = s.running ?? Number.NaN;
    this.next = (i + 1) % this.capacity;
    this.count = Math.min(this.count + 1, this.capacity);
  }

  /** The time of the newest sample, or undefined when empty. */
  lastTime(): number | undefined {
    return this.count === 0 ? undefined : this.times[(this.next - 1 + this.capacity) % this.capacity];
  }

  /** Samples with from <= t < to, oldest first. */
  range(from: number, to: number): Sample[] {
    const out: Sample[] = [];
    const start = (this.next - this.count + this.capacity) % this.capacity;
    for (let k = 0; k < this.count; k++) {
      const i = (start + k) % this.capacity;
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
