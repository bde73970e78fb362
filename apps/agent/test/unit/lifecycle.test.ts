// The lifecycle's state machine without root: the runtime on FakeSyscalls and a FakeHost (files
// in memory, the child's sync socket driven by the test). Starts, failures injected at each step
// with the undo order, stop with its timeout, abort, reboot, freeze and recovery after a crash.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { encodeWaitStatus, ERRNO, SIGRTMIN_3, type StateName } from "@corral/core";
import { FakeHost, syncMessage, type FakeSocket } from "../../src/host/fake.ts";
import { createContainer } from "../../src/containers/create.ts";
import { LxcPath } from "../../src/containers/lxcpath.ts";
import { NotStored, Refusal, Runtime, type StateChange } from "../../src/runtime/runtime.ts";
import { newInstance } from "../../src/runtime/instance.ts";
import { StateJournal } from "../../src/runtime/journal.ts";
import { SyncMessage } from "../../src/runtime/sync.ts";
import { FakeSyscalls } from "../../src/sys/fake.ts";

const V2 = "/sys/fs/cgroup/unified";
const ROOTFS = "/fake/rootfs";
const CGROUP = `${V2}/corral-c1`;
const BOOT_ID = "/run/corral/boot-id/corral-c1";

let dir: string;
let sys: FakeSyscalls;
let host: FakeHost;
let changes: StateChange[];
let storeFull: boolean;
let runtime: Runtime;
/** a listener on every stored change, as a state client may be */
let onChange: ((c: StateChange) => void) | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "corral-lifecycle-"));
  sys = new FakeSyscalls();
  host = new FakeHost();
  host.files.dirs.add(V2);
  host.files.dirs.add(ROOTFS);
  // each runtime its own list: a late change of an earlier test's runtime cannot land in this one
  const mine: StateChange[] = (changes = []);
  storeFull = false;
  onChange = undefined;
  const lxcpath = new LxcPath(dir);
  createContainer(lxcpath, { name: "c1", config: `lxc.rootfs.path = dir:${ROOTFS}\nlxc.mount.auto = proc:mixed sys:mixed\n` });
  runtime = new Runtime(sys, host, lxcpath, (c) => {
    if (storeFull) throw new Error("database or disk is full");
    mine.push(c);
    onChange?.(c);
  }, [{ version: 2, mountPoint: V2, controllers: ["memory", "pids"] }]);
});
afterEach(() => {
  runtime.close();
  rmSync(dir, { recursive: true, force: true });
});

/** /proc/PID/status of an init that catches SIGINT (the reboot signal), as a system init does */
const CATCHES_SIGINT = "SigBlk:\t0\nSigIgn:\t0\nSigCgt:\t0000000000000002\n";

const states = (): StateName[] => changes.map((c) => c.state);
const cause = { actor: "test" };
const start = () => runtime.start("c1", { cause, console: "inherit" });

/** The init ends with `status` (what SIGCHLD then reaps); resolves once the run is STOPPED. */
async function initExits(status: number): Promise<void> {
  const before = changes.length;
  sys.exits.set(runtime.initPid("c1")!, status);
  process.emit("SIGCHLD", "SIGCHLD");
  await until(() => changes.slice(before).some((c) => c.state === "STOPPED"));
}

