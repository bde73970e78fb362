// What an init does with a signal, read from /proc/PID/status, and the halt signal LXC would send.
import { test } from "node:test";
import assert from "node:assert/strict";
import { haltSignal, initHandles, parseSignalMasks, SIGPWR, SIGRTMIN_3, signalName } from "../src/index.ts";

// /proc/1/status of systemd 252 in a container: it blocks what it reads from a signalfd
// (SIGHUP, SIGINT, SIGTERM, SIGCHLD, SIGPWR, SIGWINCH and real-time signals among them; read here)
// and catches almost nothing.
const SYSTEMD = "Name:\tsystemd\nSigQ:\t0/95236\nSigPnd:\t0000000000000000\nShdPnd:\t0000000000000000\n" +
  "SigBlk:\t7fe3c0fe28014a03\nSigIgn:\t0000000000001000\nSigCgt:\t00000000000004ec\n";
// a shell that traps SIGPWR: caught, nothing blocked
const SH_TRAP_PWR = "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000004\nSigCgt:\t0000000020010002\n";

test("an init that blocks a signal (signalfd) or catches it handles it; one that ignores it does not", () => {
  const systemd = parseSignalMasks(SYSTEMD);
  assert.equal(initHandles(systemd, SIGRTMIN_3), true);
  assert.equal(initHandles(systemd, 2 /* SIGINT */), true);
  const sh = parseSignalMasks(SH_TRAP_PWR);
  assert.equal(initHandles(sh, SIGPWR), true);
  assert.equal(initHandles(sh, 15 /* SIGTERM */), false);
  assert.equal(initHandles(sh, 3 /* SIGQUIT, ignored */), false);
  assert.equal(initHandles(parseSignalMasks(""), SIGPWR), false);
});

test("the halt signal: lxc.signal.halt, else SIGRTMIN+3 to an init that blocks it, else SIGPWR", () => {
  assert.equal(signalName(haltSignal(undefined, parseSignalMasks(SYSTEMD))), "SIGRTMIN+3");
  assert.equal(haltSignal(undefined, parseSignalMasks(SH_TRAP_PWR)), SIGPWR);
  assert.equal(haltSignal(15, parseSignalMasks(SYSTEMD)), 15);
  assert.equal(haltSignal(undefined, parseSignalMasks("")), SIGPWR);
});
