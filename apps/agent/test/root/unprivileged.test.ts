// Root tests of unprivileged containers (lxc.idmap): root inside is host uid 100000, in a user
// namespace of its own, and what root inside may do stops at what that uid may do on the host.
// Real namespaces, cgroups, mounts and veths; needs root, fails without.
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { appendFileSync, chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import { DEFAULT_IDMAP, shellExitCode } from "@corral/core";
import { createContainer, createContainerAsync } from "../../src/containers/create.ts";
import { shiftOwnershipSync } from "../../src/containers/shift.ts";
import { nativeSyscalls } from "../../src/sys/native.ts";
import { consoleLogin, makeHarness, until, type Harness } from "./harness.ts";

const runAsync = promisify(execFile);
const MAP = "lxc.idmap = u 0 100000 65536\nlxc.idmap = g 0 100000 65536\n";

let h: Harness;
before(() => {
  h = makeHarness();
});
after(() => h.dispose());

/** Start `name` with a shell script as its init; resolves with the init's pid once `ready` is on the console. */
async function startWith(name: string, script: string, ready: RegExp): Promise<number> {
  await h.runtime.start(name, { cause: { actor: "test" }, command: ["/bin/sh", "-c", script] });
  await until(() => ready.test(console(name)), 10_000).catch(() => assert.fail(`${name} never printed ${ready}: ${console(name)}`));
  return h.runtime.initPid(name)!;
}

function console(name: string): string {
  return h.runtime.consoleHistory(name).toString("utf8");
}

/** The host uid of a process (the real uid of /proc/PID/status). */
function hostUid(pid: number): number {
  return Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]);
}

/** The container's cgroups and veths are gone from the host (by their names, not the host's other links). */
function assertGone(name: string, cgroupDirs: readonly string[], veths: readonly string[]): void {
  assert.deepEqual(cgroupDirs.filter((d) => existsSync(d)), [], `${name}'s cgroup directories left behind`);
  for (const veth of veths) assert.throws(() => execFileSync("ip", ["link", "show", veth], { stdio: "ignore" }), `${name}'s veth ${veth} left behind`);
}

async function stop(name: string): Promise<void> {
  const cgroupDirs = [...h.runtime.cgroupOf(name)!.dirs];
  const veths = (h.changes.filter((c) => c.container === name && c.state === "RUNNING").at(-1)?.detail.veths as string[] | undefined) ?? [];
  await h.runtime.stop(name, { cause: { actor: "test" }, timeoutMs: 0 });
  await h.waitFor(name, "STOPPED");
  assertGone(name, cgroupDirs, veths);
}

describe("an unprivileged container on a rootfs owned by host root (idmapped)", () => {
  it("runs its init as host uid 100000, root inside, with the map in /proc/self/uid_map, its cgroup delegated", async () => {
    h.create("un", "busybox", MAP);
    const pid = await startWith("un", "cat /proc/self/uid_map /proc/self/gid_map; echo id=$(id -u):$(id -g); ls -nd /; awk '$5 == \"/\"' /proc/self/mountinfo; echo READY; exec sleep 300", /READY/);
    const out = console("un");
    assert.match(out, /^\s*0\s+100000\s+65536\r?\n\s*0\s+100000\s+65536\r?$/m);
    assert.match(out, /^id=0:0\r?$/m);
    // the rootfs is host root's on disk, root's inside through the idmapped mount
    assert.equal(statSync(h.lxcpath.dir("un") + "/rootfs").uid, 0);
    assert.match(out, /^d\S+\s+\d+\s+0\s+0\s/m);
    assert.match(out, /\bidmapped\b/);
    assert.equal(hostUid(pid), 100000);
    // root inside owns its cgroup (LXC's delegation): it may make a subtree and move its processes
    for (const dir of h.runtime.cgroupOf("un")!.dirs) {
      assert.equal(statSync(dir).uid, 100000, dir);
      assert.equal(statSync(join(dir, "cgroup.procs")).uid, 100000, dir);
    }
    // (lxc-attach into it: lxc-tools.test.ts, which serves LXC's command socket)
    await stop("un");
  });

  it("a filesystem that cannot be idmapped fails the start naming it, and the shifted route", async (t) => {
    const ramfs = mkdtempSync(join(tmpdir(), "corral-ramfs-"));
    execFileSync("mount", ["-t", "ramfs", "none", ramfs]);
    t.after(() => {
      execFileSync("umount", [ramfs]);
      rmSync(ramfs, { recursive: true, force: true });
    });
    mkdirSync(join(ramfs, "rootfs"));
    h.create("noidmap", "busybox", `${MAP}lxc.rootfs.path = ${ramfs}/rootfs\n`);
    await assert.rejects(h.runtime.start("noidmap", { cause: { actor: "test" }, command: ["/bin/true"] }),
      (e: Error) => /on a ramfs filesystem .* cannot be idmapped/.test(e.message) && /corral create --unprivileged/.test(e.message));
    assert.deepEqual(h.states("noidmap"), ["STARTING", "ABORTING", "STOPPED"]);
    assert.ok(!existsSync("/sys/fs/cgroup/unified/corral-noidmap") && !existsSync("/sys/fs/cgroup/memory/corral-noidmap"), "a cgroup left behind");
  });
});

