// The setup plan, cgroup planning and network commands: pure, tested without root.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { emptyConfig, type ContainerConfig, type NetConfig } from "@corral/core";
import { buildSetupPlan, capabilitiesToDrop, initEnvironment, kernelLacksPidnsReboot, mountEntryOps } from "../../src/runtime/setup-plan.ts";
import { describeOp, encodePlan, type SetupOp } from "../../src/runtime/plan.ts";
import { MS, parseMountOptions } from "../../src/runtime/mount-options.ts";
import { hierarchiesFor, parseHierarchies, planCgroupWrites, type Hierarchy } from "../../src/runtime/cgroup-hierarchies.ts";
import { createVeths, planVeths } from "../../src/runtime/network.ts";
import { FakeSyscalls } from "../../src/sys/fake.ts";
import { ack } from "./netlink-replies.ts";

function config(over: Partial<ContainerConfig> = {}): ContainerConfig {
  return { ...emptyConfig(), mountAuto: { proc: "mixed", sys: "ro" }, ...over };
}

function plan(c: ContainerConfig, consoleKind: "pty" | "inherit" = "pty", syncWithParent = true): SetupOp[] {
  return buildSetupPlan({
    config: c, rootfs: "/var/lib/corral/web/rootfs", hostname: "web", argv: ["/bin/sh", "-c", "true"], env: ["PATH=/bin"],
    console: consoleKind === "pty" ? { kind: "pty", slaveFd: 7, slavePath: "/dev/pts/3" } : { kind: "inherit" }, dropCapSysBoot: false, syncWithParent,
  });
}

