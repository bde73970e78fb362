// The Metrics tab's series: stored minutes and live ticks merged, uPlot's columns, state marks, words.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Sample, StateEvent } from "@corral/core";
import { alignHosts, bytes, columns, formatValue, keepLast, lastValue, memoryText, mergeSeries, sparkPaths, stateMarks } from "../src/lib/metrics-series.ts";

const s = (t: number, cpu: number | null, mem: number | null = null, memLimit: number | null = null): Sample =>
  ({ t, cpu, mem, memPeak: null, memLimit, oomKills: null, ioRead: null, ioWrite: null, netRx: null, netTx: null, pids: null });

test("mergeSeries: stored points, then only the live ticks after them, within the span, in order", () => {
  const stored = [s(60_000, 1), s(120_000, 2)];
  const live = [s(100_000, 9), s(122_000, 3), s(124_000, 4)];
  assert.deepEqual(mergeSeries(stored, live, 0).map((x) => [x.t, x.cpu]), [[60_000, 1], [120_000, 2], [122_000, 3], [124_000, 4]]);
  assert.deepEqual(mergeSeries(stored, live, 121_000).map((x) => x.t), [122_000, 124_000]);
  assert.deepEqual(mergeSeries([], live, 0).map((x) => x.t), [100_000, 122_000, 124_000]);
});

test("columns: x in seconds for uPlot, then one column a field with its gaps", () => {
  assert.deepEqual(columns([s(2000, 5, 10), s(4000, null, 12)], ["cpu", "mem"]), [[2, 4], [5, null], [10, 12]]);
});

test("lastValue and keepLast", () => {
  assert.equal(lastValue([s(1, 3), s(2, null)], "cpu"), 3);
  assert.equal(lastValue([], "cpu"), null);
  assert.deepEqual(keepLast([1, 2, 3, 4], 2), [3, 4]);
});

test("stateMarks: the state changes inside the graphs' time axis", () => {
  const ev = (seq: number, at: number, state: StateEvent["state"]): StateEvent => ({ seq, container: "a", state, at, cause: { actor: "x" }, detail: {} });
  assert.deepEqual(stateMarks([ev(1, 5, "STARTING"), ev(2, 15, "RUNNING"), ev(3, 30, "STOPPED")], 10, 20), [{ t: 15, state: "RUNNING" }]);
});

test("figures in words: bytes in binary units, rates, %, memory against its limit", () => {
  assert.equal(bytes(512), "512 B");
  assert.equal(bytes(1536), "1.5 KiB");
  assert.equal(bytes(64 * 1024 * 1024), "64 MiB");
  assert.equal(formatValue(12.345, "%"), "12.3 %");
  assert.equal(formatValue(2048, "bytes/s"), "2.0 KiB/s");
  assert.equal(formatValue(null, "%"), "-");
  assert.equal(formatValue(7, ""), "7");
  assert.equal(memoryText(s(0, 0, 16 * 1024 * 1024, 64 * 1024 * 1024)), "16 MiB of 64 MiB (25 %)");
  assert.equal(memoryText(s(0, 0, 1024, null)), "1.0 KiB (no limit)");
  assert.match(memoryText(s(0, 0)), /not measured/);
});

test("alignHosts: every host's points on one time axis, null where a host has none", () => {
  const a = [s(2000, 1), s(4000, 2)];
  const b = [s(3000, 7, 100)];
  assert.deepEqual(alignHosts([a, b], "cpu"), [[2, 3, 4], [1, null, 2], [null, 7, null]]);
  assert.deepEqual(alignHosts([a, b], "mem"), [[2, 3, 4], [null, null, null], [null, 100, null]]);
  assert.deepEqual(alignHosts([], "cpu"), [[]]);
});

test("a sparkline's paths: x over the samples' span, y from 0 to the largest value, a null breaks the line", () => {
  const { line, area } = sparkPaths([0, 10, 20, 30], [0, 50, null, 100], 48, 18);
  assert.equal(line, "M0.0,18.0L16.0,9.0M48.0,0.0");
  assert.equal(area, "M0.0,18.0L16.0,9.0L16.0,18L0.0,18ZM48.0,0.0L48.0,18L48.0,18Z");
  // an idle container lies flat at the bottom (the range is at least 0 to 1)
  assert.equal(sparkPaths([0, 1], [0, 0], 48, 18).line, "M0.0,18.0L48.0,18.0");
  assert.deepEqual(sparkPaths([], [], 48, 18), { line: "", area: "" });
});
