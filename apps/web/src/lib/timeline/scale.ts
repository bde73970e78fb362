// The timeline's geometry, pure: which time range is in view, where a time falls on the canvas,
// which lanes are visible, what the pointer is on, and how pan, zoom and "all" move the view.
// Everything here is unit-tested without a browser.
import type { StateEvent } from "@corral/core";

/** Height of the time axis and width of the lane labels, in CSS pixels. */
export const AXIS_H = 26;
export const LABEL_W = 150;
export const MIN_SPAN = 200;
export const MAX_SPAN = 1000 * 60 * 60 * 24 * 30;
export const RANGES: ReadonlyArray<[label: string, span: number]> = [["10s", 10_000], ["1m", 60_000], ["15m", 900_000], ["1h", 3_600_000], ["24h", 86_400_000]];

export interface View {
  /** right edge, ms epoch */
  end: number;
  /** visible span, ms */
  span: number;
  /** the right edge follows now */
  follow: boolean;
}

export function clampSpan(span: number): number {
  return Math.min(MAX_SPAN, Math.max(MIN_SPAN, span));
}

/** The view with `change` applied, its span kept within bounds. */
export function withView(view: View, change: Partial<View>): View {
  const next = { ...view, ...change };
  return { ...next, span: clampSpan(next.span) };
}

/** A following view keeps now a little inside its right edge. */
export function followNow(view: View, now: number): View {
  return view.follow ? { ...view, end: now + view.span * 0.04 } : view;
}

/** Where a time falls, in canvas pixels, for a plot `plotW` wide right of the labels. */
export function xScale(view: View, plotW: number): (t: number) => number {
  const t0 = view.end - view.span;
  return (t) => LABEL_W + ((t - t0) / view.span) * plotW;
}

/** The time under canvas pixel `x`. */
export function timeAt(view: View, x: number, plotW: number): number {
  return view.end - view.span + ((x - LABEL_W) / plotW) * view.span;
}

/** Index of the last event at or before t (-1 if none); events are in time order. */
export function lastAtOrBefore(events: readonly StateEvent[], t: number): number {
  let lo = 0;
  let hi = events.length - 1;
  let ans = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (events[mid]!.at <= t) {
      ans = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return ans;
}

/** The lanes in view: the first index and how many, for a viewport `height` high scrolled by `scrollTop`. */
export function visibleLanes(scrollTop: number, height: number, laneHeight: number, total: number): { first: number; end: number } {
  const first = Math.max(0, Math.floor(scrollTop / laneHeight));
  const count = Math.ceil((height - AXIS_H) / laneHeight) + 1;
  return { first, end: Math.min(total, first + count) };
}

/** The lane under canvas point `y` (scrolled by `scrollTop`), or -1 on the axis. */
export function laneAt(y: number, scrollTop: number, laneHeight: number): number {
  return y < AXIS_H ? -1 : Math.floor((y - AXIS_H + scrollTop) / laneHeight);
}

/**
 * The event the pointer is on at time `t`: the nearest transition within 6 px wins, else the one
 * whose bar is under the pointer. Its index, or -1.
 */
export function eventAt(events: readonly StateEvent[], t: number, pxPerMs: number): number {
  const k = lastAtOrBefore(events, t);
  const after = events[k + 1];
  const before = events[k];
  if (after && (after.at - t) * pxPerMs < 6 && (!before || after.at - t < t - before.at)) return k + 1;
  return k;
}

/** A ctrl+wheel turn of `deltaY` at fraction `frac` of the plot: zoom about the time under it. */
export function zoomAt(view: View, frac: number, deltaY: number): View {
  const f = Math.min(1, Math.max(0, frac));
  const tAt = view.end - view.span + f * view.span;
  const span = clampSpan(view.span * Math.exp(deltaY * 0.002));
  return { span, end: tAt + (1 - f) * span, follow: view.follow && f > 0.9 };
}

/** Zoom by `factor` about the middle (or keep following now). */
export function zoomBy(view: View, factor: number): View {
  const span = clampSpan(view.span * factor);
  return { ...view, span, end: view.follow ? view.end : view.end - (view.span - span) / 2 };
}

/** A drag of `dx` pixels from a view that ended at `startEnd`: the time axis moves with the pointer. */
export function panBy(view: View, startEnd: number, dx: number, plotW: number): View {
  return { ...view, end: startEnd - (dx / plotW) * view.span, follow: false };
}

/** A view that shows every event from `first` to `last` (and now), following now. */
export function fitAll(first: number, last: number, now: number): View {
  const span = clampSpan(Math.max(MIN_SPAN * 5, Math.max(last, now) - first) * 1.06);
  return { span, end: first + span * 0.97, follow: true };
}

/** The axis step for `span` ms over `px` pixels: a label about every 110 px, on a round value. */
export function niceStep(span: number, px: number): number {
  const target = (span / Math.max(px, 1)) * 110;
  const steps = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000, 7_200_000, 10_800_000, 21_600_000, 43_200_000, 86_400_000];
  return steps.find((s) => s >= target) ?? 86_400_000 * Math.ceil(target / 86_400_000);
}

/** The ticks of the axis between t0 and t1, on local-time round values of `step`. */
export function axisTicks(t0: number, t1: number, step: number, tzOffsetMs: number): number[] {
  const ticks: number[] = [];
  for (let t = Math.ceil((t0 - tzOffsetMs) / step) * step + tzOffsetMs; t <= t1; t += step) ticks.push(t);
  return ticks;
}

/** "14:05", "14:05:09" or ".250", as fine as the step needs. */
export function axisLabel(t: number, step: number): string {
  const d = new Date(t);
  const hm = `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
  if (step >= 60_000) return hm;
  const hms = `${hm}:${String(d.getSeconds()).padStart(2, "0")}`;
  if (step >= 1000 || d.getMilliseconds() === 0) return hms;
  return `.${String(d.getMilliseconds()).padStart(3, "0")}`;
}