describe("buildSetupPlan", () => {
  it("orders the child's work as start.c does: pdeathsig, sync, rootfs, hostname, console, caps, fds, exec", () => {
    const ops = plan(config());
    const names = ops.map((o) => o.op);
    assert.deepEqual(names.slice(0, 4), ["sync_stamp", "prctl", "sync_wake", "sync_wait"]);
    assert.ok(names.indexOf("pivot_root") < names.indexOf("sethostname"));
    assert.ok(names.indexOf("sethostname") < names.indexOf("setsid"));
    assert.deepEqual(names.slice(-4), ["chdir", "limit_fds", "sync_stamp", "exec"]);
    assert.deepEqual(ops.at(-1), { op: "exec", path: "/bin/sh", argv: ["/bin/sh", "-c", "true"], env: ["PATH=/bin"], why: "exec the init" });
  });

  it("waits for the parent only when the parent has work between CONFIGURE and POST_CONFIGURE", () => {
    const names = plan(config(), "pty", false).map((o) => o.op);
    assert.ok(!names.includes("sync_wake") && !names.includes("sync_wait"));
  });

  it("mounts everything inside the rootfs, resolved there, before pivot_root", () => {
    const ops = plan(config());
    const pivot = ops.findIndex((o) => o.op === "pivot_root");
    const mounts = ops.filter((o): o is Extract<SetupOp, { op: "mount" }> => o.op === "mount");
    const hostSide = mounts.filter((m) => !m.inRoot).map((m) => m.target);
    assert.deepEqual(hostSide, ["/", "/var/lib/corral/web/rootfs"], "only / (made a slave) and the rootfs bind are host paths");
    assert.ok(ops.findIndex((o) => o.op === "open_root") < ops.findIndex((o) => o.op === "mount" && o.inRoot));
    assert.ok(ops.slice(pivot).every((o) => o.op !== "mount"));
  });

  it("refuses symlinked /proc and /sys by checking both are real directories", () => {
    const checked = plan(config()).filter((o) => o.op === "require_dir").map((o) => (o as { path: string }).path);
    assert.deepEqual(checked, ["proc", "sys"]);
  });

  it("makes /proc/sys read-only for proc:mixed, and /sys read-only for sys:ro", () => {
    const ops = plan(config());
    const remount = ops.find((o) => o.op === "mount" && o.target === "proc/sys" && (o.flags & MS.REMOUNT));
    assert.ok(remount && remount.op === "mount" && remount.flags & MS.RDONLY);
    const sys = ops.find((o) => o.op === "mount" && o.fstype === "sysfs");
    assert.ok(sys && sys.op === "mount" && sys.flags & MS.RDONLY);
  });

  it("proc:mixed and sys:mixed leave an own network's knobs writable, under read-only /proc/sys and /sys", () => {
    const mixed = config({ mountAuto: { proc: "mixed", sys: "mixed" } });
    const build = (ownNetns: boolean, c = mixed) => buildSetupPlan({
      config: c, rootfs: "/r", hostname: "h", argv: ["/sbin/init"], env: [], console: { kind: "inherit" },
      dropCapSysBoot: false, syncWithParent: false, ownNetns, bootIdPath: "/run/corral/boot-id/c1",
    }).filter((o): o is Extract<SetupOp, { op: "mount" }> => o.op === "mount" && o.inRoot);
    const at = (ops: ReturnType<typeof build>, target: string, remount: boolean) =>
      ops.findIndex((o) => o.target === target && Boolean(o.flags & MS.REMOUNT) === remount);
    const own = build(true);
    // the net bind comes first and the /proc/sys bind is recursive, so it carries it
    assert.ok(at(own, "proc/sys/net", false) >= 0 && at(own, "proc/sys/net", false) < at(own, "proc/sys", false));
    assert.ok(own[at(own, "proc/sys", false)]!.flags & MS.REC);
    assert.ok(own[at(own, "proc/sys", true)]!.flags & MS.RDONLY);
    // sysfs is mounted writable, its net directory bound, then only the top made read-only
    const sysfs = own.find((o) => o.fstype === "sysfs")!;
    assert.equal(sysfs.flags & MS.RDONLY, 0);
    assert.ok(at(own, "sys/devices/virtual/net", false) < at(own, "sys", true));
    assert.ok(own[at(own, "sys", true)]!.flags & MS.RDONLY);
    // without a network namespace of its own (or without CAP_NET_ADMIN), the net knobs stay read-only
    for (const ops of [build(false), build(true, { ...mixed, capDrop: ["net_admin"] })]) {
      assert.equal(at(ops, "proc/sys/net", false), -1);
      assert.equal(at(ops, "sys/devices/virtual/net", false), -1);
    }
    // the boot id is bound (then made read-only) before the recursive /proc/sys bind carries it
    const boot = at(own, "proc/sys/kernel/random/boot_id", false);
    assert.equal(own[boot]!.source, "/run/corral/boot-id/c1");
    assert.ok(boot < at(own, "proc/sys", false) && at(own, "proc/sys/kernel/random/boot_id", true) > boot);
  });

  it("builds a minimal /dev with the console pty bound on /dev/console", () => {
    const ops = plan(config());
    const nodes = ops.filter((o) => o.op === "mknod").map((o) => (o as { path: string }).path);
    assert.deepEqual(nodes, ["dev/null", "dev/zero", "dev/full", "dev/random", "dev/urandom", "dev/tty", "dev/console"]);
    assert.ok(ops.some((o) => o.op === "mount" && o.source === "/dev/pts/3" && o.target === "dev/console"));
    assert.deepEqual(ops.filter((o) => o.op === "dup2").map((o) => (o as { to: number }).to), [0, 1, 2]);
  });

  it("binds the tty slaves on /dev/tty1..N (lxc.tty.max), only on the /dev it makes", () => {
    const withTtys = (c: ContainerConfig) => buildSetupPlan({
      config: c, rootfs: "/r", hostname: "web", argv: ["/bin/sh"], env: [], console: { kind: "inherit" },
      ttys: ["/dev/pts/5", "/dev/pts/6"], dropCapSysBoot: false, syncWithParent: false,
    });
    const binds = (ops: SetupOp[]) => ops.filter((o) => o.op === "mount" && o.target.startsWith("dev/tty") && o.target !== "dev/tty").map((o) => o.op === "mount" && [o.source, o.target]);
    assert.deepEqual(binds(withTtys(config())), [["/dev/pts/5", "dev/tty1"], ["/dev/pts/6", "dev/tty2"]]);
    assert.deepEqual(binds(withTtys(config({ autodev: false }))), []);
  });

  it("limits the container's devpts to lxc.pty.max", () => {
    const devpts = (c: ContainerConfig) => plan(c).find((o) => o.op === "mount" && o.fstype === "devpts") as { data: string };
    assert.match(devpts(config({ ptyMax: 16 })).data, /,max=16$/);
    assert.doesNotMatch(devpts(config()).data, /max=/);
  });

  it("leaves the console alone in inherit mode (corral run)", () => {
    const ops = plan(config(), "inherit");
    assert.ok(!ops.some((o) => o.op === "dup2" || o.op === "setsid" || (o.op === "mount" && o.target === "dev/console")));
  });

  it("adds a seccomp op only with a profile, and uid/gid changes only when asked", () => {
    assert.ok(!plan(config()).some((o) => o.op === "seccomp" || o.op === "setuid"));
    const ops = plan(config({ init: { uid: 1000, gid: 100 } }));
    assert.deepEqual(ops.filter((o) => ["setgroups_empty", "setgid", "setuid"].includes(o.op)).map((o) => o.op), ["setgroups_empty", "setgid", "setuid"]);
  });
});

