// The words the CLI and the dashboard both show.
import { test } from "node:test";
import assert from "node:assert/strict";
import { encodeWaitStatus, exitShort, uptime } from "../src/index.ts";

test("uptime: whole units, and none for a stopped container whatever its last start", () => {
  const now = 1_000_000_000;
  assert.equal(uptime(now - 42_000, now), "42 s");
  assert.equal(uptime(now - 192_000, now), "3m 12s");
  assert.equal(uptime(now - 5 * 3600_000 - 120_000, now), "5h 02m");
  assert.equal(uptime(now - 76 * 3600_000, now), "3d 4h");
  assert.equal(uptime(now - 42_000, now, "STOPPED"), "-");
  assert.equal(uptime(undefined, now, "RUNNING"), "-");
});

test("exitShort: a code, or the signal and the shell's 128 + N", () => {
  assert.equal(exitShort(encodeWaitStatus({ code: 3 }), 3), "exit 3");
  assert.equal(exitShort(encodeWaitStatus({ signal: 9 }), 137), "SIGKILL (137)");
  assert.equal(exitShort(undefined, undefined), "-");
});
