// The operator's view, pure parts: what the URL keeps (and what it drops when malformed), the
// stop timeout as typed, the keys of the tabs and of the container grid, the countdown of a stop
// or a reboot, and the state colours (distinct, each chip's ink readable on it).
import assert from "node:assert/strict";
import { test } from "node:test";
import { STATE_NAMES, type StateEvent } from "@corral/core";
import { containersQuery, parseContainersView, parseStopTimeout, parseTimelineView, plural, timelineQuery } from "../src/lib/view-url.ts";
import { rowAfterKey, tabAfterKey } from "../src/lib/keys.ts";
import { countdownOf } from "../src/lib/countdown.ts";
import { STATE_COLOR, STATE_INK } from "../src/lib/states.ts";
import { describeEvent } from "../src/lib/format.ts";

test("a containers view survives its URL: selection, tab, filters and time range", () => {
  const view = { selected: { agent: "local", name: "web-1" }, tab: "console" as const, filter: "web", stateFilter: "RUNNING" as const, range: { span: 60_000, end: 1_764_640_000_000 } };
  const q = containersQuery(view);
  assert.equal(q, "c=local%2Fweb-1&tab=console&q=web&state=RUNNING&span=60000&end=1764640000000");
  assert.deepEqual(parseContainersView(new URLSearchParams(q)), view);
  // Next's searchParams shape too, repeated keys taking the first
  assert.deepEqual(parseContainersView({ c: ["local/a", "local/b"], tab: "audit" }).selected, { agent: "local", name: "a" });
  // a plain view is a plain URL
  assert.equal(containersQuery({ selected: null, tab: "timeline", filter: "", stateFilter: "" }), "");
});

test("a malformed view in the URL is dropped, not fatal", () => {
  const v = parseContainersView(new URLSearchParams("c=nonsense&tab=shell&state=ASLEEP&span=-5&end=x"));
  assert.deepEqual(v, { selected: null, tab: "timeline", filter: "", stateFilter: "", range: undefined });
  assert.equal(parseContainersView(new URLSearchParams("span=100")).range, undefined, "below the minimum span");
  assert.deepEqual(parseContainersView(new URLSearchParams("span=900000&end=12")).range, { span: 900_000 }, "an end before 2000 follows now");
  for (const s of STATE_NAMES) assert.equal(parseContainersView({ state: s }).stateFilter, s);
});

test("a timeline view survives its URL: filter, lane and range (following now without an end)", () => {
  const view = { filter: "lane-0", lane: { agent: "local", name: "lane-007" }, range: { span: 900_000 } };
  const q = timelineQuery(view);
  assert.equal(q, "q=lane-0&lane=local%2Flane-007&span=900000");
  assert.deepEqual(parseTimelineView(new URLSearchParams(q)), view);
});

test("the stop timeout as typed: whole seconds within 0..3600, else nothing", () => {
  assert.equal(parseStopTimeout("6"), 6);
  assert.equal(parseStopTimeout("2.6"), 3);
  assert.equal(parseStopTimeout("-4"), 0);
  assert.equal(parseStopTimeout("99999"), 3600);
  assert.equal(parseStopTimeout(""), undefined);
  assert.equal(parseStopTimeout("soon"), undefined);
  assert.equal(parseStopTimeout(null), undefined);
});

test("counts are worded in the singular and plural", () => {
  assert.equal(plural(1, "container"), "1 container");
  assert.equal(plural(0, "container"), "0 containers");
  assert.equal(plural(50_000, "event"), "50,000 events");
});

test("the tabs' keys wrap around; the grid's stop at its ends", () => {
  assert.equal(tabAfterKey("timeline", "ArrowRight"), "metrics");
  assert.equal(tabAfterKey("metrics", "ArrowRight"), "console");
  assert.equal(tabAfterKey("audit", "ArrowRight"), "timeline");
  assert.equal(tabAfterKey("timeline", "ArrowLeft"), "audit");
  assert.equal(tabAfterKey("config", "Home"), "timeline");
  assert.equal(tabAfterKey("console", "End"), "audit");
  assert.equal(tabAfterKey("console", "a"), undefined);
  assert.equal(rowAfterKey(0, 3, "ArrowDown"), 1);
  assert.equal(rowAfterKey(2, 3, "ArrowDown"), 2);
  assert.equal(rowAfterKey(0, 3, "ArrowUp"), 0);
  assert.equal(rowAfterKey(1, 3, "End"), 2);
  assert.equal(rowAfterKey(2, 3, "Home"), 0);
  assert.equal(rowAfterKey(0, 0, "ArrowDown"), undefined);
  assert.equal(rowAfterKey(0, 3, "Enter"), undefined);
});

const ev = (state: StateEvent["state"], at: number, detail: StateEvent["detail"], request = "stop --timeout 6"): StateEvent => ({ seq: 1, container: "c", state, at, cause: { actor: "dashboard:admin", request }, detail });

test("a stop's countdown: from the halt signal to the kill", () => {
  const stop = ev("STOPPING", 1000, { signal: "SIGPWR", timeoutMs: 6000, killAt: 7000 });
  const c = countdownOf("STOPPING", stop, 4000);
  assert.deepEqual(c, { reboot: false, signal: "SIGPWR", at: 1000, killAt: 7000, left: 3000, fraction: 0.5 });
  assert.equal(countdownOf("STOPPING", stop, 9000)?.left, 0);
  assert.equal(countdownOf("STOPPED", stop, 4000), null, "over once the container stopped");
  // an init that ended by itself is not a countdown
  assert.equal(countdownOf("STOPPING", ev("STOPPING", 1000, { exitStatus: 0, exitCode: 0 }), 2000), null);
});

test("a reboot the agent records when asked shows its countdown, worded as a reboot", () => {
  const reboot = ev("STOPPING", 1000, { signal: "SIGINT", reboot: true, timeoutMs: 10_000, killAt: 11_000 }, "reboot");
  const c = countdownOf("STOPPING", reboot, 2000);
  assert.ok(c);
  assert.equal(c.reboot, true);
  assert.equal(c.signal, "SIGINT");
  assert.equal(c.left, 9000);
  assert.equal(describeEvent(reboot).summary, "reboot: SIGINT sent; kill after 10 s");
  // as the agent records a reboot that the init asked for, after the fact
  assert.match(describeEvent(ev("STOPPING", 1000, { exitStatus: 0, exitCode: 0, reboot: true }, "reboot")).summary, /^init asked for a reboot/);
});

function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255).map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4)) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
const contrast = (a: string, b: string) => {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
};

test("every state has a colour of its own, and its chip's words are readable on it (WCAG AA)", () => {
  assert.equal(new Set(STATE_NAMES.map((s) => STATE_COLOR[s])).size, STATE_NAMES.length);
  for (const s of STATE_NAMES) assert.ok(contrast(STATE_COLOR[s], STATE_INK[s]) >= 4.5, `${s}: ${contrast(STATE_COLOR[s], STATE_INK[s]).toFixed(2)}:1`);
});
