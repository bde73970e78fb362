// Medians and percentiles of a bench's samples, in milliseconds.

export interface Stat {
  n: number;
  median_ms: number;
  p95_ms: number;
}

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

export function stat(samples: number[]): Stat {
  const s = [...samples].sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 1000) / 1000;
  return { n: s.length, median_ms: r(percentile(s, 50)), p95_ms: r(percentile(s, 95)) };
}

/** The wall clock in ms since the epoch, at performance.now()'s resolution (as event arrivals are stamped). */
export function now(): number {
  return performance.timeOrigin + performance.now();
}
