import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeWaitStatus, encodeWaitStatus, exitCodeFromWaitStatus, shellExitCode } from "../src/index.ts";

test("wait status decoding follows <sys/wait.h>", () => {
  assert.deepEqual(decodeWaitStatus(0), { exited: true, code: 0 });
  assert.deepEqual(decodeWaitStatus(3 << 8), { exited: true, code: 3 });
  assert.deepEqual(decodeWaitStatus(9), { signaled: true, signal: 9, coreDumped: false });
  assert.deepEqual(decodeWaitStatus(0x80 | 11), { signaled: true, signal: 11, coreDumped: true });
  assert.deepEqual(decodeWaitStatus((19 << 8) | 0x7f), { stopped: true, signal: 19 });
  assert.deepEqual(decodeWaitStatus(0xffff), { continued: true });
});

test("shell exit codes", () => {
  assert.equal(shellExitCode(0), 0);
  assert.equal(shellExitCode(255 << 8), 255);
  assert.equal(shellExitCode(2), 130); // SIGINT: a halt from inside a PID namespace
  assert.equal(shellExitCode(1), 129); // SIGHUP: a reboot
  assert.equal(exitCodeFromWaitStatus(encodeWaitStatus({ signal: 9 })), 137);
  assert.equal(shellExitCode(encodeWaitStatus({ code: 42 })), 42);
});
