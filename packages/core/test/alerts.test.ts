// The alert rules: which events and samples raise which alerts, and which raise none.
import { test } from "node:test";
import assert from "node:assert/strict";
import { AlertRules, type AlertDraft, type EventDetail, type Sample, type SampleTick, type StateEvent, type StateName } from "../src/index.ts";

let seq = 0;
function ev(container: string, state: StateName, detail: EventDetail = {}): StateEvent {
  seq += 1;
  return { seq, container, state, at: 1000 + seq, cause: { actor: "test" }, detail };
}

/** The one alert raised. */
function one(alerts: AlertDraft[]): AlertDraft {
  const first = alerts.at(0);
  assert.ok(first && alerts.length === 1, `one alert expected, got ${JSON.stringify(alerts)}`);
  return first;
}

const kinds = (rules: AlertRules, e: StateEvent) => rules.onEvent(e).map((a) => a.kind);

test("stops that end badly raise their alert; asked-for and clean ones raise none", () => {
  const rules = new AlertRules();
  assert.deepEqual(kinds(rules, ev("a", "STOPPED", { stop: { reason: "exited", code: 1 } })), ["abnormal-stop"]);
  assert.deepEqual(kinds(rules, ev("a", "STOPPED", { stop: { reason: "exited", code: 0 } })), []);
  assert.deepEqual(kinds(rules, ev("a", "STOPPED", { stop: { reason: "killed-outside", signal: "SIGKILL" } })), ["abnormal-stop"]);
  assert.deepEqual(kinds(rules, ev("a", "STOPPED", { stop: { reason: "halted" } })), []);
  assert.deepEqual(kinds(rules, ev("a", "STOPPED", { stop: { reason: "rebooted" } })), []);
  assert.deepEqual(kinds(rules, ev("a", "STOPPED", { stop: { reason: "stopped", actor: "u", signal: "SIGPWR" } })), []);
  const oom = one(rules.onEvent(ev("a", "STOPPED", { stop: { reason: "oom-killed", oomKills: 1, signal: "SIGKILL" } })));
  assert.equal(oom.kind, "oom-killed");
  assert.equal(oom.severity, "critical");
  assert.match(oom.message, /OOM/);
  assert.deepEqual(oom.detail.stop, { reason: "oom-killed", oomKills: 1, signal: "SIGKILL" });
  // an older STOPPED without detail.stop but with its failed start's error
  const failed = one(rules.onEvent(ev("a", "STOPPED", { error: { step: "clone", message: "EPERM" } })));
  assert.equal(failed.kind, "start-failed");
  assert.match(failed.message, /clone: EPERM/);
  assert.deepEqual(kinds(rules, ev("a", "RUNNING")), []);
});

test("a stop through corral that ended in SIGKILL after a halt's timeout needed a kill; an abort did not", () => {
  const rules = new AlertRules();
  assert.deepEqual(kinds(rules, ev("b", "STOPPING", { signal: "SIGPWR", timeoutMs: 5000 })), []);
  const killed = one(rules.onEvent(ev("b", "STOPPED", { signal: "SIGKILL", stop: { reason: "stopped", actor: "u", signal: "SIGKILL" } })));
  assert.equal(killed.kind, "stop-needed-kill");
  assert.equal(killed.detail.timeoutMs, 5000);
  // the halt worked
  rules.onEvent(ev("b", "STOPPING", { signal: "SIGPWR", timeoutMs: 5000 }));
  assert.deepEqual(kinds(rules, ev("b", "STOPPED", { stop: { reason: "stopped", actor: "u", signal: "SIGPWR" } })), []);
  // no halt signal handled: SIGKILL at once (timeoutMs 0), as an abort
  rules.onEvent(ev("b", "STOPPING", { signal: "SIGKILL", timeoutMs: 0 }));
  assert.deepEqual(kinds(rules, ev("b", "STOPPED", { stop: { reason: "stopped", actor: "u", signal: "SIGKILL" } })), []);
  // the STOPPING of another run is not carried into the next one
  assert.deepEqual(kinds(rules, ev("b", "STOPPED", { stop: { reason: "stopped", actor: "u", signal: "SIGKILL" } })), []);
});

test("flapping raises one alert an episode, in place of each failed restart's", () => {
  const rules = new AlertRules();
  const failing = { stop: { reason: "exited" as const, code: 1 } };
  assert.deepEqual(kinds(rules, ev("c", "STOPPED", failing)), ["abnormal-stop"]);
  const flap = one(rules.onEvent(ev("c", "STOPPED", { ...failing, flapping: true, restarts: 6 })));
  assert.equal(flap.kind, "flapping");
  assert.match(flap.message, /6 restarts/);
  assert.equal(flap.detail.restarts, 6);
  assert.deepEqual(kinds(rules, ev("c", "STOPPED", { ...failing, flapping: true, restarts: 7 })), []);
  assert.deepEqual(kinds(rules, ev("c", "STOPPED", { stop: { reason: "exited", code: 0 } })), []);
  assert.deepEqual(kinds(rules, ev("c", "STOPPED", { ...failing, flapping: true, restarts: 1 })), ["flapping"]);
  // another container's flapping is its own
  assert.deepEqual(kinds(rules, ev("d", "STOPPED", { ...failing, flapping: true })), ["flapping"]);
});

function sample(t: number, mem: number | null, memLimit: number | null): Sample {
  return { t, cpu: 0, mem, memPeak: mem, memLimit, oomKills: 0, ioRead: null, ioWrite: null, netRx: null, netTx: null, pids: 1 };
}
function tick(t: number, containers: Record<string, [number | null, number | null]>): SampleTick {
  const cs = Object.fromEntries(Object.entries(containers).map(([n, [m, l]]) => [n, sample(t, m, l)]));
  return { t, host: sample(t, null, null), containers: cs };
}

test("memory above the share of its limit for the whole duration raises one alert, again only after it went below", () => {
  const rules = new AlertRules({ share: 0.9, forMs: 6000 });
  const at = (t: number, mem: number | null, limit: number | null = 100) => rules.onTick(tick(t, { m: [mem, limit] }));
  assert.deepEqual(at(0, 95), []);
  assert.deepEqual(at(2000, 96), []);
  assert.deepEqual(at(4000, 50), []); // below: the count starts again
  assert.deepEqual(at(6000, 91), []);
  assert.deepEqual(at(10000, 92), []);
  const raised = one(at(12000, 93));
  assert.equal(raised.kind, "memory-high");
  assert.equal(raised.detail.since, 6000);
  assert.match(raised.message, /93 % of its memory limit for 6 s/);
  assert.deepEqual(at(20000, 99), []); // told once
  assert.deepEqual(at(22000, 10), []);
  assert.deepEqual(at(24000, 95), []);
  assert.equal(at(30000, 95).length, 1);
  // no limit, no memory figure, or exactly at the share: never
  assert.deepEqual(at(40000, 95, null), []);
  assert.deepEqual(at(50000, null), []);
  for (const t of [60000, 70000, 80000]) assert.deepEqual(at(t, 90), []);
});

test("a container that leaves the ticks (stopped) starts its memory count again", () => {
  const rules = new AlertRules({ share: 0.5, forMs: 4000 });
  rules.onTick(tick(0, { m: [60, 100] }));
  rules.onTick(tick(2000, {}));
  assert.deepEqual(rules.onTick(tick(4000, { m: [60, 100] })), []);
  assert.equal(rules.onTick(tick(8000, { m: [60, 100] })).length, 1);
});
