// One validation of config values, shared by checkConfig, create and start (they all parse): a
// value the kernel or the runtime would refuse at start is a ConfigError naming the key, the
// value, the file and the line.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ConfigError, parseLxcConfig, writeLxcConfig } from "../src/index.ts";
import { cgroupSettingProblem } from "../src/lxc-config-cgroup.ts";

/** Parse `line` as the second line of a config. */
function parseLine(line: string) {
  return parseLxcConfig(`lxc.uts.name = v\n${line}\n`, { file: "/lxc/v/config" });
}

/** `shown`: the value as the message names it, where the key's syntax wraps it ("dir:PATH") */
function refused(line: string, reason: RegExp, shown = line.slice(line.indexOf("=") + 1).trim()): void {
  assert.throws(() => parseLine(line), (e: unknown) => {
    assert.ok(e instanceof ConfigError, `${line}: ${String(e)}`);
    assert.equal(e.line, 2, line);
    assert.equal(e.file, "/lxc/v/config");
    assert.equal(e.key, line.split("=")[0]!.trim());
    assert.match(e.reason, reason, line);
    assert.ok(e.message.includes(shown), `${line}: the message names the value: ${e.message}`);
    return true;
  }, line);
}

function accepted(line: string): void {
  assert.doesNotThrow(() => parseLine(line), line);
}

test("cgroup v2 values: sizes, max, cpu quotas, weights in range", () => {
  for (const line of [
    "lxc.cgroup2.memory.max = 64M", "lxc.cgroup2.memory.max = max", "lxc.cgroup2.memory.max = 536870912", "lxc.cgroup2.memory.high = 1g",
    "lxc.cgroup2.memory.swap.max = 0", "lxc.cgroup2.memory.oom.group = 1",
    "lxc.cgroup2.cpu.max = max 100000", "lxc.cgroup2.cpu.max = 50000 100000", "lxc.cgroup2.cpu.max = 20000", "lxc.cgroup2.cpu.max = max",
    "lxc.cgroup2.cpu.weight = 1", "lxc.cgroup2.cpu.weight = 10000", "lxc.cgroup2.cpu.weight.nice = -20",
    "lxc.cgroup2.pids.max = max", "lxc.cgroup2.pids.max = 16", "lxc.cgroup2.cpuset.cpus = 0-1,3", "lxc.cgroup2.cpuset.mems = 0",
    "lxc.cgroup2.io.weight = default 100", "lxc.cgroup2.io.max = 8:16 rbps=2097152 wiops=max",
    "lxc.cgroup2.devices.allow = c 1:3 rwm", "lxc.cgroup2.devices.deny = a", "lxc.cgroup2.hugetlb.2MB.max = 1G",
  ]) accepted(line);
  refused("lxc.cgroup2.memory.max = lots", /"lots" is not a size in bytes .* or "max"/);
  refused("lxc.cgroup2.memory.max = -1", /not a size/);
  refused("lxc.cgroup2.memory.max = 64MB", /not a size/);
  refused("lxc.cgroup2.cpu.max = fast", /"fast" is not a quota and period/);
  refused("lxc.cgroup2.cpu.max = 500 100000", /quota at least 1000/);
  refused("lxc.cgroup2.cpu.max = max 5000000", /period 1000 to 1000000/);
  refused("lxc.cgroup2.cpu.weight = 0", /from 1 to 10000/);
  refused("lxc.cgroup2.cpu.weight = 20000", /from 1 to 10000/);
  refused("lxc.cgroup2.pids.max = -5", /from 0 to 4194304 or "max"/);
  refused("lxc.cgroup2.cpuset.cpus = all", /list of CPUs/);
  refused("lxc.cgroup2.devices.allow = c 1:3 rwx", /device rule/);
  refused("lxc.cgroup2.cgroup.freeze = 1", /one of "0"/);
});