describe("mount entries", () => {
  it("a read-only bind takes a bind and a read-only remount", () => {
    const ops = mountEntryOps({ source: "/usr", target: "usr", fstype: "none", options: ["ro", "bind"], dump: 0, pass: 0 });
    assert.equal(ops.length, 2);
    const [bind, remount] = ops as Array<Extract<SetupOp, { op: "mount" }>>;
    assert.equal(bind!.flags & MS.RDONLY, 0);
    assert.equal(bind!.flags & MS.BIND, MS.BIND);
    assert.equal(remount!.flags, MS.BIND | MS.REMOUNT | MS.RDONLY);
  });

  it("an absolute target still lands in the rootfs; create=dir makes it; optional is kept", () => {
    const ops = mountEntryOps({ source: "/srv", target: "/mnt/srv", fstype: "none", options: ["bind", "create=dir", "optional"], dump: 0, pass: 0 });
    assert.deepEqual(ops.map((o) => o.op), ["mkdir", "mount"]);
    assert.equal((ops[1] as { target: string }).target, "mnt/srv");
    assert.equal((ops[1] as { optional: boolean }).optional, true);
  });

  it("options mount(2) does not know go to its data string", () => {
    const p = parseMountOptions(["rw", "nosuid", "nodev", "mode=1777", "size=10m", "defaults"]);
    assert.equal(p.flags, MS.NOSUID | MS.NODEV);
    assert.equal(p.data, "mode=1777,size=10m");
  });
});

describe("capabilities and environment", () => {
  it("lxc.cap.drop drops those; lxc.cap.keep drops every other", () => {
    assert.deepEqual(capabilitiesToDrop(config({ capDrop: ["sys_module", "sys_time"] }), false), [16, 25]);
    const keepOne = capabilitiesToDrop(config({ capKeep: ["net_bind_service"] }), false);
    assert.ok(!keepOne.includes(10) && keepOne.includes(21) && keepOne.length > 30);
  });

  it("CAP_SYS_BOOT is dropped only on kernels that cannot confine reboot to a PID namespace", () => {
    assert.equal(kernelLacksPidnsReboot("6.18.44-fc"), false);
    assert.equal(kernelLacksPidnsReboot("3.2.0"), true);
    assert.ok(capabilitiesToDrop(config(), true).includes(22));
  });

  it("the init's environment is LXC's defaults plus lxc.environment", () => {
    const env = initEnvironment(config({ environment: ["FOO=bar", "HOME=/root", "FROMHOST"] }), { FROMHOST: "yes" });
    assert.ok(env.includes("container=lxc") && env.includes("FOO=bar") && env.includes("HOME=/root") && env.includes("FROMHOST=yes"));
  });
});

describe("encodePlan", () => {
  it("writes magic, count, and per op code, ints (int64) and NUL-terminated strings", () => {
    const buf = Buffer.from(encodePlan([{ op: "sethostname", name: "web", why: "" }, { op: "limit_fds", keep: 3, why: "" }]));
    assert.equal(buf.readUInt32LE(0), 0x4c505243);
    assert.equal(buf.readUInt32LE(4), 2);
    assert.deepEqual([buf.readUInt32LE(8), buf.readUInt32LE(12), buf.readUInt32LE(16), buf.readUInt32LE(20)], [6, 0, 1, 3]);
    assert.equal(buf.subarray(24, 28).toString(), "web\0");
    assert.equal(buf.length, 28 + 12 + 8);
    assert.throws(() => encodePlan([{ op: "sethostname", name: "a\0b", why: "" }]), /NUL/);
    assert.equal(describeOp({ op: "mount", source: "proc", target: "proc", fstype: "proc", flags: 0, data: "", inRoot: true, optional: false, why: "" }), "mount proc on proc");
  });
});

