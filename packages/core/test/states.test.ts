import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ContainerState,
  STATE_NAMES,
  actionRefusal,
  allowedActions,
  canTransition,
  checkAction,
  guardStop,
  stateName,
  stateNumber,
  type Action,
  type StateName,
} from "../src/index.ts";

test("state numbers are LXC's", () => {
  assert.deepEqual(ContainerState, {
    STOPPED: 0, STARTING: 1, RUNNING: 2, STOPPING: 3, ABORTING: 4, FREEZING: 5, FROZEN: 6, THAWED: 7,
  });
  for (const name of STATE_NAMES) assert.equal(stateName(stateNumber(name)), name);
  assert.equal(stateName(8), undefined);
  assert.equal(stateName(-1), undefined);
  assert.equal(stateName(1.5), undefined);
});

test("transitions follow start.c's paths", () => {
  const cases: Array<[StateName, StateName, boolean]> = [
    ["STOPPED", "STARTING", true],
    ["STARTING", "RUNNING", true],
    ["STARTING", "ABORTING", true],
    ["ABORTING", "STOPPING", true],
    ["RUNNING", "STOPPING", true],
    ["STOPPING", "STOPPED", true],
    ["RUNNING", "FREEZING", true],
    ["FREEZING", "FROZEN", true],
    ["FROZEN", "THAWED", true],
    ["THAWED", "RUNNING", true],
    ["STOPPED", "RUNNING", false],
    ["STOPPED", "STOPPING", false],
    ["RUNNING", "STARTING", false],
    ["FROZEN", "RUNNING", false],
    ["STOPPED", "STOPPED", false],
  ];
  for (const [from, to, expected] of cases) assert.equal(canTransition(from, to), expected, `${from} -> ${to}`);
});

// Each row: action, then the states in which it is allowed ("noop" marks an idempotent repeat).
const TABLE: Array<[Action, Partial<Record<StateName, "ok" | "noop">>]> = [
  ["start", { STOPPED: "ok" }],
  ["stop", { STARTING: "ok", RUNNING: "ok", STOPPING: "noop", FREEZING: "ok", FROZEN: "ok", THAWED: "ok" }],
  ["abort", { STARTING: "ok", RUNNING: "ok", STOPPING: "ok", ABORTING: "noop", FREEZING: "ok", FROZEN: "ok", THAWED: "ok" }],
  ["reboot", { RUNNING: "ok" }],
  ["freeze", { RUNNING: "ok" }],
  ["unfreeze", { FROZEN: "ok" }],
  ["delete", { STOPPED: "ok" }],
];

test("action guards, as a table", () => {
  for (const [action, allowed] of TABLE) {
    for (const state of STATE_NAMES) {
      const verdict = checkAction(action, state);
      const expected = allowed[state];
      const label = `${action} in ${state}`;
      if (expected === undefined) {
        assert.equal(verdict.ok, false, label);
        assert.match(actionRefusal(action, state) ?? "", new RegExp(state), label);
      } else {
        assert.deepEqual(verdict, { ok: true, noop: expected === "noop" }, label);
        assert.equal(actionRefusal(action, state), null, label);
      }
    }
  }
});

test("refusals read well", () => {
  assert.match(actionRefusal("start", "RUNNING") ?? "", /already running/);
  assert.match(guardStop("STOPPED") ?? "", /not running/);
  assert.match(actionRefusal("delete", "RUNNING") ?? "", /stopped/);
  assert.match(actionRefusal("unfreeze", "RUNNING") ?? "", /not frozen/);
});

test("allowedActions", () => {
  assert.deepEqual(allowedActions("STOPPED"), ["start", "delete"]);
  assert.deepEqual(allowedActions("RUNNING"), ["stop", "abort", "reboot", "freeze"]);
  assert.deepEqual(allowedActions("FROZEN"), ["stop", "abort", "unfreeze"]);
  assert.deepEqual(allowedActions("STOPPING"), ["stop", "abort"]);
});