test("cgroup v1 equivalents: -1 for unlimited, shares, cfs quota and period", () => {
  for (const line of [
    "lxc.cgroup.memory.limit_in_bytes = 512M", "lxc.cgroup.memory.limit_in_bytes = -1", "lxc.cgroup.memory.swappiness = 60",
    "lxc.cgroup.cpu.shares = 512", "lxc.cgroup.cpu.cfs_quota_us = -1", "lxc.cgroup.cpu.cfs_quota_us = 50000", "lxc.cgroup.cpu.cfs_period_us = 100000",
    "lxc.cgroup.cpuset.cpus = 0", "lxc.cgroup.pids.max = max", "lxc.cgroup.devices.allow = c 136:* rwm", "lxc.cgroup.blkio.weight = 500",
    "lxc.cgroup.hugetlb.2MB.limit_in_bytes = -1", "lxc.cgroup.net_cls.classid = 0x100001", "lxc.cgroup.freezer.state = THAWED",
  ]) accepted(line);
  refused("lxc.cgroup.memory.limit_in_bytes = max", /or "-1"/);
  refused("lxc.cgroup.memory.swappiness = 101", /from 0 to 100/);
  refused("lxc.cgroup.cpu.cfs_quota_us = 10", /at least 1000, or -1/);
  refused("lxc.cgroup.blkio.weight = 5", /from 10 to 1000/);
  refused("lxc.cgroup.freezer.state = FROZEN", /one of "THAWED"/);
});

test("a misspelt controller or file is refused at its line, with what was meant", () => {
  refused("lxc.cgroup2.memroy.max = 64M", /"memroy" is not a cgroup v2 controller \(did you mean memory\.max\?\)/);
  refused("lxc.cgroup2.memory.mx = 64M", /"memory\.mx" is not a file of the cgroup v2 memory controller that a config can set \(did you mean memory\.min or memory\.max\?\)/);
  refused("lxc.cgroup2.memory.limit_in_bytes = 64M", /not a file of the cgroup v2 memory controller/);
  refused("lxc.cgroup.memory.max = 64M", /not a file of the cgroup v1 memory controller/);
  refused("lxc.cgroup2.memory.current = 1", /not a file .* that a config can set/);
  assert.match(cgroupSettingProblem(2, "bogus.x", "1") ?? "", /cannot set "1": "bogus" is not a cgroup v2 controller \(cgroup, cpu, cpuset, devices, hugetlb, io, memory, misc, pids, rdma\)/);
});

test("signal names and numbers for lxc.signal.halt, reboot and stop", () => {
  for (const line of ["lxc.signal.halt = SIGRTMIN+3", "lxc.signal.halt = PWR", "lxc.signal.reboot = 2", "lxc.signal.stop = SIGKILL", "lxc.signal.halt = RTMAX-1"]) accepted(line);
  refused("lxc.signal.halt = SIGNOPE", /"SIGNOPE" is not a signal name or number/);
  refused("lxc.signal.reboot = 65", /not a signal/);
  refused("lxc.signal.stop = SIGRTMIN+40", /not a signal/);
});

test("paths corral opens or enters must be absolute", () => {
  for (const line of ["lxc.rootfs.path = dir:/srv/c1", "lxc.rootfs.path = /srv/c1", "lxc.init.cwd = /root", "lxc.console.logfile = /var/log/c1.log", "lxc.console.path = none", "lxc.seccomp.profile = /etc/c1.seccomp"]) accepted(line);
  refused("lxc.rootfs.path = dir:srv/c1", /"srv\/c1" is not an absolute path/, "srv/c1");
  refused("lxc.init.cwd = tmp", /not an absolute path/);
  refused("lxc.console.logfile = c1.log", /not an absolute path/);
  refused("lxc.console.path = tty1", /not an absolute path/);
  refused("lxc.seccomp.profile = common.seccomp", /not an absolute path/);
});