describe("an unprivileged container made by create --unprivileged (shifted ownership)", () => {
  it("has its rootfs chowned by the map, and starts without an idmapped mount", async () => {
    createContainer(h.lxcpath, { name: "shifted", template: "busybox", unprivileged: true });
    const rootfs = `${h.lxcpath.dir("shifted")}/rootfs`;
    assert.equal(statSync(rootfs).uid, 100000);
    assert.equal(statSync(join(rootfs, "bin/busybox")).gid, 100000);
    assert.match(readFileSync(h.lxcpath.configPath("shifted"), "utf8"), /^lxc\.idmap = u 0 100000 65536$/m);
    const pid = await startWith("shifted", "id -u; ls -nd /bin/busybox; awk '$5 == \"/\"' /proc/self/mountinfo; echo READY; exec sleep 300", /READY/);
    const out = console("shifted");
    assert.match(out, /^0\r?$/m);
    assert.match(out, /^\S+\s+\d+\s+0\s+0\s.*\/bin\/busybox/m);
    assert.doesNotMatch(out, /\bidmapped\b/);
    assert.equal(hostUid(pid), 100000);
    await stop("shifted");
  });
});

describe("file capabilities through the shift", () => {
  it("a file with cap_net_raw+ep keeps it: a user inside gets it on exec", async () => {
    createContainer(h.lxcpath, { name: "capped", template: "busybox" });
    const rootfs = `${h.lxcpath.dir("capped")}/rootfs`;
    // a copy named busybox, which takes its applet from its first argument
    mkdirSync(join(rootfs, "opt/cap"), { recursive: true });
    copyFileSync(join(rootfs, "bin/busybox"), join(rootfs, "opt/cap/busybox"));
    // what `setcap cap_net_raw+ep` writes as host root: revision 2, permitted bit 13, effective
    const caps = Buffer.alloc(20);
    caps.writeUInt32LE(0x02000001, 0);
    caps.writeUInt32LE(1 << 13, 4);
    nativeSyscalls.setXattr(join(rootfs, "opt/cap/busybox"), "security.capability", caps);
    shiftOwnershipSync(nativeSyscalls, rootfs, DEFAULT_IDMAP);
    appendFileSync(h.lxcpath.configPath("capped"), "lxc.idmap = u 0 100000 65536\nlxc.idmap = g 0 100000 65536\nlxc.init.uid = 65534\nlxc.init.gid = 65534\n");
    // The init is that copy itself, as nobody: its own capabilities are the file's.
    await h.runtime.start("capped", { cause: { actor: "test" }, command: ["/opt/cap/busybox", "cat", "/proc/self/status"] });
    await h.waitFor("capped", "STOPPED");
    const status = console("capped");
    assert.match(status, /^Uid:\s+65534\b/m, status);
    assert.match(status, /^CapEff:\s+0000000000002000\b/m, status);
  });
});

