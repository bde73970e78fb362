import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { encodeWaitStatus, selfStopCause, stopOf, stopReason, stopWords } from "../src/index.ts";

const killed = (signal: number) => encodeWaitStatus({ signal });
const exited = (code: number) => encodeWaitStatus({ code });

describe("stopReason", () => {
  it("an init that exits by itself: exited, with its code", () => {
    assert.deepEqual(stopReason({ status: exited(3), oomKills: 0 }), { reason: "exited", code: 3 });
  });
  it("SIGKILL with an OOM kill in the cgroup: oom-killed, named by the kernel, not the init", () => {
    const stop = stopReason({ status: killed(9), oomKills: 1 });
    assert.deepEqual(stop, { reason: "oom-killed", oomKills: 1, signal: "SIGKILL" });
    assert.equal(selfStopCause(stop).actor, "kernel");
    assert.equal(stopWords(stop), "OOM-killed");
  });
  it("SIGKILL that corral did not send and no OOM kill: killed-outside, never blamed on the init", () => {
    const stop = stopReason({ status: killed(9), oomKills: 0 });
    assert.deepEqual(stop, { reason: "killed-outside", signal: "SIGKILL" });
    assert.equal(selfStopCause(stop).actor, "outside corral");
    assert.equal(stopWords(stop), "killed by SIGKILL from outside corral");
  });
  it("a run corral was asked to end: stopped, with who asked, however the init died", () => {
    const asked = { cause: { actor: "dashboard:admin", request: "stop" }, restart: false };
    assert.deepEqual(stopReason({ status: killed(9), asked, oomKills: 0 }), { reason: "stopped", actor: "dashboard:admin", request: "stop", signal: "SIGKILL" });
  });
  it("a reboot asked through corral, and the init's own reboot (SIGHUP) and halt (SIGINT)", () => {
    assert.deepEqual(stopReason({ status: killed(9), asked: { cause: { actor: "op" }, restart: true }, oomKills: 0 }), { reason: "rebooted", actor: "op" });
    assert.deepEqual(stopReason({ status: killed(1), oomKills: 0 }), { reason: "rebooted" });
    assert.deepEqual(stopReason({ status: killed(2), oomKills: 0 }), { reason: "halted" });
  });
  it("stopOf reads an event's stop, or an older event's failed start", () => {
    assert.deepEqual(stopOf({ stop: { reason: "exited", code: 0 } }), { reason: "exited", code: 0 });
    assert.deepEqual(stopOf({ error: { step: "clone", message: "EPERM" } }), { reason: "start-failed", step: "clone", message: "EPERM" });
    assert.equal(stopOf({}), undefined);
  });
});
