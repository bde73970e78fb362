// NEEDS ROOT: starts real containers under a temporary lxcpath and drives them with the real LXC
// tools (Debian's lxc 5.0.2: lxc-monitor, lxc-wait, lxc-info, lxc-stop) through corral's monitor
// FIFO and command sockets. Without root it fails; it does not skip.
//   cd apps/agent && node --import tsx --test test/root/lxc-tools.test.ts
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile, execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { dirname } from "node:path";
import { promisify } from "node:util";
import { decodeWaitStatus, stateNumber } from "@corral/core";
import { nativeSyscalls } from "../../src/sys/native.ts";
import { createContainer } from "../../src/containers/create.ts";
import { LxcPath } from "../../src/containers/lxcpath.ts";
import { Runtime, type StateChange } from "../../src/runtime/runtime.ts";
import { MonitorFifo, monitorFifoPath } from "../../src/lxc/monitor.ts";
import { CommandSockets } from "../../src/lxc/commands.ts";
import { runtimeCommandTarget } from "../../src/lxc/broadcast.ts";
import { assertNothingLeft, requireRoot } from "./harness.ts";
import { nodeHost } from "../../src/host/node-host.ts";

const run = promisify(execFile);
const suffix = randomBytes(3).toString("hex");
const A = `tools-a-${suffix}`;
const B = `tools-b-${suffix}`;
const C = `tools-c-${suffix}`;
/** a container with a memory limit and a veth, for lxc-info's statistics */
const D = `tools-d-${suffix}`;
const BRIDGE = `ctools${suffix}`.slice(0, 15);
/** a container with two ttys */
const E = `tools-e-${suffix}`;
/** an unprivileged container (lxc.idmap) */
const U = `tools-u-${suffix}`;

let lxcpath: LxcPath;
let runtime: Runtime;
let sockets: CommandSockets;
const monitors: ChildProcess[] = [];
const socketErrors: string[] = [];
/** every state change the runtime reported */
const changes: StateChange[] = [];

/** A tool run as the test's user; never rejects, so a failing tool shows its output in the assert. */
async function tool(cmd: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  const t0 = Date.now();
  try {
    const { stdout, stderr } = await run(cmd, ["-P", lxcpath.root, ...args], { timeout: 30_000 });
    return { code: 0, stdout, stderr, ms: Date.now() - t0 };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string; message: string };
    return { code: typeof err.code === "number" ? err.code : -1, stdout: err.stdout ?? "", stderr: err.stderr ?? err.message, ms: Date.now() - t0 };
  }
}