const HYBRID = [
  "25 22 0:22 / /sys/fs/cgroup/unified rw,nosuid - cgroup2 cgroup2 rw",
  "26 22 0:23 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory",
  "27 22 0:24 / /sys/fs/cgroup/pids rw,nosuid - cgroup cgroup rw,pids",
  "28 22 0:25 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid - cgroup cgroup rw,cpu,cpuacct",
  "29 22 0:26 / /sys/fs/cgroup/devices rw,nosuid - cgroup cgroup rw,devices",
  "30 22 0:27 / /sys/fs/cgroup/cpuset rw,nosuid - cgroup cgroup rw,cpuset",
].join("\n");

describe("cgroups", () => {
  const hierarchies: Hierarchy[] = parseHierarchies(HYBRID, () => []);

  it("reads the hierarchies of a hybrid host", () => {
    assert.deepEqual(hierarchies.map((h) => [h.version, h.controllers.join(",")]), [[2, ""], [1, "memory"], [1, "pids"], [1, "cpu,cpuacct"], [1, "devices"], [1, "cpuset"]]);
  });

  it("joins v2, and v1 only where a key needs the controller", () => {
    assert.deepEqual(hierarchiesFor([], hierarchies).map((h) => h.mountPoint), ["/sys/fs/cgroup/unified"]);
    const joined = hierarchiesFor([{ version: 2, key: "pids.max", value: "10" }, { version: 1, key: "devices.deny", value: "a" }], hierarchies);
    assert.deepEqual(joined.map((h) => h.mountPoint), ["/sys/fs/cgroup/unified", "/sys/fs/cgroup/pids", "/sys/fs/cgroup/devices"]);
    const v1only = parseHierarchies(HYBRID.split("\n").slice(1).join("\n"), () => []);
    assert.deepEqual(hierarchiesFor([], v1only).map((h) => h.mountPoint), ["/sys/fs/cgroup/memory", "/sys/fs/cgroup/pids"]);
  });

  it("translates lxc.cgroup2 keys to v1 twins where v2 lacks the controller", () => {
    const writes = planCgroupWrites([
      { version: 2, key: "memory.max", value: "64M" },
      { version: 2, key: "cpu.max", value: "50000 100000" },
      { version: 2, key: "pids.max", value: "max" },
    ], hierarchies);
    assert.deepEqual(writes.map((w) => [w.hierarchy.mountPoint, w.file, w.value]), [
      ["/sys/fs/cgroup/memory", "memory.limit_in_bytes", "64M"],
      ["/sys/fs/cgroup/cpu,cpuacct", "cpu.cfs_period_us", "100000"],
      ["/sys/fs/cgroup/cpu,cpuacct", "cpu.cfs_quota_us", "50000"],
      ["/sys/fs/cgroup/pids", "pids.max", "max"],
    ]);
  });

  it("names a key it cannot honour instead of dropping it", () => {
    assert.throws(() => planCgroupWrites([{ version: 1, key: "hugetlb.2MB.limit_in_bytes", value: "1" }], hierarchies), /lxc\.cgroup\.hugetlb\.2MB\.limit_in_bytes/);
    const pureV2 = parseHierarchies("25 22 0:22 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw", () => ["memory", "pids"]);
    assert.throws(() => planCgroupWrites([{ version: 2, key: "devices.deny", value: "a" }], pureV2), /eBPF/);
    assert.deepEqual(planCgroupWrites([{ version: 2, key: "memory.max", value: "1G" }], pureV2).map((w) => w.file), ["memory.max"]);
  });
});