test("network keys: type, link, hwaddr, addresses, mtu", () => {
  for (const line of ["lxc.net.0.type = veth", "lxc.net.0.hwaddr = 00:16:3e:xx:xx:xx", "lxc.net.0.hwaddr = x0:16:3e:12:34:56", "lxc.net.0.mtu = 1500", "lxc.net.0.ipv4.address = 10.0.5.2/24", "lxc.net.0.ipv6.address = fd00::2/64"]) {
    assert.doesNotThrow(() => parseLxcConfig(`lxc.net.0.type = veth\n${line}\n`, { file: "c" }), line);
  }
  refused("lxc.net.0.type = bridge", /unknown network type "bridge"/);
  refused("lxc.net.0.link = a-very-long-bridge-name", /not a valid interface name/);
  refused("lxc.net.0.hwaddr = 01:16:3e:00:00:01", /multicast/);
  refused("lxc.net.0.hwaddr = 00:00:00:00:00:00", /all-zero/);
  refused("lxc.net.0.hwaddr = 00:16:3e:00:00", /not a MAC address/);
  refused("lxc.net.0.ipv4.address = 10.0.5.300/24", /not an IPv4 address/);
  refused("lxc.net.0.ipv6.address = fd00::2/129", /not an IPv6 address/);
  refused("lxc.net.0.mtu = 9", /not an MTU from 68 to 65535/);
  refused("lxc.net.0.mtu = 70000", /not an MTU/);
});

test("idmaps: u and g ranges are parsed in order; a malformed line or an impossible map is refused at its line, with its value", () => {
  const both = "lxc.idmap = u 0 100000 65536\nlxc.idmap = g 0 100000 65536";
  const { config, unsupported } = parseLine(`${both}\nlxc.idmap = u 65536 300000 10\nlxc.idmap = g 65536 300000 10`);
  assert.deepEqual(unsupported, []);
  assert.deepEqual(config.idmap, [
    { kind: "u", inside: 0, outside: 100000, count: 65536 },
    { kind: "g", inside: 0, outside: 100000, count: 65536 },
    { kind: "u", inside: 65536, outside: 300000, count: 10 },
    { kind: "g", inside: 65536, outside: 300000, count: 10 },
  ]);
  assert.match(writeLxcConfig(config), /^lxc\.idmap = u 65536 300000 10$/m);
  assert.deepEqual(parseLxcConfig(writeLxcConfig(config), { file: "/x" }).config.idmap, config.idmap);
  refused("lxc.idmap = u 0 100000", /not an id map "u\|g INSIDE OUTSIDE COUNT"/);
  refused("lxc.idmap = x 0 100000 65536", /not an id map/);
  refused("lxc.idmap = b 0 100000 65536", /not an id map/);
  refused("lxc.idmap = u 0 100000 0", /COUNT must be at least 1/);
  refused("lxc.idmap = u 0 4294967290 10", /past the last 32-bit id/);
  // whole-map problems name the line at fault (here the second of two lines after the first)
  const whole = (text: string, line: number, reason: RegExp, value: string) => assert.throws(() => parseLxcConfig(text, { file: "/lxc/v/config" }), (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    assert.deepEqual([e.key, e.line, e.file], ["lxc.idmap", line, "/lxc/v/config"]);
    assert.match(e.reason, reason);
    assert.ok(e.message.includes(value), e.message);
    return true;
  });
  whole(`${both}\nlxc.idmap = u 100 200000 10\n`, 3, /uids 100-109 inside overlap an earlier range \(0-65535\)/, "u 100 200000 10");
  whole(`${both}\nlxc.idmap = g 70000 100005 10\n`, 3, /host gids 100005-100014 overlap/, "g 70000 100005 10");
  whole("lxc.idmap = u 0 100000 65536\n", 1, /no g range/, "u 0 100000 65536");
  whole("lxc.idmap = u 1 100000 65536\nlxc.idmap = g 0 100000 65536\n", 1, /uid 0 \(root inside\) is in no u range/, "u 1 100000 65536");
  // an empty value clears the map: a privileged container again
  assert.deepEqual(parseLine(`${both}\nlxc.idmap =`).config.idmap, []);
});