/** lxc-monitor for one container; its output collects in `out.text`. */
async function monitor(name: string): Promise<{ text: string }> {
  const out = { text: "" };
  const child = spawn("lxc-monitor", ["-P", lxcpath.root, "-n", name], { stdio: ["ignore", "pipe", "pipe"] });
  monitors.push(child);
  child.stdout.on("data", (d: Buffer) => (out.text += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out.text += d.toString()));
  // lxc-monitor starts lxc-monitord, which makes the FIFO, then connects to it.
  await until(() => existsSync(monitorFifoPath(lxcpath.root)), 5000, "lxc-monitord's FIFO");
  await sleep(500);
  return out;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function until(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

before(() => {
  requireRoot();
  lxcpath = new LxcPath(mkdtempSync("/tmp/corral-lxc-tools-"));
  for (const name of [A, B, C]) createContainer(lxcpath, { name, template: "host" });
  // A run that was killed leaves its bridge, and a second one holding 10.252.0.0/24 breaks the pings.
  execFileSync("sh", ["-c", "for b in $(ip -o -4 addr show to 10.252.0.0/24 | awk '{print $2}'); do case \"$b\" in ctools*) ip link del \"$b\";; esac; done"]);
  execFileSync("sh", ["-c", `ip link add ${BRIDGE} type bridge && ip addr add 10.252.0.1/24 dev ${BRIDGE} && ip link set ${BRIDGE} up`]);
  createContainer(lxcpath, { name: E, template: "busybox", config: "lxc.tty.max = 2\n" });
  createContainer(lxcpath, { name: U, template: "busybox", config: "lxc.idmap = u 0 100000 65536\nlxc.idmap = g 0 100000 65536\n" });
  createContainer(lxcpath, {
    name: D,
    template: "busybox",
    config: [
      "lxc.cgroup2.memory.max = 256M", "lxc.net.0.type = veth", `lxc.net.0.link = ${BRIDGE}`, "lxc.net.0.name = eth0",
      "lxc.net.0.ipv4.address = 10.252.0.2/24", "lxc.net.0.flags = up", "",
    ].join("\n"),
  });
  const fifo = new MonitorFifo(nativeSyscalls, lxcpath.root);
  // The wiring the agent does: the socket is up before STARTING is told (lxc_init serves it before
  // lxc_set_state), every state reaches both, and the socket goes after STOPPED was told.
  const sink = (c: StateChange) => {
    changes.push(c);
    if (c.state === "STARTING") sockets.open(c.container);
    fifo.sendState(c.container, stateNumber(c.state));
    sockets.stateChanged(c.container, c.state);
    if (c.state === "STOPPED") {
      if (c.detail.exitStatus !== undefined) fifo.sendExitCode(c.container, c.detail.exitStatus);
      sockets.close(c.container);
    }
  };
  runtime = new Runtime(nativeSyscalls, nodeHost, lxcpath, sink);
  sockets = new CommandSockets(nativeSyscalls, lxcpath.root, runtimeCommandTarget(() => runtime), (name, e) => socketErrors.push(`${name}: ${e.message}`));
});

after(async () => {
  for (const m of monitors) m.kill();
  execFileSync("sh", ["-c", `ip link del ${BRIDGE} 2>/dev/null || true`]);
  for (const name of [A, B, C, D, E, U]) {
    if (runtime.state(name) !== "STOPPED") await runtime.stop(name, { cause: { actor: "test" }, timeoutMs: 0 }).catch(() => {});
  }
  sockets.closeAll();
  runtime.close();
  rmSync(lxcpath.root, { recursive: true, force: true });
  // lxc-monitord's directory under /run/lxc (it ends by itself once no lxc-monitor is left).
  rmSync(dirname(monitorFifoPath(lxcpath.root)), { recursive: true, force: true });
});

test("the config corral writes loads in liblxc: lxc-info says STOPPED", async () => {
  const r = await tool("lxc-info", "-n", A, "-s");
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^State:\s+STOPPED$/m);
});

test("lxc-monitor, lxc-wait, lxc-info and lxc-stop -k on a running container", async () => {
  const mon = await monitor(A);
  // Started before the container: lxc-wait retries each second while nobody serves the socket.
  const waitRunning = tool("lxc-wait", "-n", A, "-s", "RUNNING", "-t", "20");
  await sleep(300);
  const status = await runtime.start(A, { cause: { actor: "test" }, command: ["sleep", "300"], console: "pty" });
  assert.equal(status.state, "RUNNING");
  const pid = status.pid!;

  const w = await waitRunning;
  assert.equal(w.code, 0, w.stderr);
  // Already RUNNING: answered at once.
  const again = await tool("lxc-wait", "-n", A, "-s", "RUNNING|FROZEN", "-t", "5");
  assert.equal(again.code, 0, again.stderr);

  const info = await tool("lxc-info", "-n", A, "-s", "-p");
  assert.equal(info.code, 0, info.stderr);
  assert.match(info.stdout, /^State:\s+RUNNING$/m);
  assert.match(info.stdout, new RegExp(`^PID:\\s+${pid}$`, "m"));

  // The full lxc-info also asks for statistics: A has no limits, so it is in none of the v1
  // hierarchies lxc-info reads, and no network. It must end, and the container must not notice.
  const full = await tool("lxc-info", "-n", A);
  assert.equal(full.code, 0, full.stderr);
  assert.match(full.stdout, /^State:\s+RUNNING$/m);
  assert.equal(runtime.state(A), "RUNNING");

  const waitStopped = tool("lxc-wait", "-n", A, "-s", "STOPPED", "-t", "20");
  // Only a state message can satisfy this one: a bare close reads as STOPPED, which it does not want.
  const waitStopping = tool("lxc-wait", "-n", A, "-s", "STOPPING", "-t", "20");
  await sleep(300);
  const stop = await tool("lxc-stop", "-n", A, "-k");
  assert.equal(stop.code, 0, stop.stderr);
  assert.equal(runtime.state(A), "STOPPED");
  const exit = decodeWaitStatus(runtime.status(A).lastExit!.status);
  assert.deepEqual(exit, { signaled: true, signal: 9, coreDumped: false });
  for (const waited of [await waitStopped, await waitStopping]) assert.equal(waited.code, 0, waited.stderr);

  const after = await tool("lxc-info", "-n", A, "-s", "-p");
  assert.equal(after.code, 0, after.stderr);
  assert.match(after.stdout, /^State:\s+STOPPED$/m);
  assert.doesNotMatch(after.stdout, /PID:/);
  // Stopped: lxc-wait -s STOPPED answers without a socket; lxc-stop says "not running" (exit 2).
  assert.equal((await tool("lxc-wait", "-n", A, "-s", "STOPPED", "-t", "5")).code, 0);
  assert.equal((await tool("lxc-stop", "-n", A, "-k")).code, 2);

  await until(() => /changed state to \[STOPPED\]/.test(mon.text), 5000, `lxc-monitor to print STOPPED; it printed:\n${mon.text}`);
  assert.match(mon.text, new RegExp(`'${A}' changed state to \\[STARTING\\]`));
  assert.match(mon.text, new RegExp(`'${A}' changed state to \\[RUNNING\\]`));
  assert.match(mon.text, new RegExp(`'${A}' changed state to \\[STOPPING\\]`));
  assert.match(mon.text, new RegExp(`'${A}' changed state to \\[STOPPED\\]`));
});

test("lxc-stop -t 2 (no -k) on an init that ignores the halt signal: SIGPWR, then LXC_CMD_STOP after 2 s", async () => {
  // sleep as a PID namespace's init has no SIGPWR handler, so the kernel drops the halt signal;
  // lxc-stop waits its 2 s on its state client, then falls back to the kill (lxc-stop.c).
  await runtime.start(B, { cause: { actor: "test" }, command: ["sleep", "300"], console: "pty" });
  const stop = await tool("lxc-stop", "-n", B, "-t", "2");
  assert.equal(stop.code, 0, stop.stderr);
  assert.ok(stop.ms >= 1900, `lxc-stop took ${stop.ms} ms, should have waited for the halt`);
  assert.equal(runtime.state(B), "STOPPED");
  assert.deepEqual(decodeWaitStatus(runtime.status(B).lastExit!.status), { signaled: true, signal: 9, coreDumped: false });
});

test("lxc-stop -t 10 (no -k) on an init that handles SIGPWR: it exits by itself and lxc-stop hears STOPPED", async () => {
  await runtime.start(C, { cause: { actor: "test" }, command: ["/bin/sh", "-c", "trap 'exit 7' PWR; sleep 300 & wait"], console: "pty" });
  // Let sh install its trap before the signal comes.
  await sleep(300);
  const log = `${lxcpath.root}/lxc-stop.log`;
  const stop = await tool("lxc-stop", "-n", C, "-t", "10", "-l", "trace", "-o", log);
  assert.equal(stop.code, 0, stop.stderr);
  // it returned on the STOPPED it was sent, not at the end of its own 10 s wait
  assert.ok(stop.ms < 10_000, `lxc-stop waited out its timeout (${stop.ms} ms): it never heard STOPPED`);
  // GET_INIT_PIDFD: the halt signal went through a pidfd, which cannot hit a recycled pid
  assert.match(readFileSync(log, "utf8"), /Sent signal 30 to pidfd \d+/);
  assert.equal(runtime.state(C), "STOPPED");
  assert.deepEqual(decodeWaitStatus(runtime.status(C).lastExit!.status), { exited: true, code: 7 });
});

test("lxc-info shows the memory use of a container with a memory limit, and its veth's traffic", async () => {
  await runtime.start(D, { cause: { actor: "test" }, command: ["/bin/sh", "-c", "ping -c 2 -i 0.2 10.252.0.1; echo pinged; sleep 300"], console: "pty" });
  await until(() => runtime.consoleHistory(D).toString().includes("pinged"), 10_000, "the pings");
  const info = await tool("lxc-info", "-n", D);
  assert.equal(info.code, 0, info.stderr);
  assert.match(info.stdout, /^IP:\s+10\.252\.0\.2$/m);
  assert.match(info.stdout, /^Memory use:\s+[\d.]+ (bytes|KiB|MiB)$/m);
  const veth = runtime.runningConfigItem(D, "lxc.net.0.veth.pair")!;
  assert.ok(veth, "the running config names the host end");
  assert.match(info.stdout, new RegExp(`^Link:\\s+${veth}$`, "m"));
  // two pings each way: the counters are not zero
  assert.match(info.stdout, /^ TX bytes:\s+[1-9][\d.]* (bytes|KiB)$/m);
  assert.match(info.stdout, /^ RX bytes:\s+[1-9][\d.]* (bytes|KiB)$/m);
  await runtime.stop(D, { cause: { actor: "test" }, timeoutMs: 0 });
  assert.equal(runtime.runningConfigItem(D, "lxc.net.0.veth.pair"), undefined);
});

test("lxc-attach runs a command in the container's namespaces and cgroups, and an abort ends it", async () => {
  await runtime.start(D, { cause: { actor: "test" }, command: ["sleep", "300"], console: "pty" });
  const attach = await tool("lxc-attach", "-n", D, "--", "/bin/sh", "-c", "hostname; echo pid1=$(cat /proc/1/comm); cat /proc/self/cgroup");
  assert.equal(attach.code, 0, attach.stderr);
  assert.match(attach.stdout, new RegExp(`^${D}$`, "m"));
  assert.match(attach.stdout, /^pid1=sleep$/m);
  // In the container's cgroup namespace, rooted at its cgroups: LXC's attach puts itself in a
  // ".lxc" leaf under the v2 one, and in the v1 ones (a cgroup outside the root would read "/..")
  assert.match(attach.stdout, /^0::\/\.lxc$/m);
  if (runtime.cgroupOf(D)!.pathFor("memory")) assert.match(attach.stdout, /^\d+:memory:\/$/m);

  // a process attached for good is in the cgroup the abort kills, and the cgroup goes with it
  const long = spawn("lxc-attach", ["-P", lxcpath.root, "-n", D, "--", "sleep", "301"], { stdio: "ignore" });
  const ended = new Promise<number | null>((resolve) => long.on("exit", (code, signal) => resolve(code ?? (signal ? -1 : null))));
  const attached = () =>
    runtime.cgroupOf(D)!.dirs
      .map((dir) => `${dir}/.lxc/cgroup.procs`)
      .filter((file) => existsSync(file))
      .flatMap((file) => readFileSync(file, "utf8").split("\n").filter(Boolean));
  await until(() => attached().length > 0, 5000, "the attached sleep in lxc-attach's leaf cgroup");
  await runtime.abort(D, { actor: "test" });
  assert.equal(runtime.state(D), "STOPPED");
  assert.notEqual(await ended, 0);
});

/** lxc-console on `name` (tty `tty`, or its default), output collected, once it says it is connected. */
async function lxcConsole(name: string, tty?: number) {
  const child = spawn("lxc-console", ["-P", lxcpath.root, "-n", name, ...(tty === undefined ? [] : ["-t", String(tty)])], { stdio: ["pipe", "pipe", "pipe"] });
  const out = { text: "" };
  for (const s of [child.stdout, child.stderr]) s.on("data", (d: Buffer) => (out.text += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  await until(() => /Connected to tty \d/.test(out.text), 5000, `lxc-console to connect; it printed:\n${out.text}`);
  return { child, out, exited };
}

test("an unprivileged container: lxc-attach enters as root inside (host uid 100000), lxc-info and lxc-stop work", async () => {
  const status = await runtime.start(U, { cause: { actor: "test" }, command: ["sleep", "300"], console: "pty" });
  const attach = await tool("lxc-attach", "-n", U, "--", "/bin/sh", "-c", "id -u; cat /proc/self/uid_map; awk '/^Uid/ {print $2}' /proc/self/status");
  assert.equal(attach.code, 0, attach.stderr);
  const [uid, map] = attach.stdout.split("\n");
  assert.equal(uid, "0");
  assert.match(map ?? "", /^\s*0\s+100000\s+65536$/);
  assert.equal(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${status.pid!}/status`, "utf8"))?.[1], "100000");
  const info = await tool("lxc-info", "-n", U, "-s", "-p");
  assert.equal(info.code, 0, info.stderr);
  assert.match(info.stdout, /^State:\s+RUNNING$/m);
  assert.match(info.stdout, new RegExp(`^PID:\\s+${status.pid!}$`, "m"));
  const stop = await tool("lxc-stop", "-n", U, "-k");
  assert.equal(stop.code, 0, stop.stderr);
  assert.equal(runtime.state(U), "STOPPED");
});

test("lxc-console -t 0 types into the console and shows it; Ctrl+a q leaves; a stop lets a client go", async () => {
  await runtime.start(D, { cause: { actor: "test" }, command: ["/bin/sh"], console: "pty" });
  const first = await lxcConsole(D, 0);
  first.child.stdin.write("echo con$((6*7))sole\n");
  await until(() => first.out.text.includes("con42sole"), 5000, `the shell's answer; lxc-console printed:\n${first.out.text}`);
  first.child.stdin.write("\x01q");
  assert.equal(await first.exited, 0);
  assert.equal(runtime.state(D), "RUNNING");
  assert.match(runtime.consoleHistory(D).toString(), /con42sole/);

  const second = await lxcConsole(D, 0);
  await runtime.stop(D, { cause: { actor: "test" }, timeoutMs: 0 });
  const gone = await Promise.race([second.exited.then(() => true), sleep(5000).then(() => false)]);
  if (!gone) second.child.kill();
  assert.ok(gone, "lxc-console still attached 5 s after the container stopped");
});

test("lxc.tty.max: lxc-console takes the first free tty, one client a tty, and gives it back on leaving", async () => {
  await runtime.start(E, { cause: { actor: "test" }, command: ["/bin/sh", "-c", 'echo ready > /dev/tty1; read line < /dev/tty1; echo "tty1 said ${line}X"; sleep 300'], console: "pty" });
  const first = await lxcConsole(E);
  assert.match(first.out.text, /Connected to tty 1/);
  await until(() => first.out.text.includes("ready"), 5000, `what the container wrote on tty1; lxc-console printed:\n${first.out.text}`);
  first.child.stdin.write("foo\n");
  await until(() => runtime.consoleHistory(E).toString().includes("tty1 said fooX"), 5000, "the line typed on tty1 to reach the container");
  // tty1 is lent: asking for it again is refused; tty3 does not exist
  for (const tty of ["1", "3"]) {
    const refused = await tool("lxc-console", "-n", E, "-t", tty);
    assert.notEqual(refused.code, 0, `lxc-console -t ${tty}`);
    assert.match(refused.stderr, /Denied access to tty/);
  }
  first.child.stdin.write("\x01q");
  assert.equal(await first.exited, 0);
  // given back: tty1 can be had again
  const again = await lxcConsole(E, 1);
  again.child.stdin.write("\x01q");
  assert.equal(await again.exited, 0);
  await runtime.stop(E, { cause: { actor: "test" }, timeoutMs: 0 });
});

test("lxc-freeze and lxc-unfreeze: the container's freezer, and corral records FREEZING, FROZEN, THAWED, RUNNING", async () => {
  await runtime.start(A, { cause: { actor: "test" }, command: ["sleep", "300"], console: "pty" });
  const seen = changes.length;
  const freeze = await tool("lxc-freeze", "-n", A);
  assert.equal(freeze.code, 0, freeze.stderr);
  assert.equal(runtime.state(A), "FROZEN");
  assert.ok(runtime.cgroupOf(A)!.isFrozen(), "the cgroup is frozen");
  assert.match((await tool("lxc-info", "-n", A, "-s")).stdout, /^State:\s+FROZEN$/m);
  const unfreeze = await tool("lxc-unfreeze", "-n", A);
  assert.equal(unfreeze.code, 0, unfreeze.stderr);
  assert.equal(runtime.state(A), "RUNNING");
  assert.ok(!runtime.cgroupOf(A)!.isFrozen());
  const recorded = changes.slice(seen).filter((c) => c.container === A);
  assert.deepEqual(recorded.map((c) => c.state), ["FREEZING", "FROZEN", "THAWED", "RUNNING"]);
  assert.deepEqual(recorded.map((c) => c.cause.request), ["lxc-freeze", "lxc-freeze", "lxc-unfreeze", "lxc-unfreeze"]);
  // a notice the cgroup does not bear out changes nothing
  runtime.noteFreezer(A, "FROZEN", { actor: "test" });
  assert.equal(runtime.state(A), "RUNNING");
  await runtime.stop(A, { cause: { actor: "test" }, timeoutMs: 0 });
});

test("nothing is left: sockets closed, runtime closed, no cgroup, veth or mount", async () => {
  sockets.closeAll();
  runtime.close();
  assert.deepEqual(socketErrors, []);
  for (const name of [A, B, C, D, E]) assertNothingLeft(name, lxcpath.rootfs(name, lxcpath.load(name).config));
  // With the sockets gone, the tools see the containers as stopped.
  const info = await tool("lxc-info", "-n", C, "-s");
  assert.match(info.stdout, /^State:\s+STOPPED$/m);
});
