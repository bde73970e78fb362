import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decideRestart, DEFAULT_RESTART_POLICY, FLAPPING, NO_HISTORY, type RestartHistory, type StopReason } from "../src/index.ts";

const onFailure = { ...DEFAULT_RESTART_POLICY, policy: "on-failure" as const, maxRestarts: 3, backoffMs: 100, maxBackoffMs: 350 };
const failed: StopReason = { reason: "exited", code: 1 };

describe("decideRestart", () => {
  it("never restarts with the policy never", () => {
    assert.equal(decideRestart(DEFAULT_RESTART_POLICY, failed, 0, NO_HISTORY, 0).restart, false);
  });
  it("on-failure: restarts a failure with a doubling wait, up to its limit, then gives up", () => {
    let h: RestartHistory = NO_HISTORY;
    const waits: number[] = [];
    for (let i = 0; i < 4; i++) {
      const d = decideRestart(onFailure, failed, 50, h, i * 1000);
      if (d.restart) waits.push(d.delayMs);
      else assert.equal(d.gaveUp, true);
      h = d.history;
    }
    assert.deepEqual(waits, [100, 200, 350]);
  });
  it("on-failure: a clean exit or a stop through corral is not restarted", () => {
    assert.equal(decideRestart(onFailure, { reason: "exited", code: 0 }, 50, NO_HISTORY, 0).restart, false);
    assert.equal(decideRestart(onFailure, { reason: "stopped", actor: "op" }, 50, NO_HISTORY, 0).restart, false);
  });
  it("a run that stayed up a while starts the count again", () => {
    const d = decideRestart(onFailure, failed, 60_000, { restarts: 3, abnormal: [] }, 0);
    assert.deepEqual([d.restart, d.delayMs, d.history.restarts], [true, 100, 1]);
  });
  it("always: restarts a clean exit and a halt, not a stop asked through corral", () => {
    const always = { ...onFailure, policy: "always" as const };
    assert.equal(decideRestart(always, { reason: "exited", code: 0 }, 50, NO_HISTORY, 0).restart, true);
    assert.equal(decideRestart(always, { reason: "halted" }, 50, NO_HISTORY, 0).restart, true);
    assert.equal(decideRestart(always, { reason: "stopped", actor: "op" }, 50, NO_HISTORY, 0).restart, false);
  });
  it(`flapping: ${FLAPPING.stops} abnormal stops within the window, whatever the policy; older ones fall out`, () => {
    let h: RestartHistory = NO_HISTORY;
    const marks: boolean[] = [];
    for (let i = 0; i < FLAPPING.stops; i++) {
      const d = decideRestart(DEFAULT_RESTART_POLICY, failed, 50, h, i * 1000);
      marks.push(d.flapping);
      h = d.history;
    }
    assert.deepEqual(marks, [false, false, true]);
    assert.equal(decideRestart(DEFAULT_RESTART_POLICY, failed, 50, h, FLAPPING.windowMs * 2).flapping, false);
  });
});