async function until(done: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out; states ${states().join(" ")}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** What the fake host's files say of the run's leftovers. */
function left(): string[] {
  return [CGROUP, BOOT_ID].filter((p) => host.files.exists(p));
}

describe("a start", () => {
  it("makes the cgroup and the boot id, clones into the cgroup, and is RUNNING once the child execs", async () => {
    await start();
    assert.deepEqual(states(), ["STARTING", "RUNNING"]);
    assert.equal(changes[0]!.detail.cgroup, "corral-c1", "STARTING names the cgroup before it is made");
    assert.deepEqual(left(), [CGROUP, BOOT_ID]);
    const spawn = sys.calls.find((c) => c.call === "spawn")!;
    assert.ok((spawn.args[4] as number) >= 0, "born in its cgroup v2 directory (CLONE_INTO_CGROUP)");
    assert.deepEqual(changes[1]!.detail.phases!.map((p) => p.name), ["network", "cgroup", "clone", "setup", "exec"]);
  });

  it("ends in STOPPED with the init's exit, and the run's cgroup and boot id go", async () => {
    await start();
    await initExits(encodeWaitStatus({ code: 3 }));
    assert.deepEqual(states(), ["STARTING", "RUNNING", "STOPPING", "STOPPED"]);
    assert.equal(changes.at(-1)!.detail.exitCode, 3);
    assert.deepEqual(changes.at(-1)!.cause, { actor: "init", request: "exited with code 3" });
    assert.deepEqual(left(), []);
  });

  it("an init the OOM killer killed ends OOM-killed, by the kernel; one killed from outside, by 'outside corral'", async () => {
    await start();
    host.files.files.set(`${CGROUP}/memory.events`, "low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\n");
    await initExits(encodeWaitStatus({ signal: 9 }));
    assert.deepEqual(changes.at(-1)!.detail.stop, { reason: "oom-killed", oomKills: 1, signal: "SIGKILL" });
    assert.equal(changes.at(-1)!.cause.actor, "kernel");
    await start();
    await initExits(encodeWaitStatus({ signal: 9 }));
    assert.deepEqual(changes.at(-1)!.detail.stop, { reason: "killed-outside", signal: "SIGKILL" });
    assert.deepEqual(changes.at(-1)!.cause, { actor: "outside corral", request: "killed by SIGKILL" });
  });

  it("a clone that fails (EPERM) undoes in reverse: boot id, then cgroup; ABORTING then STOPPED name the step", async () => {
    sys.failNext("spawn", ERRNO.EPERM);
    await assert.rejects(start(), /EPERM/);
    assert.deepEqual(states(), ["STARTING", "ABORTING", "STOPPED"]);
    assert.deepEqual(changes.at(-1)!.detail.error, changes[1]!.detail.error);
    assert.equal(changes[1]!.detail.error!.step, "clone");
    assert.equal(changes[1]!.detail.error!.errno, ERRNO.EPERM);
    const undo = host.files.log.filter((l) => /^(remove|rmdir) /.test(l));
    assert.deepEqual(undo, [`remove ${BOOT_ID}`, `rmdir ${CGROUP}`]);
    assert.deepEqual(left(), []);
  });

  it("an op that fails in the child names it and its errno; the child is killed and everything undone", async () => {
    host.streams.child = (socket: FakeSocket) => setImmediate(() => {
      socket.say(syncMessage(SyncMessage.Error, 3, ERRNO.ENOENT));
      socket.hangUp();
    });
    const starting = start();
    await until(() => runtime.initPid("c1") !== undefined || states().includes("ABORTING"));
    // the killed child is reaped before the cgroup can go
    sys.exits.set(runtime.initPid("c1")!, encodeWaitStatus({ signal: 9 }));
    process.emit("SIGCHLD", "SIGCHLD");
    await assert.rejects(starting, /ENOENT/);
    assert.equal(changes[1]!.detail.error!.step, "setup");
    assert.ok(sys.calls.some((c) => c.call === "kill" && c.args[1] === 9), "the child is killed");
    assert.deepEqual(left(), []);
  });

  it("a failing pre-start hook ends the start before anything is made, naming the hook", async () => {
    createContainer(new LxcPath(dir), { name: "h1", config: `lxc.rootfs.path = dir:${ROOTFS}\nlxc.hook.pre-start = /bin/false\n` });
    host.processes.answer = () => ({ code: 1, signal: null, timedOut: false, stderr: "no" });
    await assert.rejects(runtime.start("h1", { cause, console: "inherit" }), /pre-start "\/bin\/false": failed \(1\)/);
    assert.deepEqual(states(), ["STARTING", "ABORTING", "STOPPED"]);
    assert.equal(changes[1]!.detail.error!.step, "pre-start");
    assert.deepEqual(host.files.log, [], "nothing was made");
    assert.equal(sys.calls.filter((c) => c.call === "spawn").length, 0);
  });

  it("a network that cannot be set up (rtnetlink refused) fails at step network, before any cgroup", async () => {
    createContainer(new LxcPath(dir), { name: "n1", config: `lxc.rootfs.path = dir:${ROOTFS}\nlxc.net.0.type = veth\nlxc.net.0.link = br9\n` });
    sys.failNext("netlinkSocket", ERRNO.EPERM);
    await assert.rejects(runtime.start("n1", { cause, console: "inherit" }), /EPERM/);
    assert.deepEqual(states(), ["STARTING", "ABORTING", "STOPPED"]);
    assert.equal(changes[1]!.detail.error!.step, "network");
    assert.deepEqual(host.files.log, [], "no cgroup, no boot id");
    assert.equal(sys.calls.filter((c) => c.call === "spawn").length, 0);
  });

  it("a cgroup directory that cannot be made (EACCES) fails at step cgroup, with the boot id never written", async () => {
    host.files.failMkdir.set(CGROUP, "EACCES");
    await assert.rejects(start(), /EACCES/);
    assert.equal(changes[1]!.detail.error!.step, "cgroup");
    assert.deepEqual(left(), []);
    assert.equal(sys.calls.filter((c) => c.call === "spawn").length, 0);
  });

  it("an exec that fails (ENOENT) fails at step exec, and the run is undone", async () => {
    host.streams.child = (socket: FakeSocket) => setImmediate(() => {
      // the plan's last op is the exec: its index is the plan's length - 1
      const plan = sys.calls.find((c) => c.call === "spawn")!.args[0] as Uint8Array;
      socket.say(syncMessage(SyncMessage.Error, Buffer.from(plan).readUInt32LE(4) - 1, ERRNO.ENOENT));
      socket.hangUp();
    });
    const starting = start();
    await until(() => runtime.initPid("c1") !== undefined || states().includes("ABORTING"));
    sys.exits.set(runtime.initPid("c1")!, encodeWaitStatus({ code: 127 }));
    process.emit("SIGCHLD", "SIGCHLD");
    await assert.rejects(starting, /exec.*ENOENT/);
    assert.equal(changes[1]!.detail.error!.step, "exec");
    assert.deepEqual(left(), []);
  });

  it("a cgroup that cannot be made fails at step cgroup with nothing left", async () => {
    host.files.dirs.add(CGROUP); // taken: every name after it is tried, then one is free
    await start();
    assert.equal(changes[1]!.detail.cgroup, "corral-c1-1");
    await initExits(0);
    assert.ok(host.files.exists(CGROUP), "another's cgroup is left alone");
  });

  it("a start of a running container is refused and changes nothing", async () => {
    await start();
    await assert.rejects(start(), (e: Error) => e instanceof Refusal && /running/.test(e.message));
    assert.deepEqual(states(), ["STARTING", "RUNNING"]);
  });

  it("a cgroup key whose controller this host lacks is a bad request before STARTING, not a failed start", async () => {
    createContainer(new LxcPath(dir), { name: "io1", config: `lxc.rootfs.path = dir:${ROOTFS}\nlxc.cgroup2.io.weight = 100\n` });
    await assert.rejects(runtime.start("io1", { cause, console: "inherit" }), (e: Error) => e instanceof Refusal && e.code === "BAD_REQUEST" && /io\.weight/.test(e.message));
    assert.deepEqual(states(), []);
    assert.deepEqual(host.files.log, []);
  });

  it("a full store refuses the start before anything is made", async () => {
    storeFull = true;
    await assert.rejects(start(), NotStored);
    assert.equal(runtime.state("c1"), "STOPPED");
    assert.deepEqual(host.files.log, []);
    assert.equal(sys.calls.filter((c) => c.call === "spawn").length, 0);
  });
});

describe("a stop", () => {
  it("sends SIGRTMIN+3 to an init that blocks it (systemd), then kills after the timeout", async () => {
    await start();
    const pid = runtime.initPid("c1")!;
    host.files.files.set(`/proc/${pid}/status`, "SigBlk:\t7fe3c0fe28014a03\nSigIgn:\t0000000000001000\nSigCgt:\t00000000000004ec\n");
    const stopping = runtime.stop("c1", { cause, timeoutMs: 30 });
    assert.equal(changes.at(-1)!.state, "STOPPING");
    assert.equal(changes.at(-1)!.detail.signal, "SIGRTMIN+3");
    assert.deepEqual(sys.calls.filter((c) => c.call === "kill").map((c) => c.args), [[pid, SIGRTMIN_3]]);
    // it does not go down in time: SIGKILL
    await until(() => sys.calls.some((c) => c.call === "kill" && c.args[1] === 9));
    await initExits(encodeWaitStatus({ signal: 9 }));
    await stopping;
    assert.deepEqual(states().slice(-2), ["STOPPING", "STOPPED"]);
    assert.equal(changes.at(-1)!.cause.actor, "test");
  });

  it("kills at once an init that neither catches nor blocks the halt signal, and says so", async () => {
    await start();
    host.files.files.set(`/proc/${runtime.initPid("c1")}/status`, "SigBlk:\t0\nSigIgn:\t0\nSigCgt:\t0\n");
    const stopping = runtime.stop("c1", { cause, timeoutMs: 10_000 });
    assert.match(String(changes.at(-1)!.detail.note), /does not handle SIGPWR: killed at once/);
    assert.ok(sys.calls.some((c) => c.call === "kill" && c.args[1] === 9));
    await initExits(encodeWaitStatus({ signal: 9 }));
    await stopping;
  });

  it("a stop of a stopped container is refused and changes nothing", () => {
    assert.throws(() => runtime.stop("c1", { cause, timeoutMs: 0 }), Refusal);
    assert.deepEqual(states(), []);
  });
});

describe("abort, reboot, freeze", () => {
  it("an abort during STARTING undoes the start and tells the starter it was aborted", async () => {
    host.streams.child = () => {}; // the child never gets as far as exec
    const starting = start();
    await until(() => runtime.initPid("c1") !== undefined);
    const aborted = runtime.abort("c1", { actor: "test", request: "abort" });
    sys.exits.set(runtime.initPid("c1")!, encodeWaitStatus({ signal: 9 }));
    process.emit("SIGCHLD", "SIGCHLD");
    host.streams.sockets.at(-1)!.hangUp();
    await assert.rejects(starting, (e: Error) => e instanceof Refusal && e.code === "CONFLICT");
    await aborted;
    assert.deepEqual(states(), ["STARTING", "ABORTING", "STOPPED"]);
    assert.equal(changes.at(-1)!.detail.error!.step, "abort");
    assert.deepEqual(left(), []);
  });

  it("an init killed by SIGHUP (its reboot) starts again, recorded as a reboot", async () => {
    await start();
    const first = runtime.initPid("c1");
    await initExits(encodeWaitStatus({ signal: 1 }));
    await until(() => states().length === 6);
    assert.deepEqual(states(), ["STARTING", "RUNNING", "STOPPING", "STOPPED", "STARTING", "RUNNING"]);
    assert.equal(changes[3]!.detail.reboot, true);
    assert.notEqual(runtime.initPid("c1"), first);
  });

  it("whoever waits for a run that reboots itself finds the container starting again, not stopped (corral run stays in the run)", async () => {
    await start();
    const ended = runtime.waitForExit("c1").then(() => runtime.state("c1"));
    sys.exits.set(runtime.initPid("c1")!, encodeWaitStatus({ signal: 1 }));
    process.emit("SIGCHLD", "SIGCHLD");
    assert.equal(await ended, "STARTING");
    await until(() => states().length === 6);
  });

  it("corral reboot kills an init that does not handle SIGINT, then starts it again", async () => {
    await start();
    runtime.reboot("c1", { actor: "test", request: "reboot" });
    assert.ok(sys.calls.some((c) => c.call === "kill" && c.args[1] === 9));
    await initExits(encodeWaitStatus({ signal: 9 }));
    await until(() => states().length === 6);
    assert.equal(changes[4]!.cause.request, "reboot");
  });

  it("corral reboot says STOPPING at once (signal, kill time, the operator as cause), and the init's own reboot starts it again", async () => {
    await start();
    const pid = runtime.initPid("c1")!;
    host.files.files.set(`/proc/${pid}/status`, CATCHES_SIGINT);
    runtime.reboot("c1", { actor: "op", request: "reboot" }, 10_000);
    const stopping = changes.at(-1)!;
    assert.deepEqual([stopping.state, stopping.cause.actor], ["STOPPING", "op"]);
    assert.deepEqual([stopping.detail.reboot, stopping.detail.signal, stopping.detail.timeoutMs], [true, "SIGINT", 10_000]);
    assert.deepEqual(sys.calls.filter((c) => c.call === "kill").map((c) => c.args), [[pid, 2]]);
    await initExits(encodeWaitStatus({ signal: 1 })); // it reboots itself: reboot(2) is SIGHUP
    await until(() => states().length === 6);
    assert.deepEqual(states().slice(2), ["STOPPING", "STOPPED", "STARTING", "RUNNING"]);
    assert.equal(changes[4]!.cause.actor, "op");
  });

  it("a stop asked during a reboot keeps the container down", async () => {
    await start();
    host.files.files.set(`/proc/${runtime.initPid("c1")}/status`, CATCHES_SIGINT);
    runtime.reboot("c1", { actor: "op", request: "reboot" }, 10_000);
    const stopped = runtime.stop("c1", { cause: { actor: "op", request: "stop" }, timeoutMs: 10_000 });
    await initExits(encodeWaitStatus({ signal: 1 }));
    await stopped;
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(states(), ["STARTING", "RUNNING", "STOPPING", "STOPPED"]);
    assert.equal(changes.at(-1)!.cause.request, "stop");
    assert.equal(runtime.state("c1"), "STOPPED");
  });

  it("an abort of an abort waits for the first and records nothing twice", async () => {
    host.streams.child = () => {};
    const starting = start();
    await until(() => runtime.initPid("c1") !== undefined);
    const first = runtime.abort("c1", cause);
    const second = runtime.abort("c1", cause);
    sys.exits.set(runtime.initPid("c1")!, encodeWaitStatus({ signal: 9 }));
    process.emit("SIGCHLD", "SIGCHLD");
    host.streams.sockets.at(-1)!.hangUp();
    await assert.rejects(starting, Refusal);
    await Promise.all([first, second]);
    assert.deepEqual(states(), ["STARTING", "ABORTING", "STOPPED"]);
  });

  it("a stop while the init's own exit is being handled joins it: no second STOPPING, no signal", async () => {
    await start();
    let joined: Promise<void> | undefined;
    onChange = (c) => {
      if (c.state === "STOPPING") joined = runtime.stop("c1", { cause, timeoutMs: 0 });
    };
    await initExits(0);
    await joined;
    assert.deepEqual(states(), ["STARTING", "RUNNING", "STOPPING", "STOPPED"]);
    assert.equal(changes.at(-1)!.cause.actor, "init");
    assert.equal(sys.calls.filter((c) => c.call === "kill").length, 0);
  });

  it("a failed start runs the post-stop hooks, as lxc_end does", async () => {
    createContainer(new LxcPath(dir), { name: "p1", config: `lxc.rootfs.path = dir:${ROOTFS}\nlxc.hook.post-stop = /bin/cleanup\n` });
    sys.failNext("spawn", ERRNO.EPERM);
    await assert.rejects(runtime.start("p1", { cause, console: "inherit" }), /EPERM/);
    assert.deepEqual(host.processes.runs.map((r) => r.args.slice(3)), [["p1", "lxc", "post-stop"]]);
    assert.deepEqual(states(), ["STARTING", "ABORTING", "STOPPED"]);
  });

  it("freeze and unfreeze write the v2 freezer and record FREEZING, FROZEN, THAWED, RUNNING", async () => {
    await start();
    host.files.files.set(`${CGROUP}/cgroup.freeze`, "0");
    host.files.files.set(`${CGROUP}/cgroup.events`, "populated 1\nfrozen 1\n");
    await runtime.freeze("c1", cause);
    assert.deepEqual(sys.calls.filter((c) => c.call === "writeFile").map((c) => c.args).at(-1), [`${CGROUP}/cgroup.freeze`, "1"]);
    runtime.unfreeze("c1", cause);
    assert.deepEqual(states().slice(2), ["FREEZING", "FROZEN", "THAWED", "RUNNING"]);
  });
});

describe("after an agent crash", () => {
  it("a container recorded RUNNING loses its cgroup and boot id and is recorded STOPPED, with the agent as cause", async () => {
    host.files.dirs.add(CGROUP);
    host.files.files.set(BOOT_ID, "x\n");
    await runtime.recoverLeftover("c1", { cgroup: "corral-c1", cgroupMade: true, pid: 4242 }, { actor: "agent", request: "restart" });
    assert.deepEqual(left(), []);
    assert.deepEqual(states(), ["STOPPED"]);
    assert.equal(changes[0]!.detail.lostPid, 4242);
  });

  it("a cgroup only planned (STARTING) and now another's is left alone", async () => {
    host.files.dirs.add(CGROUP);
    host.files.dirs.add(`${CGROUP}/busy`);
    host.files.files.set(`${CGROUP}/busy/cgroup.procs`, "4321\n"); // someone's process runs in it
    await runtime.recoverLeftover("c1", { cgroup: "corral-c1", cgroupMade: false }, { actor: "agent" });
    assert.ok(host.files.exists(CGROUP));
  });
});

describe("the journal", () => {
  it("stores a change recorded while the sink runs after the one in hand, once, in order", () => {
    const stored: string[] = [];
    const inst = newInstance("j");
    const journal: StateJournal = new StateJournal((c) => {
      stored.push(c.state);
      // a listener that acts on what it is told, as a state client may
      if (c.state === "STOPPING") journal.record(inst, "STOPPED", cause);
    });
    journal.record(inst, "STOPPING", cause);
    journal.record(inst, "STARTING", cause);
    assert.deepEqual(stored, ["STOPPING", "STOPPED", "STARTING"]);
    journal.close();
  });
});