describe("what root inside an unprivileged container cannot do", () => {
  it("cannot write a host file bound read-only, load a module, mount or read a host filesystem, or write the host's /proc/sys", async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "corral-unpriv-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    // a bind's source must be reachable by root inside (host uid 100000), as with LXC
    chmodSync(dir, 0o755);
    const hostFile = join(dir, "host-file");
    writeFileSync(hostFile, "the host's\n", { mode: 0o644 });
    const rootDevice = execFileSync("findmnt", ["-no", "SOURCE", "/"], { encoding: "utf8" }).trim();
    const overcommit = readFileSync("/proc/sys/vm/overcommit_ratio", "utf8").trim();
    // the capabilities the templates drop are kept: the user namespace alone must stop all of it
    h.create("jail", "busybox", [
      MAP, "lxc.cap.drop =",
      `lxc.mount.entry = ${hostFile} root/host-file none bind,ro,create=file 0 0`,
      `lxc.mount.entry = ${rootDevice} dev/host-root none bind,create=file 0 0`, "",
    ].join("\n"));
    const attempts = [
      "echo mine > /root/host-file && echo BROKE:wrote-the-bound-file",
      // the read-only flag is the container's own to lift; the file's owner (host root) is not
      "mount -o remount,bind,rw /root/host-file; echo mine > /root/host-file && echo BROKE:wrote-after-remount",
      "insmod /bin/busybox && echo BROKE:loaded-a-module",
      `mkdir -p /tmp/m; mount -t ext4 /dev/host-root /tmp/m && echo BROKE:mounted-the-host-disk`,
      "head -c 512 /dev/host-root >/dev/null && echo BROKE:read-the-host-disk",
      "mknod /dev/sdx b 8 0 && echo BROKE:made-a-device",
      `echo ${overcommit} > /proc/sys/vm/overcommit_ratio && echo BROKE:wrote-proc-sys`,
      `mount -o remount,bind,rw /proc/sys; echo ${overcommit} > /proc/sys/vm/overcommit_ratio && echo BROKE:wrote-proc-sys-after-remount`,
      `mkdir -p /tmp/p; mount -t proc proc /tmp/p && echo ${overcommit} > /tmp/p/sys/vm/overcommit_ratio && echo BROKE:wrote-a-fresh-proc-sys`,
      "echo id=$(id -u)",
    ];
    await h.runtime.start("jail", { cause: { actor: "test" }, command: ["/bin/sh", "-c", attempts.join("; ")] });
    const status = await h.runtime.waitForExit("jail");
    const out = console("jail");
    assert.equal(shellExitCode(status), 0, out);
    assert.match(out, /^id=0\r?$/m, out);
    assert.deepEqual(out.match(/BROKE:\S+/g) ?? [], [], out);
    assert.equal(readFileSync(hostFile, "utf8"), "the host's\n");
    await h.waitFor("jail", "STOPPED");
  });
});

describe("veth networking in an unprivileged container", () => {
  const bridge = "corralun0";
  before(() => {
    execFileSync("sh", ["-c", `ip link del ${bridge} 2>/dev/null; ip link add ${bridge} type bridge && ip addr add 10.252.0.1/24 dev ${bridge} && ip link set ${bridge} up`]);
  });
  after(() => {
    execFileSync("sh", ["-c", `ip link del ${bridge} 2>/dev/null || true`]);
  });

  it("has its interface in a network namespace its root administers, reaching the host end; nothing is left after stop", async () => {
    h.create("unnet", "busybox", [
      MAP, "lxc.net.0.type = veth", `lxc.net.0.link = ${bridge}`, "lxc.net.0.name = eth0",
      "lxc.net.0.ipv4.address = 10.252.0.2/24", "lxc.net.0.flags = up", "",
    ].join("\n"));
    await startWith("unnet", "ping -c 1 -W 2 10.252.0.1 && ip addr add 10.252.0.3/24 dev eth0 && ip -o addr show eth0; echo READY; exec sleep 300", /READY/);
    const out = console("unnet");
    assert.match(out, /1 packets received/, out);
    // root inside may change its own network, which its user namespace owns
    assert.match(out, /inet 10\.252\.0\.3\/24/, out);
    await stop("unnet");
  });
});