describe("network", () => {
  /** A fake whose rtnetlink answers a link lookup with index 7 and everything else with an ack. */
  class NetlinkFake extends FakeSyscalls {
    override netlinkCall(sock: number, request: Uint8Array): Buffer {
      super.netlinkCall(sock, request);
      if (Buffer.from(request).readUInt16LE(4) !== 18) return ack(0);
      const link = Buffer.alloc(32);
      link.writeUInt32LE(32, 0);
      link.writeUInt16LE(16, 4);
      link.writeInt32LE(7, 20);
      return link;
    }
    /** [socket's pid, message type, link index (of a link or address message)] of each request, in order */
    requests(): Array<[number, number, number]> {
      const socketPid = new Map<number, number>();
      let nextFd = 100;
      const out: Array<[number, number, number]> = [];
      for (const c of this.calls) {
        if (c.call === "netlinkSocket") socketPid.set(nextFd++, c.args[0] as number);
        if (c.call === "netlinkCall") {
          const msg = Buffer.from(c.args[1] as Uint8Array);
          const type = msg.readUInt16LE(4);
          out.push([socketPid.get(c.args[0] as number)!, type, type === 16 || type === 20 ? msg.readInt32LE(20) : 0]);
        }
      }
      return out;
    }
  }
  const net: NetConfig = {
    index: 0, type: "veth", link: "br0", flags: "up", hwaddr: "aa:bb:cc:dd:ee:ff",
    ipv4Addresses: ["10.0.3.5/24"], ipv4Gateway: "10.0.3.1", ipv6Addresses: ["fd00::5/64"], ipv6Gateway: "fd00::1",
  };

  it("before clone: names, gateway and the bridge looked up; nothing made", () => {
    const sys = new NetlinkFake();
    const [pair] = planVeths(sys, [net, { index: 1, type: "empty", ipv4Addresses: [], ipv6Addresses: [] }]);
    assert.match(pair!.hostName, /^veth[0-9a-f]{6}$/);
    assert.deepEqual([pair!.peerName, pair!.gateway, pair!.gateway6, pair!.master, pair!.hwaddr], ["eth0", "10.0.3.1", "fd00::1", 7, "aa:bb:cc:dd:ee:ff"]);
    assert.deepEqual(sys.requests(), [[0, 18, 0]]);
    assert.deepEqual(sys.names().filter((n) => n === "netlinkSocket" || n === "close"), ["netlinkSocket", "close"]);
    assert.deepEqual(planVeths(new NetlinkFake(), [{ index: 0, type: "empty", ipv4Addresses: [], ipv6Addresses: [] }]), []);
  });

  it("at CONFIGURE: the pair made with its container end inside, then lo, addresses, up and routes in there", () => {
    const sys = new NetlinkFake();
    createVeths(sys, 4242, [{ net, hostName: "vethabc", peerName: "eth0", gateway: "10.0.3.1", gateway6: "fd00::1", hwaddr: net.hwaddr, master: 3 }]);
    assert.deepEqual(sys.requests(), [
      [0, 16, 0], // new pair, from the host, the container end born in pid 4242's namespace
      [0, 16, 0], // host end up on its bridge
      [4242, 16, 0], // lo up
      [4242, 18, 0], // find eth0
      [4242, 20, 7], // 10.0.3.5/24
      [4242, 20, 7], // fd00::5/64
      [4242, 16, 7], // up
      [4242, 24, 0], // default via 10.0.3.1
      [4242, 24, 0], // default via fd00::1
    ]);
  });

  it("deletes the pairs it made when a later step fails, naming the step and errno; never a container-side name", () => {
    const sys = new NetlinkFake();
    let calls = 0;
    sys.netlinkCall = (sock, request) => (++calls === 3 ? ack(17) : NetlinkFake.prototype.netlinkCall.call(sys, sock, request));
    assert.throws(() => createVeths(sys, 4242, [{ net, hostName: "vethabc", peerName: "eth0" }]), /raising lo: EEXIST/);
    const deleted = sys.calls
      .filter((c) => c.call === "netlinkCall" && Buffer.from(c.args[1] as Uint8Array).readUInt16LE(4) === 17)
      .map((c) => Buffer.from(c.args[1] as Uint8Array).subarray(36).toString().replace(/\0.*$/s, ""));
    assert.deepEqual(deleted, ["vethabc"]);
  });
});

