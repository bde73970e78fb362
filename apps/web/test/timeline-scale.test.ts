// The timeline's geometry (lib/timeline/scale.ts), without a browser.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { StateEvent } from "@corral/core";
import { axisTicks, eventAt, fitAll, followNow, LABEL_W, laneAt, AXIS_H, lastAtOrBefore, MAX_SPAN, MIN_SPAN, niceStep, panBy, timeAt, visibleLanes, withView, xScale, zoomAt, zoomBy, type View } from "../src/lib/timeline/scale.ts";

const ev = (seq: number, at: number): StateEvent => ({ seq, container: "c", state: "RUNNING", at, cause: { actor: "t" }, detail: {} });
const view: View = { end: 10_000, span: 10_000, follow: false };

test("a time and its pixel map both ways across the plot", () => {
  const xOf = xScale(view, 1000);
  assert.equal(xOf(0), LABEL_W);
  assert.equal(xOf(10_000), LABEL_W + 1000);
  assert.equal(xOf(5000), LABEL_W + 500);
  assert.equal(timeAt(view, LABEL_W + 250, 1000), 2500);
});

test("the last event at or before a time is found by binary search", () => {
  const events = [ev(1, 100), ev(2, 200), ev(3, 300)];
  assert.equal(lastAtOrBefore(events, 50), -1);
  assert.equal(lastAtOrBefore(events, 200), 1);
  assert.equal(lastAtOrBefore(events, 250), 1);
  assert.equal(lastAtOrBefore(events, 1e9), 2);
  assert.equal(lastAtOrBefore([], 5), -1);
});

test("the pointer picks the bar under it, or a transition within 6 pixels ahead", () => {
  const events = [ev(1, 1000), ev(2, 2000)];
  const pxPerMs = 0.1; // 10 ms a pixel
  assert.equal(eventAt(events, 1500, pxPerMs), 0);
  assert.equal(eventAt(events, 1960, pxPerMs), 1, "40 ms = 4 px before the next transition");
  assert.equal(eventAt(events, 1900, pxPerMs), 0, "100 ms = 10 px before it");
  assert.equal(eventAt(events, 500, pxPerMs), -1);
});

test("only the lanes in the viewport are drawn, and a point finds its lane", () => {
  assert.deepEqual(visibleLanes(0, AXIS_H + 300, 30, 200), { first: 0, end: 11 });
  assert.deepEqual(visibleLanes(3000, AXIS_H + 300, 30, 200), { first: 100, end: 111 });
  assert.deepEqual(visibleLanes(5900, AXIS_H + 300, 30, 200), { first: 196, end: 200 });
  assert.equal(laneAt(AXIS_H - 1, 0, 30), -1);
  assert.equal(laneAt(AXIS_H + 45, 0, 30), 1);
  assert.equal(laneAt(AXIS_H + 45, 300, 30), 11);
});

test("zooming about the pointer keeps the time under it in place; spans stay in bounds", () => {
  const z = zoomAt(view, 0.5, -300);
  assert.ok(z.span < view.span);
  assert.equal(z.end - z.span + 0.5 * z.span, 5000);
  assert.equal(zoomAt({ ...view, span: MIN_SPAN }, 0.5, -5000).span, MIN_SPAN);
  assert.equal(withView(view, { span: MAX_SPAN * 10 }).span, MAX_SPAN);
  assert.equal(zoomAt({ ...view, follow: true }, 0.95, 100).follow, true, "zooming at the live edge keeps following");
  assert.equal(zoomAt({ ...view, follow: true }, 0.5, 100).follow, false);
  const half = zoomBy(view, 0.5);
  assert.equal(half.span, 5000);
  assert.equal(half.end - half.span / 2, view.end - view.span / 2, "zoom buttons keep the middle");
});

test("a drag moves the axis with the pointer and stops following now", () => {
  const p = panBy({ ...view, follow: true }, 10_000, 100, 1000);
  assert.equal(p.end, 9000);
  assert.equal(p.follow, false);
  assert.equal(followNow({ ...view, follow: true }, 50_000).end, 50_000 + view.span * 0.04);
  assert.equal(followNow(view, 50_000).end, view.end);
});

test("all shows every event and now, following", () => {
  const v = fitAll(1000, 5000, 9000);
  assert.ok(v.end - v.span <= 1000 && v.end >= 9000);
  assert.equal(v.follow, true);
});

test("axis ticks fall on round values of a step that leaves room for labels", () => {
  assert.equal(niceStep(60_000, 1100), 10_000);
  assert.equal(niceStep(3_600_000, 1100), 600_000);
  assert.deepEqual(axisTicks(1001, 4000, 1000, 0), [2000, 3000, 4000]);
  // local time: an hour offset moves the round values with it
  assert.deepEqual(axisTicks(0, 7_200_000, 3_600_000, -1_800_000), [1_800_000, 5_400_000]);
});