describe("the Debian system container, unprivileged (create --unprivileged)", { timeout: 15 * 60_000 }, () => {
  const NAME = "undeb";
  const PASSWORD = "corral-test";
  /** generous bounds for a boot or a shutdown on a busy 2-core machine; the bench measures them */
  const BOOT_MS = 120_000;
  const inside = async (...argv: string[]) => (await runAsync("nsenter", ["--all", "-t", String(h.runtime.initPid(NAME)), "--", ...argv], { timeout: BOOT_MS })).stdout.trim();
  const lastStop = () => h.changes.filter((c) => c.container === NAME && c.state === "STOPPED").at(-1)!;
  async function bootedClean(): Promise<void> {
    const deadline = Date.now() + BOOT_MS;
    let state = "";
    // right after exec, systemctl may not reach systemd's bus yet: ask again
    while (!["running", "degraded", "maintenance", "stopping"].includes(state) && Date.now() < deadline) {
      state = await inside("systemctl", "is-system-running", "--wait").catch((e: unknown) => ((e as { stdout?: string }).stdout ?? "").trim());
      if (state === "") await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(state, "running", `systemd is ${state}; failed: ${await inside("systemctl", "--failed", "--no-legend").catch(() => "?")}`);
  }

  before(async () => {
    await createContainerAsync(h.lxcpath, { name: NAME, template: "debian", rootPassword: PASSWORD, unprivileged: true });
  }, { timeout: 15 * 60_000 });
  // a failed test must not leave systemd running (the harness then removes its rootfs)
  after(async () => {
    if (h.runtime.state(NAME) !== "STOPPED") await h.runtime.abort(NAME, { actor: "test" });
  });

  it("boots to running with no failed unit and a clean journal, its init host uid 100000", async () => {
    await h.runtime.start(NAME, { cause: { actor: "test" } });
    await bootedClean();
    assert.equal(hostUid(h.runtime.initPid(NAME)!), 100000);
    assert.equal(await inside("journalctl", "-b", "-p", "warning", "--no-pager", "-q"), "", "warnings in this boot's journal");
    // its own network's knobs are root inside's; the host's kernel's are not
    await inside("sysctl", "-w", "net.ipv4.ip_forward=1");
    await assert.rejects(inside("sh", "-c", "echo 1 > /proc/sys/kernel/panic"));
  });

  it("takes a login on its console", async () => {
    await consoleLogin(h.runtime, NAME, PASSWORD, BOOT_MS, "echo logged-in-as-$(id -un)-$(awk '/^Uid/ {print $2}' /proc/self/status)", "logged-in-as-root-0");
  });

  it("reboots from inside and on corral reboot, and halts itself cleanly on a stop, leaving nothing", async () => {
    const first = h.runtime.initPid(NAME)!;
    await inside("systemctl", "reboot").catch(() => undefined);
    await until(() => { const p = h.runtime.initPid(NAME); return p !== undefined && p !== first; }, BOOT_MS);
    assert.equal(lastStop().detail.reboot, true);
    await bootedClean();
    const second = h.runtime.initPid(NAME)!;
    h.runtime.reboot(NAME, { actor: "test", request: "reboot" });
    await until(() => { const p = h.runtime.initPid(NAME); return p !== undefined && p !== second; }, BOOT_MS);
    await bootedClean();
    const cgroupDirs = [...h.runtime.cgroupOf(NAME)!.dirs];
    const veths = (h.changes.filter((c) => c.container === NAME && c.state === "RUNNING").at(-1)?.detail.veths as string[] | undefined) ?? [];
    await h.runtime.stop(NAME, { cause: { actor: "test" }, timeoutMs: BOOT_MS });
    const stopping = h.changes.filter((c) => c.container === NAME && c.state === "STOPPING").at(-1)!;
    assert.equal(stopping.detail.signal, "SIGRTMIN+3");
    assert.equal(lastStop().detail.halt, true, "systemd halted itself, not killed");
    assertGone(NAME, cgroupDirs, veths);
  });
});