describe("buildSetupPlan for an unprivileged container (a user namespace)", () => {
  const rootfs = "/var/lib/corral/web/rootfs";
  function usernsPlan(c: ContainerConfig, userns: { rootfsTree?: number }, ownNetns = false): SetupOp[] {
    return buildSetupPlan({
      config: c, rootfs, hostname: "web", argv: ["/bin/sh"], env: [], console: { kind: "pty", slaveFd: 7, slavePath: "/dev/pts/3" },
      dropCapSysBoot: false, syncWithParent: true, ownNetns, userns,
    });
  }

  it("waits for its maps first, attaches and opens the rootfs as host root, then becomes root inside", () => {
    const ops = usernsPlan(config(), { rootfsTree: 42 });
    const names = ops.map((o) => o.op);
    assert.deepEqual(ops[2], { op: "sync_wait", barrier: 6, why: "wait for the parent to write the uid and gid maps" });
    assert.deepEqual(ops.find((o) => o.op === "move_mount"), { op: "move_mount", fd: 42, target: rootfs, why: "attach the rootfs's idmapped mount" });
    assert.ok(!ops.some((o) => o.op === "mount" && o.source === rootfs), "no bind of the rootfs when it is idmapped");
    const openRoot = names.indexOf("open_root");
    const setuid = names.indexOf("setuid");
    assert.ok(names.indexOf("move_mount") < openRoot && openRoot < setuid);
    assert.deepEqual(names.slice(setuid - 2, setuid + 3), ["setgid", "setgroups_empty", "setuid", "prctl", "prctl"]);
    // every mount in the rootfs (and every node made) comes after: as root inside, owning what it makes
    assert.ok(ops.findIndex((o) => (o.op === "mount" && o.inRoot) || o.op === "mknod") > setuid);
    // the pdeath signal, cleared by the uid change, is set again
    assert.deepEqual(ops[setuid + 2], { op: "prctl", option: 1, arg: 9, why: "die with the supervisor (the uid change cleared it)" });
  });

  it("binds a shifted rootfs as it is, binds the host's device nodes instead of mknod, and keeps locked flags on remounts", () => {
    const ops = usernsPlan(config(), {});
    assert.ok(ops.some((o) => o.op === "mount" && o.source === rootfs && o.target === rootfs));
    assert.ok(!ops.some((o) => o.op === "mknod" && (o.mode & 0o170000) === 0o020000), "no character device made");
    assert.ok(ops.some((o) => o.op === "mount" && o.source === "/dev/null" && o.target === "dev/null" && o.flags === MS.BIND));
    const remounts = ops.filter((o): o is Extract<SetupOp, { op: "mount" }> => o.op === "mount" && (o.flags & MS.REMOUNT) !== 0);
    assert.ok(remounts.length > 0 && remounts.every((o) => o.keepLocked === true));
    assert.ok(!plan(config()).some((o) => o.op === "mount" && o.keepLocked), "a privileged plan keeps its remounts as they are");
  });

  it("binds the host's /sys (read-only, its cgroup mounts covered) without a network namespace, mounts sysfs with one", () => {
    const without = usernsPlan(config(), {});
    assert.ok(without.some((o) => o.op === "mount" && o.source === "/sys" && o.target === "sys" && o.flags === (MS.BIND | MS.REC)));
    assert.ok(without.some((o) => o.op === "mount" && o.target === "sys/fs/cgroup" && o.fstype === "tmpfs" && (o.flags & MS.RDONLY) !== 0));
    assert.ok(!without.some((o) => o.op === "mount" && o.fstype === "sysfs"));
    const own = usernsPlan(config(), {}, true);
    assert.ok(own.some((o) => o.op === "mount" && o.fstype === "sysfs"));
  });

  it("binds paths of the rootfs onto others by resolving both in it (no host path through the rootfs)", () => {
    const ops = usernsPlan(config(), {});
    const procSys = ops.find((o) => o.op === "mount" && o.target === "proc/sys" && (o.flags & MS.REMOUNT) === 0);
    assert.deepEqual(procSys && { source: (procSys as { source: string }).source, sourceInRoot: (procSys as { sourceInRoot?: boolean }).sourceInRoot }, { source: "proc/sys", sourceInRoot: true });
    assert.ok(!ops.some((o) => o.op === "mount" && o.source.startsWith(`${rootfs}/`)));
  });

  it("encodes a move_mount and a mount's where-bits for the executor", () => {
    const bytes = encodePlan([{ op: "move_mount", fd: 42, target: "/r", why: "" }, { op: "mount", source: "a", target: "b", fstype: "", flags: 0, data: "", inRoot: true, sourceInRoot: true, optional: false, keepLocked: true, why: "" }]);
    const b = Buffer.from(bytes);
    assert.equal(b.readUInt32LE(8), 26); // OP_MOVE_MOUNT
    assert.equal(b.readBigInt64LE(20), 42n);
    const mount = 20 + 8 + 4 + 2 + 1; // the move_mount's int, then its string "/r" (length, bytes, NUL)
    assert.equal(b.readUInt32LE(mount), 1); // OP_MOUNT
    assert.deepEqual([0, 1, 2, 3].map((i) => b.readBigInt64LE(mount + 12 + 8 * i)), [0n, 3n, 0n, 1n]);
  });
});
