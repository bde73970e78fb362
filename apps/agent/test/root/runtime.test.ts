// Root tests of the runtime: real namespaces, cgroups, mounts and veths. Needs root; fails without.
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { closeSync, openSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { decodeWaitStatus, shellExitCode } from "@corral/core";
import { assertNothingLeft, makeHarness, requireRoot, until, type Harness } from "./harness.ts";
import { nativeSyscalls } from "../../src/sys/native.ts";
import { NotStored, Refusal, Runtime, type StateChange } from "../../src/runtime/runtime.ts";
import { nodeHost } from "../../src/host/node-host.ts";
import { encodePlan } from "../../src/runtime/plan.ts";
import { SyncMessage } from "../../src/runtime/sync.ts";
import type { SyscallError } from "../../src/sys/syscalls.ts";

const REPO = join(import.meta.dirname, "../../../..");

let h: Harness;
before(() => {
  h = makeHarness();
});
after(() => h.dispose());

async function runToEnd(name: string, command: string[]): Promise<{ status: number; console: string }> {
  await h.runtime.start(name, { cause: { actor: "test" }, command });
  const status = await h.runtime.waitForExit(name);
  return { status, console: h.runtime.consoleHistory(name).toString("utf8") };
}

describe("a host-template container", () => {
  it("runs its init as PID 1 with its own hostname and only fds 0, 1, 2", async () => {
    h.create("iso");
    const { status, console } = await runToEnd("iso", ["sh", "-c", 'echo pid=$$; echo host=$(hostname); echo fds=$(ls /proc/self/fd | tr "\\n" " ")']);
    assert.equal(shellExitCode(status), 0, console);
    assert.match(console, /^pid=1\r?$/m);
    assert.match(console, /^host=iso\r?$/m);
    assert.match(console, /^fds=0 1 2 3\r?$/m);
    assert.deepEqual(h.states("iso"), ["STARTING", "RUNNING", "STOPPING", "STOPPED"]);
    assertNothingLeft("iso", h.lxcpath.dir("iso"));
  });

  it("runs in a cgroup namespace rooted at its own cgroup", async () => {
    h.create("cgns");
    const { status, console } = await runToEnd("cgns", ["sh", "-c", "grep '^0::' /proc/self/cgroup"]);
    assert.equal(shellExitCode(status), 0, console);
    assert.match(console, /^0::\/\r?$/m);
  });

  it("passes exit codes and deaths by signal through", async () => {
    h.create("codes");
    assert.equal(shellExitCode((await runToEnd("codes", ["sh", "-c", "exit 7"])).status), 7);
    await h.runtime.start("codes", { cause: { actor: "test" }, command: ["sleep", "100"] });
    await h.runtime.abort("codes", { actor: "test" });
    const last = h.changes.filter((c) => c.container === "codes").at(-1)!;
    assert.equal(last.state, "STOPPED");
    assert.deepEqual(decodeWaitStatus(last.detail.exitStatus!), { signaled: true, signal: 9, coreDumped: false });
    assert.equal(last.detail.exitCode, 137);
    assertNothingLeft("codes");
  });

  it("records the STARTING phases and the cause of each change", async () => {
    h.create("phases");
    await runToEnd("phases", ["true"]);
    const running = h.changes.find((c) => c.container === "phases" && c.state === "RUNNING")!;
    assert.deepEqual(running.detail.phases!.map((p) => p.name), ["network", "cgroup", "clone", "setup", "exec"]);
    assert.ok(running.detail.phases!.every((p) => Number.isFinite(p.ms) && p.ms >= 0), JSON.stringify(running.detail.phases));
    assert.equal(running.cause.actor, "test");
    // STARTING names the cgroup before it is made, so a restarted agent can clean up a cut-short start
    const starting = h.changes.find((c) => c.container === "phases" && c.state === "STARTING")!;
    assert.match(String(starting.detail.cgroup), /^corral-phases(-\d+)?$/);
    assert.equal(starting.detail.cgroup, running.detail.cgroup);
    const stopped = h.changes.filter((c) => c.container === "phases").at(-1)!;
    assert.equal(stopped.cause.actor, "init");
  });

  it("copies the console to lxc.console.logfile", async () => {
    const log = join(h.lxcpath.root, "console.log");
    h.create("logged", "host", `lxc.console.logfile = ${log}\n`);
    await runToEnd("logged", ["sh", "-c", "echo into-the-log"]);
    assert.match(readFileSync(log, "utf8"), /into-the-log/);
  });

  it("never hangs on an init that exits at once: 500 runs in a row", async () => {
    h.create("quick");
    for (let i = 0; i < 500; i++) {
      const status = await Promise.race([
        runToEnd("quick", ["/bin/true"]).then((r) => r.status),
        new Promise<number>((_, reject) => setTimeout(() => reject(new Error(`run ${i} stuck`)), 5000)),
      ]);
      assert.equal(status, 0, `run ${i}`);
    }
    assert.equal(h.states("quick").filter((s) => s === "STOPPED").length, 500);
    assertNothingLeft("quick");
  });
});

describe("failures after clone undo what was done", () => {
  it("a missing rootfs ends ABORTING then STOPPED, naming the step", async () => {
    h.create("norootfs", undefined, "lxc.rootfs.path = dir:/nonexistent/rootfs\n");
    await assert.rejects(h.runtime.start("norootfs", { cause: { actor: "test" } }), /rootfs \/nonexistent\/rootfs does not exist/);
    assert.deepEqual(h.states("norootfs"), ["STARTING", "ABORTING", "STOPPED"]);
    const aborting = h.changes.find((c) => c.container === "norootfs" && c.state === "ABORTING")!;
    assert.equal(aborting.detail.error?.step, "setup");
    assertNothingLeft("norootfs");
  });

  it("a mount that fails in the child names the op and its errno, and leaves no cgroup", async () => {
    h.create("badmount", undefined, "lxc.mount.entry = /nonexistent/source mnt none bind,create=dir 0 0\n");
    await assert.rejects(h.runtime.start("badmount", { cause: { actor: "test" } }), /mount entry \/nonexistent\/source on mnt.*ENOENT/);
    const aborting = h.changes.find((c) => c.container === "badmount" && c.state === "ABORTING")!;
    assert.equal(aborting.detail.error?.syscall, "mount");
    assert.equal(aborting.detail.error.errno, 2);
    assertNothingLeft("badmount");
  });

  it("an abort during STARTING undoes the start: ABORTING, STOPPED, and the next start works", async () => {
    h.create("early");
    const starting = h.runtime.start("early", { cause: { actor: "test" }, command: ["sleep", "30"] });
    await h.runtime.abort("early", { actor: "test", request: "abort" });
    // the start's caller hears a conflict with the abort, not a failure of its own
    await assert.rejects(starting, (e: Error) => e instanceof Refusal && e.code === "CONFLICT" && /the start was aborted \(test: abort\)/.test(e.message));
    assert.deepEqual(h.states("early"), ["STARTING", "ABORTING", "STOPPED"]);
    assert.equal(h.changes.at(-1)!.cause.request, "abort");
    assert.equal(h.changes.at(-1)!.detail.error?.step, "abort");
    assertNothingLeft("early");
    await h.runtime.start("early", { cause: { actor: "test" }, command: ["true"] });
    assert.equal(await h.runtime.waitForExit("early"), 0);
  });

  it("a seccomp profile that is not a regular file (a device that never ends) fails the start, read no further", async () => {
    h.create("seczero", "busybox", "lxc.seccomp.profile = /dev/zero\n");
    await assert.rejects(h.runtime.start("seczero", { cause: { actor: "test" }, command: ["true"] }), /seccomp profile \/dev\/zero: .*a character device, not a regular file/);
    assert.equal(h.runtime.state("seczero"), "STOPPED");
    assertNothingLeft("seczero");
  });

  it("a bad command fails at exec with ENOENT", async () => {
    h.create("nocmd");
    await assert.rejects(h.runtime.start("nocmd", { cause: { actor: "test" }, command: ["/no/such/binary"] }), /exec.*ENOENT/);
    assertNothingLeft("nocmd");
  });

  it("a /proc that is a symlink in the rootfs is refused", async () => {
    h.create("symproc");
    execFileSync("sh", ["-c", `rmdir ${h.lxcpath.dir("symproc")}/rootfs/proc && ln -s /etc ${h.lxcpath.dir("symproc")}/rootfs/proc`]);
    await assert.rejects(h.runtime.start("symproc", { cause: { actor: "test" }, command: ["true"] }), /ENOTDIR|EEXIST|ELOOP/);
    assertNothingLeft("symproc");
  });
});

describe("hooks", () => {
  it("runs lxc.hook.pre-start before and lxc.hook.post-stop after, on the host, with LXC's arguments and environment", async () => {
    const log = join(h.lxcpath.root, "hooks.log");
    const script = join(h.lxcpath.root, "hook.sh");
    writeFileSync(script, `#!/bin/sh\necho "$* $LXC_NAME $LXC_HOOK_TYPE $LXC_CONFIG_FILE" >> ${log}\n`, { mode: 0o755 });
    h.create("hooked", "host", `lxc.hook.pre-start = ${script}\nlxc.hook.post-stop = ${script}\n`);
    await runToEnd("hooked", ["true"]);
    const lines = readFileSync(log, "utf8").trim().split("\n");
    const config = h.lxcpath.configPath("hooked");
    assert.deepEqual(lines, [`hooked lxc pre-start hooked pre-start ${config}`, `hooked lxc post-stop hooked post-stop ${config}`]);
  });

  it("a failing pre-start hook aborts the start, naming the hook", async () => {
    h.create("badhook", "host", "lxc.hook.pre-start = exit 3\n");
    await assert.rejects(h.runtime.start("badhook", { cause: { actor: "test" }, command: ["true"] }), /lxc\.hook\.pre-start "exit 3": failed \(3\)/);
    assert.deepEqual(h.states("badhook"), ["STARTING", "ABORTING", "STOPPED"]);
    assert.equal(h.changes.find((c) => c.container === "badhook" && c.state === "ABORTING")!.detail.error?.step, "pre-start");
    assertNothingLeft("badhook");
  });

  it("refuses lxc.hook.start, which would have to run inside the container, and changes nothing", async () => {
    h.create("starthook", "host", "lxc.hook.start = /bin/true\n");
    await assert.rejects(h.runtime.start("starthook", { cause: { actor: "test" } }), /lxc\.hook\.start cannot be run by corral/);
    assert.deepEqual(h.states("starthook"), []);
  });
});

describe("halt and reboot from inside", () => {
  it("reboot -f starts the container again; poweroff -f stops it", async () => {
    h.create("rb", "busybox");
    const script = "if [ ! -f /root/rebooted ]; then touch /root/rebooted; reboot -f; fi; poweroff -f";
    await h.runtime.start("rb", { cause: { actor: "test" }, command: ["/bin/sh", "-c", script] });
    await h.waitFor("rb", "RUNNING", 2);
    await h.waitFor("rb", "STOPPED", 2);
    const stops = h.changes.filter((c) => c.container === "rb" && c.state === "STOPPED");
    assert.equal(stops[0]!.detail.reboot, true, "the first stop is a reboot (init killed by SIGHUP)");
    assert.equal(stops[0]!.detail.signal, "SIGHUP");
    assert.equal(stops[1]!.detail.signal, "SIGINT", "poweroff -f ends init with SIGINT");
    assert.equal(stops[1]!.detail.reboot, undefined);
    assert.deepEqual(h.states("rb"), ["STARTING", "RUNNING", "STOPPING", "STOPPED", "STARTING", "RUNNING", "STOPPING", "STOPPED"]);
    assertNothingLeft("rb");
  });
});

describe("cgroup limits", () => {
  it("a fork bomb stops at pids.max and the host is unharmed", async () => {
    h.create("bomb", "busybox", "lxc.cgroup2.pids.max = 16\n");
    // busybox sh gives up when a fork fails: the last count it printed is how many forks worked.
    const script = "i=1; while [ $i -lt 200 ]; do sleep 60 & echo forked=$i; i=$((i+1)); done";
    const { console } = await runToEnd("bomb", ["/bin/sh", "-c", script]);
    const forked = Math.max(...[...console.matchAll(/forked=(\d+)/g)].map((m) => Number(m[1])));
    assert.match(console, /can't fork/);
    assert.ok(forked >= 1 && forked < 16, `forks that worked: ${forked}`);
    assert.equal(execFileSync("sh", ["-c", "echo host-alive"], { encoding: "utf8" }).trim(), "host-alive");
    assertNothingLeft("bomb");
  });

  it("memory.max holds: a container that allocates past it is OOM-killed", async () => {
    h.create("mem", "busybox", "lxc.cgroup2.memory.max = 16M\n");
    const { status } = await runToEnd("mem", ["/bin/sh", "-c", "x=$(head -c 200000000 /dev/zero | tr '\\0' a); echo survived"]);
    assert.deepEqual(decodeWaitStatus(status), { signaled: true, signal: 9, coreDumped: false });
    assertNothingLeft("mem");
  });
});

describe("veth networking", () => {
  const bridge = "corraltest0";
  before(() => {
    execFileSync("sh", ["-c", `ip link del ${bridge} 2>/dev/null; ip link add ${bridge} type bridge && ip addr add 10.251.0.1/24 dev ${bridge} && ip -6 addr add fd77::1/64 dev ${bridge} nodad && ip link set ${bridge} up`]);
  });
  after(() => {
    execFileSync("sh", ["-c", `ip link del ${bridge} 2>/dev/null || true`]);
  });

  it("has its interface up with its IPv4 and IPv6 addresses, reaching the host end over the bridge", async () => {
    h.create("net", "busybox", [
      "lxc.net.0.type = veth", `lxc.net.0.link = ${bridge}`, "lxc.net.0.name = eth0", "lxc.net.0.hwaddr = 00:16:3e:xx:xx:xx",
      "lxc.net.0.mtu = 1400", "lxc.net.0.ipv4.address = 10.251.0.2/24 10.251.0.255", "lxc.net.0.ipv4.gateway = auto",
      "lxc.net.0.ipv6.address = fd77::2/64", "lxc.net.0.ipv6.gateway = auto", "lxc.net.0.flags = up", "",
    ].join("\n"));
    const command = ["/bin/sh", "-c", "ip addr show eth0; ip route; ip -6 route; ip link show lo; ping -c 1 -W 2 10.251.0.1 && ping -6 -c 1 -W 2 fd77::1; sleep 0.3"];
    await h.runtime.start("net", { cause: { actor: "test" }, command });
    // while it runs, the host end is up on the bridge
    const hostEnd = execFileSync("ip", ["-o", "link", "show", "master", bridge], { encoding: "utf8" });
    const status = await h.runtime.waitForExit("net");
    const console = h.runtime.consoleHistory("net").toString("utf8");
    assert.equal(shellExitCode(status), 0, console);
    assert.match(console, /inet 10\.251\.0\.2\/24 brd 10\.251\.0\.255/);
    assert.match(console, /eth0@\S+: <[^>]*UP[^>]*> mtu 1400/);
    assert.match(console, /link\/ether 00:16:3e:[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2} /);
    assert.match(console, /lo: <LOOPBACK,UP/);
    assert.match(console, /default via 10\.251\.0\.1/);
    assert.match(console, /inet6 fd77::2\/64 scope global/);
    assert.match(console, /default via fd77::1 dev eth0/);
    assert.equal(console.match(/1 packets received/g)?.length, 2, "both pings answered");
    assert.match(hostEnd, /veth[0-9a-f]{6}@.* mtu 1400 .*master corraltest0 .*state UP/);
    assertNothingLeft("net");
  });
});

describe("an empty network", () => {
  it("is a network namespace with lo only, raised with flags = up, as LXC does", async () => {
    h.create("emptyup", "busybox", "lxc.net.0.type = empty\nlxc.net.0.flags = up\n");
    h.create("emptydown", "busybox", "lxc.net.0.type = empty\n");
    const links = ["/bin/sh", "-c", "ip -o link show"];
    const up = await runToEnd("emptyup", links);
    const down = await runToEnd("emptydown", links);
    for (const { console } of [up, down]) assert.deepEqual(console.trim().split(/\r?\n/).map((l) => l.split(":")[1]!.trim()), ["lo"], console);
    assert.match(up.console, /lo: <LOOPBACK,UP/);
    assert.doesNotMatch(down.console, /lo: <[^>]*UP/);
    assertNothingLeft("emptyup");
  });
});

describe("veth networking failures", () => {
  it("a link that does not exist fails the start at step network, naming it, with nothing made", async () => {
    h.create("nobridge", "busybox", ["lxc.net.0.type = veth", "lxc.net.0.link = nosuchbr0", "lxc.net.0.ipv4.address = 10.250.0.2/24", ""].join("\n"));
    const links = execFileSync("ip", ["-o", "link"], { encoding: "utf8" }).split("\n").length;
    await assert.rejects(h.runtime.start("nobridge", { cause: { actor: "test" }, command: ["true"] }), /finding bridge nosuchbr0 \(lxc\.net\.0\.link\): ENODEV/);
    assert.equal(h.changes.find((c) => c.container === "nobridge" && c.state === "ABORTING")!.detail.error?.step, "network");
    assert.equal(execFileSync("ip", ["-o", "link"], { encoding: "utf8" }).split("\n").length, links);
    assertNothingLeft("nobridge");
  });

  it("a veth.pair name the host already uses fails with EEXIST, and the host's link stays", async () => {
    execFileSync("sh", ["-c", "ip link del corralclash0 2>/dev/null; ip link add corralclash0 type bridge"]);
    try {
      h.create("clash", "busybox", ["lxc.net.0.type = veth", "lxc.net.0.veth.pair = corralclash0", ""].join("\n"));
      await assert.rejects(h.runtime.start("clash", { cause: { actor: "test" }, command: ["true"] }), /creating the veth pair corralclash0: EEXIST/);
      const error = h.changes.find((c) => c.container === "clash" && c.state === "ABORTING")!.detail.error;
      assert.deepEqual([error?.step, error?.syscall, error?.errno], ["network", "netlink", 17]);
      assert.match(execFileSync("ip", ["-o", "link", "show", "corralclash0"], { encoding: "utf8" }), /corralclash0: .* link\/ether/);
      assertNothingLeft("clash");
    } finally {
      execFileSync("sh", ["-c", "ip link del corralclash0 2>/dev/null || true"]);
    }
  });
});

describe("corral run (the CLI, in the foreground)", () => {
  function cli(args: string[], onSpawn?: (pid: number) => void): Promise<{ code: number | null; out: string }> {
    return new Promise((resolve) => {
      // The corral command as users run it: bin/corral.mjs and its bundle.
      const child = spawn(process.execPath, [join(REPO, "apps/agent/bin/corral.mjs"), ...args], {
        cwd: REPO, env: { ...process.env, CORRAL_LXCPATH: h.lxcpath.root }, stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      child.stdout.on("data", (d) => (out += d));
      child.stderr.on("data", (d) => (out += d));
      child.on("exit", (code) => resolve({ code, out }));
      onSpawn?.(child.pid!);
    });
  }

  it("exits with the container's code, and SIGTERM sent to it reaches the init", async () => {
    requireRoot();
    assert.equal((await cli(["run", "--rm", "--template", "host", "--", "sh", "-c", "exit 7"])).code, 7);
    let pid = 0;
    const running = cli(["run", "--rm", "--template", "host", "--", "sh", "-c", 'trap "echo got TERM; exit 42" TERM; echo ready; while :; do sleep 0.1; done'], (p) => (pid = p));
    await new Promise((r) => setTimeout(r, 1500));
    process.kill(pid, "SIGTERM");
    const { code, out } = await running;
    assert.equal(code, 42, out);
    assert.match(out, /got TERM/);
    // An init killed by a signal: corral run exits 128 + N, as a shell would report it.
    let cliPid = 0;
    const killed = cli(["run", "--rm", "--template", "host", "--", "sleep", "30"], (p) => (cliPid = p));
    let initPid = "";
    await until(() => {
      try {
        initPid = execFileSync("pgrep", ["-P", String(cliPid), "sleep"], { encoding: "utf8" }).trim();
      } catch {
        initPid = "";
      }
      return initPid !== "";
    }, 10_000);
    process.kill(Number(initPid), "SIGKILL");
    assert.equal((await killed).code, 137);
    await until(() => !h.lxcpath.list().some((n) => n.startsWith("run-")));
  });
});

describe("Debian's common.conf", () => {
  it("a container that includes it starts, with its seccomp profile enforced and what corral leaves out named", async () => {
    h.create("common", "host", "lxc.include = /usr/share/lxc/config/common.conf\n");
    // common.seccomp answers umount2 with MNT_FORCE with EACCES (reject_force_umount); without
    // the profile the same forced umount of the container's private /tmp works.
    const script = ["sh", "-c", "umount -f /tmp; echo umount-exit=$?; test -f /sys/fs/cgroup/cgroup.procs && echo cgroup2-mounted"];
    h.create("nocommon", "host");
    assert.match((await runToEnd("nocommon", script)).console, /umount-exit=0/);
    const { status, console } = await runToEnd("common", script);
    assert.equal(shellExitCode(status), 0, console);
    assert.match(console, /umount-exit=32/);
    // its lxc.mount.auto = cgroup:mixed: the container's own cgroup2 tree on /sys/fs/cgroup
    if (h.runtime.hierarchies.some((hy) => hy.version === 2)) assert.match(console, /cgroup2-mounted/);
    const starting = h.changes.find((c) => c.container === "common" && c.state === "STARTING")!;
    const warnings = (starting.detail.warnings as string[]).join("\n");
    assert.match(warnings, /lxc\.hook\.clone/);
    assertNothingLeft("common");
  });
});

describe("a store that cannot take changes (a full disk)", () => {
  it("refuses a start with nothing changed, lets an exit and an abort through, and records them in order once it can", async () => {
    const stored: StateChange[] = [];
    let full = false;
    const runtime = new Runtime(nativeSyscalls, nodeHost, h.lxcpath, (c) => {
      if (full) throw new Error("database or disk is full");
      stored.push(c);
    });
    try {
      h.create("full");
      h.create("full2");
      await runtime.start("full", { cause: { actor: "test" }, command: ["sleep", "300"] });
      full = true;
      // a start adds work: refused, and the container stays as it was
      await assert.rejects(runtime.start("full2", { cause: { actor: "test" }, command: ["true"] }), NotStored);
      assert.equal(runtime.state("full2"), "STOPPED");
      // an abort always goes through (it frees what the container held); so does the init's end
      await runtime.abort("full", { actor: "test", request: "abort" });
      assert.equal(runtime.state("full"), "STOPPED");
      assert.deepEqual(stored.map((c) => c.state), ["STARTING", "RUNNING"], "nothing stored while the store is full");
      assertNothingLeft("full");
      // space returns: the waiting changes are stored, in order, with the times they happened
      full = false;
      await until(() => stored.length === 5, 5000);
      assert.deepEqual(stored.map((c) => c.state), ["STARTING", "RUNNING", "ABORTING", "STOPPING", "STOPPED"]);
      assert.ok(stored[2]!.at! <= stored[4]!.at!);
      await runtime.start("full2", { cause: { actor: "test" }, command: ["true"] });
      assert.equal(await runtime.waitForExit("full2"), 0);
    } finally {
      runtime.close();
    }
  });
});

describe("the native plan decoder", () => {
  // What the executor is handed is checked whole before anything is cloned: a plan that lies
  // about its counts or lengths is refused with EINVAL (or E2BIG), and nothing runs.
  const plan = encodePlan([
    { op: "mkdir", path: "/x", mode: 0o755, inRoot: false, why: "test" },
    { op: "exec", path: "/bin/true", argv: ["/bin/true", "a"], env: ["A=1"], why: "test" },
  ]);
  const spawnPlan = (bytes: Uint8Array) => {
    const [parent, child] = nativeSyscalls.socketpair();
    try {
      return nativeSyscalls.spawn(bytes, 0, child, parent, -1);
    } finally {
      nativeSyscalls.close(parent);
      nativeSyscalls.close(child);
    }
  };
  const refused = (bytes: Uint8Array, code = "EINVAL") => assert.throws(() => spawnPlan(bytes), (e: SyscallError) => e.code === code);

  it("refuses a plan cut short, at any point", () => {
    for (const at of [0, 4, 8, 12, 20, plan.length - 1]) refused(plan.subarray(0, at));
  });

  it("refuses a count of ops the bytes cannot hold, and bytes left over", () => {
    const lying = Uint8Array.from(plan);
    new DataView(lying.buffer).setUint32(4, 1000, true);
    refused(lying);
    refused(Uint8Array.from([...plan, 0]));
  });

  it("refuses a string whose length runs past the end or that lacks its NUL", () => {
    // the first op's first string: after magic, count, the op's three counts and its two ints
    const at = 8 + 12 + 2 * 8;
    const long = Uint8Array.from(plan);
    new DataView(long.buffer).setUint32(at, 1 << 20, true);
    refused(long);
    const unterminated = Uint8Array.from(plan);
    unterminated[at + 4 + 2] = 0x41;
    refused(unterminated);
  });
});

describe("a child's fds", () => {
  it("are 0-2 and its own, not a copy of every fd the agent holds", async () => {
    // The agent holds four fds a running container; a child that copied them all at clone closed
    // them all again at exec (spawn.c: the fd slots). Held here: 500 more, close-on-exec as Node's.
    const held = Array.from({ length: 500 }, () => openSync("/dev/null", "r"));
    const [parent, child] = nativeSyscalls.socketpair();
    const why = "test";
    // The child waits at a barrier before its exec: its fd table is looked at there.
    const plan = encodePlan([
      { op: "sync_wait", barrier: SyncMessage.PostConfigure, why },
      { op: "exec", path: "/bin/true", argv: ["/bin/true"], env: [], why },
    ]);
    const pid = nativeSyscalls.spawn(plan, 0, child, parent, -1);
    try {
      nativeSyscalls.close(child);
      const fds = () => readdirSync(`/proc/${pid}/fd`).map(Number).sort((a, b) => a - b);
      await until(() => fds().length <= 4, 2000).catch(() => undefined);
      const seen = fds();
      assert.ok(seen.length <= 4, `the child holds ${seen.length} fds: ${seen.slice(0, 20).join(" ")}…`);
      assert.deepEqual(seen.slice(0, 3), [0, 1, 2]);
    } finally {
      for (const fd of held) closeSync(fd);
      // its barrier sees our end close: it exits without running anything
      nativeSyscalls.close(parent);
      await until(() => nativeSyscalls.reap(pid) !== null, 2000);
      nativeSyscalls.release(pid);
    }
  });

  it("a container started while the agent holds many fds runs as any other (its console, its sync, its exec)", async () => {
    const held = Array.from({ length: 500 }, () => openSync("/dev/null", "r"));
    try {
      h.create("manyfds");
      const { status, console } = await runToEnd("manyfds", ["sh", "-c", 'echo fds=$(ls /proc/self/fd | tr "\\n" " ")']);
      assert.equal(shellExitCode(status), 0, console);
      assert.match(console, /^fds=0 1 2 3\r?$/m);
      assert.deepEqual(h.states("manyfds"), ["STARTING", "RUNNING", "STOPPING", "STOPPED"]);
    } finally {
      for (const fd of held) closeSync(fd);
    }
  });
});
