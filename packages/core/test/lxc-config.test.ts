import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  anchorIncludes,
  ConfigError,
  emptyConfig,
  lxcConfigItem,
  parseLxcConfig,
  writeLxcConfig,
  type ConfigIO,
  type ContainerConfig,
} from "../src/index.ts";

const FIXTURES = fileURLToPath(new URL("./fixtures/lxc-config/", import.meta.url));
const LXC_CONFIG_DIR = "/usr/share/lxc/config/";

/** Reads /usr/share/lxc/config/* from the fixture copy, so the lxc package is not needed. */
const fixtureIO: ConfigIO = {
  readFile: (path) => readFileSync(fixturePath(path), "utf8"),
  isDirectory: (path) => {
    try {
      return statSync(fixturePath(path)).isDirectory();
    } catch {
      return false;
    }
  },
  listDir: (path) => readdirSync(fixturePath(path)),
};

function fixturePath(path: string): string {
  if (!path.startsWith(LXC_CONFIG_DIR)) throw new Error(`ENOENT: no fixture for ${path}`);
  return FIXTURES + path.slice(LXC_CONFIG_DIR.length);
}

/** In-memory files for include tests. */
function memoryIO(files: Record<string, string>): ConfigIO {
  return {
    readFile: (path) => {
      const body = files[path];
      if (body === undefined) throw new Error(`ENOENT: ${path}`);
      return body;
    },
    isDirectory: (path) => Object.keys(files).some((f) => f.startsWith(path.endsWith("/") ? path : `${path}/`)),
    listDir: (path) => {
      const dir = path.endsWith("/") ? path : `${path}/`;
      return Object.keys(files).filter((f) => f.startsWith(dir)).map((f) => f.slice(dir.length));
    },
  };
}

const parse = (text: string, io?: ConfigIO) => parseLxcConfig(text, io ? { file: "/c/config", io } : { file: "/c/config" });

function parseError(text: string, io?: ConfigIO): ConfigError {
  try {
    parse(text, io);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail(`expected an error for ${JSON.stringify(text)}`);
}

test("Debian's common.conf, with its common.conf.d directory", () => {
  const file = `${LXC_CONFIG_DIR}common.conf`;
  const { config, warnings, unsupported } = parseLxcConfig(fixtureIO.readFile(file), { file, io: fixtureIO });

  assert.deepEqual(unsupported, []);
  const warned = warnings.map((w) => `${w.key}@${w.file.slice(LXC_CONFIG_DIR.length)}:${w.line}`);
  assert.deepEqual(warned, [
    "lxc.tty.dir@common.conf:4",
    "lxc.hook.clone@common.conf:16",
    "lxc.hook.mount@common.conf.d/00-lxcfs.conf:1",
  ]);
  assert.equal(config.seccompProfile, "/usr/share/lxc/config/common.seccomp");
  assert.equal(config.ptyMax, 1024);
  assert.equal(config.ttyMax, 4);
  assert.deepEqual(config.capDrop, ["mac_admin", "mac_override", "sys_time", "sys_module", "sys_rawio"]);
  assert.deepEqual(config.mountAuto, { cgroup: "cgroup:mixed", proc: "mixed", sys: "mixed" });
  assert.deepEqual(config.mountEntries, [
    { source: "/sys/fs/fuse/connections", target: "sys/fs/fuse/connections", fstype: "none", options: ["bind", "optional"], dump: 0, pass: 0 },
  ]);
  const v1 = config.cgroups.filter((c) => c.version === 1);
  const v2 = config.cgroups.filter((c) => c.version === 2);
  assert.equal(v1.length, 13);
  assert.equal(v2.length, 13);
  assert.deepEqual(v1[0], { version: 1, key: "devices.deny", value: "a" });
  assert.deepEqual(v2.at(-1), { version: 2, key: "devices.allow", value: "c 10:229 rwm" });
  // from common.conf.d/00-lxcfs.conf
  assert.deepEqual(config.hooks.postStop, ["/usr/share/lxcfs/lxc.reboot.hook"]);
  assert.equal(config.autodev, true);
});

test("debian.common.conf includes common.conf and resets lxc.tty.dir", () => {
  const file = `${LXC_CONFIG_DIR}debian.common.conf`;
  const { config, warnings } = parseLxcConfig(fixtureIO.readFile(file), { file, io: fixtureIO });
  assert.ok(!warnings.some((w) => w.key === "lxc.tty.dir"));
  assert.equal(config.cgroups.filter((c) => c.version === 1).length, 17);
});

test("a container config like lxc-busybox writes", () => {
  const text = `# Template used to create this container: /usr/share/lxc/templates/lxc-busybox
lxc.rootfs.path = dir:/var/lib/lxc/c1/rootfs
lxc.signal.halt = SIGUSR1
lxc.signal.reboot = SIGTERM
lxc.uts.name = "c1"
lxc.autodev = 1
lxc.tty.max = 5
lxc.pty.max = 1
lxc.cap.drop = sys_module mac_admin mac_override sys_time

# When using LXC with apparmor, uncomment the next line to run unconfined:
#lxc.apparmor.profile = unconfined

lxc.mount.auto = cgroup:mixed proc:mixed sys:ro
lxc.mount.entry = shm dev/shm tmpfs defaults,create=dir 0 0
lxc.mount.entry = mqueue dev/mqueue mqueue defaults,optional,create=dir 0 0
lxc.mount.entry = /lib lib none ro,bind 0 0
lxc.net.0.type = veth
lxc.net.0.link = lxcbr0
lxc.net.0.flags = up
lxc.net.0.hwaddr = 00:16:3e:xx:xx:xx
lxc.net.0.ipv4.address = 10.0.3.5/24
lxc.net.0.ipv4.gateway = auto
lxc.init.cmd = /bin/sh -c 'echo hello; exec sleep 10'
lxc.environment = A=1
custom.key = ignored because it is not lxc.*
`;
  const { config, warnings, unsupported } = parse(text);
  assert.deepEqual(warnings, []);
  assert.deepEqual(unsupported, []);
  assert.equal(config.utsname, "c1");
  assert.deepEqual(config.rootfs, { path: "/var/lib/lxc/c1/rootfs" });
  assert.deepEqual(config.signals, { halt: 10, reboot: 15 });
  assert.deepEqual(config.mountAuto, { cgroup: "cgroup:mixed", proc: "mixed", sys: "ro" });
  assert.deepEqual(config.mountEntries[0], { source: "shm", target: "dev/shm", fstype: "tmpfs", options: ["create=dir"], dump: 0, pass: 0 });
  assert.deepEqual(config.net, [
    { index: 0, type: "veth", link: "lxcbr0", flags: "up", hwaddr: "00:16:3e:xx:xx:xx", ipv4Addresses: ["10.0.3.5/24"], ipv4Gateway: "auto", ipv6Addresses: [] },
  ]);
  assert.deepEqual(config.init.cmd, ["/bin/sh", "-c", "echo hello; exec sleep 10"]);
  assert.deepEqual(config.environment, ["A=1"]);
  assert.deepEqual(parse(writeLxcConfig(config)).config, config);
});

test("empty values reset list keys", () => {
  const { config } = parse(`
lxc.cap.drop = sys_admin
lxc.cap.drop =
lxc.cap.drop = sys_time
lxc.mount.entry = proc proc proc defaults 0 0
lxc.mount.entry =
lxc.environment = A=1
lxc.environment =
lxc.environment = B=2
lxc.cgroup.devices.allow = c 1:3 rwm
lxc.cgroup.devices.allow = c 1:5 rwm
lxc.cgroup.memory.limit_in_bytes = 1G
lxc.cgroup.devices.allow =
lxc.cgroup2.memory.max = 1G
lxc.net.0.type = veth
lxc.net.1.type = empty
lxc.net.0.ipv4.address = 10.0.0.2/24
lxc.net.0.ipv4.address = 10.0.0.3/24
lxc.net =
lxc.net.2.type = none
lxc.hook.pre-start = /bin/a
lxc.hook =
lxc.hook.start = /bin/b
lxc.mount.auto = proc sys
lxc.mount.auto =
lxc.mount.auto = cgroup
`);
  assert.deepEqual(config.capDrop, ["sys_time"]);
  assert.deepEqual(config.mountEntries, []);
  assert.deepEqual(config.environment, ["B=2"]);
  assert.deepEqual(config.cgroups, [
    { version: 1, key: "memory.limit_in_bytes", value: "1G" },
    { version: 2, key: "memory.max", value: "1G" },
  ]);
  assert.deepEqual(config.net, [{ index: 2, type: "none", ipv4Addresses: [], ipv6Addresses: [] }]);
  assert.deepEqual(config.hooks, { preStart: [], start: ["/bin/b"], postStop: [] });
  assert.deepEqual(config.mountAuto, { cgroup: "cgroup" });
});

test("cap.keep none, signals in kill(1) fashion, numbers", () => {
  const { config } = parse(`
lxc.cap.keep = sys_admin
lxc.cap.keep = none
lxc.signal.halt = PWR
lxc.signal.reboot = SIGRTMIN+3
lxc.signal.stop = 9
lxc.start.auto = 1
lxc.start.delay = 5
lxc.start.order = -2
lxc.init.uid = 1000
lxc.init.gid = 100
lxc.init.cwd = /srv
`);
  assert.deepEqual(config.capKeep, ["none"]);
  assert.deepEqual(config.signals, { halt: 30, reboot: 37, stop: 9 });
  assert.deepEqual(config.start, { auto: true, delay: 5, order: -2 });
  assert.deepEqual(config.init, { uid: 1000, gid: 100, cwd: "/srv" });
});

test("lxc.arch: the host's x86_64 is fine, any other is refused", () => {
  assert.deepEqual(parse("lxc.arch = amd64\n").unsupported, []);
  assert.deepEqual(parse("lxc.arch = i686\n").unsupported.map((u) => [u.key, u.line]), [["lxc.arch", 1]]);
});

test("a reset network takes its earlier refusals with it", () => {
  assert.equal(parse("lxc.net.0.type = veth\nlxc.net.0.veth.mode = router\n").unsupported.length, 1);
  const { unsupported } = parse("lxc.net.0.type = veth\nlxc.net.0.veth.mode = router\nlxc.net.0 =\n");
  assert.deepEqual(unsupported, []);
});

test("IPv6 addresses and gateways are read, and a malformed one is an error at its line", () => {
  const { config } = parse("lxc.net.0.type = veth\nlxc.net.0.ipv6.address = fd00::2/64\nlxc.net.0.ipv6.address = 2001:db8::5\nlxc.net.0.ipv6.gateway = auto\n");
  assert.deepEqual([config.net[0]!.ipv6Addresses, config.net[0]!.ipv6Gateway], [["fd00::2/64", "2001:db8::5"], "auto"]);
  for (const [line, bad] of [["lxc.net.0.ipv6.address = fd00::2/129", "fd00::2/129"], ["lxc.net.0.ipv6.address = fd00:::2/64", "fd00:::2/64"], ["lxc.net.0.ipv6.gateway = 10.0.0.1", "10.0.0.1"]] as const) {
    const e = parseError(`lxc.net.0.type = veth\n${line}\n`);
    assert.equal(e.line, 2);
    assert.match(e.message, new RegExp(bad.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));
  }
});

test("ignored keys warn, security keys are reported unsupported with file and line", () => {
  const { warnings, unsupported, config } = parse(`lxc.arch = x86_64
lxc.log.level = 1
lxc.apparmor.profile = unconfined
lxc.apparmor.allow_nesting = 1
lxc.selinux.context =
lxc.apparmor.profile = lxc-container-default-cgns
lxc.selinux.context = system_u:system_r:lxc_t:s0:c22
lxc.namespace.clone = user
lxc.rootfs.path = overlay:/a:/b
lxc.mount.fstab = /etc/fstab
lxc.net.0.type = macvlan
lxc.net.0.link = eth0
lxc.prlimit.nofile = 1024
`);
  assert.deepEqual(warnings.map((w) => [w.key, w.line]), [["lxc.log.level", 2], ["lxc.apparmor.allow_nesting", 4]]);
  assert.deepEqual(unsupported.map((u) => [u.key, u.line]), [
    ["lxc.selinux.context", 7],
    ["lxc.namespace.clone", 8],
    ["lxc.rootfs.path", 9],
    ["lxc.mount.fstab", 10],
    ["lxc.net.0.type", 11],
    ["lxc.prlimit.nofile", 13],
  ]);
  assert.ok(unsupported.every((u) => u.file === "/c/config" && u.message.length > 0));
  assert.equal(config.rootfs, undefined);
  assert.deepEqual(config.net, []);
  // the last profile is kept for the runtime, which knows whether the kernel has AppArmor
  assert.equal(config.apparmorProfile, "lxc-container-default-cgns");
});

test("lxc.apparmor.profile is kept and written back as it was", () => {
  const { config } = parse("lxc.apparmor.profile = generated\n");
  assert.equal(config.apparmorProfile, "generated");
  assert.match(writeLxcConfig(config), /^lxc\.apparmor\.profile = generated$/m);
  assert.equal(parse("lxc.apparmor.profile = generated\nlxc.apparmor.profile =\n").config.apparmorProfile, undefined);
});

test("a later value replaces what an earlier line said about the same key", () => {
  const { unsupported } = parse("lxc.apparmor.profile = generated\nlxc.apparmor.profile = unconfined\nlxc.rootfs.options = idmap=container\nlxc.rootfs.options =\n");
  assert.deepEqual(unsupported, []);
});

test("errors name the key, the file and the line", () => {
  const cases: Array<[string, string, number, RegExp]> = [
    ["lxc.uts.name\n", "lxc.uts.name", 1, /malformed/],
    ["\n\nlxc.corral.x = 1\n", "lxc.corral.x", 3, /unknown configuration key/],
    ["lxc.utsname = old\n", "lxc.utsname", 1, /unknown/],
    ["lxc.tty.max = four\n", "lxc.tty.max", 1, /non-negative integer/],
    ["lxc.net.0.type = bridge\n", "lxc.net.0.type", 1, /unknown network type/],
    ["lxc.net.0.type = veth\nlxc.net.0.colour = red\n", "lxc.net.0.colour", 2, /unknown network key/],
    ["lxc.signal.halt = SIGFOO\n", "lxc.signal.halt", 1, /not a signal/],
    ["lxc.signal.halt = SIGRTMIN+40\n", "lxc.signal.halt", 1, /not a signal/],
    ["lxc.cap.drop = sys_admin CAP_SYS_TIME\n", "lxc.cap.drop", 1, /CAP_SYS_TIME/],
    ["lxc.mount.auto = proc nfs\n", "lxc.mount.auto", 1, /nfs/],
    ["lxc.mount.entry = onlysource\n", "lxc.mount.entry", 1, /fstab/],
    ["lxc.cgroup.../../x = 1\n", "lxc.cgroup.../../x", 1, /controller file/],
    ["lxc.net.0.ipv4.address = 10.0.0.300/24\n", "lxc.net.0.ipv4.address", 1, /IPv4/],
    ["lxc.net.0.link = br0\n", "lxc.net.0.link", 1, /no lxc.net.0.type/],
    ["lxc.autodev = yes\n", "lxc.autodev", 1, /0 or 1/],
    ["lxc.init.cmd = /bin/sh -c 'oops\n", "lxc.init.cmd", 1, /unterminated/],
    ["lxc.include = /nowhere.conf\n", "lxc.include", 1, /file access/],
  ];
  for (const [text, key, line, message] of cases) {
    const err = parseError(text);
    assert.equal(err.key, key, text);
    assert.equal(err.file, "/c/config", text);
    assert.equal(err.line, line, text);
    assert.match(err.message, message, text);
    assert.ok(err.message.includes(`/c/config:${line}: ${key}`), err.message);
  }
});

test("includes: files in place, directories in sorted order, errors where they occur", () => {
  const io = memoryIO({
    "/c/extra.conf": "lxc.environment = FROM_EXTRA=1\n",
    "/etc/conf.d/20-b.conf": "lxc.environment = B=1\n",
    "/etc/conf.d/10-a.conf": "lxc.environment = A=1\n",
    "/etc/conf.d/README": "not a config\n",
    "/etc/bad.conf": "# fine\nlxc.nope = 1\n",
    "/etc/loop.conf": "lxc.include = /etc/loop.conf\n",
  });
  const { config } = parse("lxc.environment = FIRST=1\nlxc.include = extra.conf\nlxc.include = /etc/conf.d\nlxc.environment = LAST=1\n", io);
  assert.deepEqual(config.environment, ["FIRST=1", "FROM_EXTRA=1", "A=1", "B=1", "LAST=1"]);

  const missing = parseError("lxc.include = /etc/missing.conf\n", io);
  assert.deepEqual([missing.key, missing.file, missing.line], ["lxc.include", "/c/config", 1]);
  assert.match(missing.message, /missing\.conf/);

  const nested = parseError("lxc.include = /etc/bad.conf\n", io);
  assert.deepEqual([nested.key, nested.file, nested.line], ["lxc.nope", "/etc/bad.conf", 2]);

  assert.match(parseError("lxc.include = /etc/loop.conf\n", io).message, /includes itself/);
});

test("write then parse gives the same config", () => {
  const config: ContainerConfig = {
    ...emptyConfig(),
    utsname: "web",
    rootfs: { path: "/srv/rootfs:odd/path with space", options: "noatime" },
    mountEntries: [
      { source: "/srv/my data", target: "mnt/data", fstype: "none", options: ["bind", "ro"], dump: 0, pass: 0 },
      { source: "tmpfs", target: "tmp", fstype: "tmpfs", options: [], dump: 1, pass: 2 },
    ],
    mountAuto: { proc: "rw", sys: "ro", cgroup: "cgroup-full:ro:force" },
    autodev: false,
    net: [
      { index: 0, type: "veth", link: "br0", name: "eth0", hwaddr: "00:16:3e:00:00:01", ipv4Addresses: ["10.0.0.2/24", "10.0.1.2/24 10.0.1.255"], ipv4Gateway: "10.0.0.1", ipv6Addresses: ["fd00::2/64", "2001:db8::5"], ipv6Gateway: "fd00::1", vethPair: "vethweb", flags: "up", mtu: 1400 },
      { index: 3, type: "empty", ipv4Addresses: [], ipv6Addresses: [] },
    ],
    cgroups: [{ version: 2, key: "memory.max", value: "536870912" }, { version: 1, key: "cpuset.cpus", value: "0-1" }],
    capDrop: ["sys_admin", "sys_module"],
    init: { cmd: ["/bin/sh", "-c", "echo 'hi there'; sleep 1", ""], cwd: "/", uid: 0, gid: 0 },
    environment: ["A=1", "GREETING=hello world", "'quoted'"],
    console: { logfile: "/var/log/c.log", path: "none" },
    ttyMax: 2,
    ptyMax: 16,
    signals: { halt: 30, reboot: 1, stop: 9 },
    hooks: { preStart: ["/bin/pre"], start: ["/bin/start"], postStop: ["/bin/post", "/bin/post2"] },
    start: { auto: true, delay: 3, order: -1 },
    seccompProfile: "/usr/share/lxc/config/common.seccomp",
  };
  const text = writeLxcConfig(config);
  const reparsed = parse(text);
  assert.deepEqual(reparsed.warnings, []);
  assert.deepEqual(reparsed.unsupported, []);
  assert.deepEqual(reparsed.config, config);
  assert.ok(text.split("\n").every((l) => l === "" || l.startsWith("lxc.")), text);
  assert.deepEqual(parse(writeLxcConfig(emptyConfig())).config, emptyConfig());
  assert.equal(writeLxcConfig(emptyConfig()), "");
  const keepNone = { ...emptyConfig(), capKeep: ["none"] };
  assert.deepEqual(parse(writeLxcConfig(keepNone)).config, keepNone);
});

test("a config item reads as liblxc's get_config_item gives it: repeated keys one per line", () => {
  const { config } = parse(
    ["lxc.net.0.type = veth", "lxc.net.0.link = br0", "lxc.net.0.veth.pair = vhost0", "lxc.net.0.ipv4.address = 10.0.0.2/24", "lxc.net.0.ipv4.address = 10.0.0.3/24", "lxc.signal.halt = SIGRTMIN+3", ""].join("\n"),
  );
  assert.equal(lxcConfigItem(config, "lxc.net.0.type"), "veth");
  assert.equal(lxcConfigItem(config, "lxc.net.0.veth.pair"), "vhost0");
  assert.equal(lxcConfigItem(config, "lxc.net.0.ipv4.address"), "10.0.0.2/24\n10.0.0.3/24");
  assert.equal(lxcConfigItem(config, "lxc.net.1.type"), undefined);
  assert.equal(lxcConfigItem(config, "lxc.signal.stop"), undefined);
});

test("the writer refuses values that would inject lines or reset keys", () => {
  assert.throws(() => writeLxcConfig({ ...emptyConfig(), utsname: "x\nlxc.idmap = u 0 0 1" }), /line break/);
  assert.throws(() => writeLxcConfig({ ...emptyConfig(), environment: [""] }), /empty value/);
});

test("config text stored away from its file keeps its relative includes pointing where they did", () => {
  const text = "# a comment: lxc.include = not.me\nlxc.include = extra.conf\nlxc.include=\"../common.conf\"\nlxc.include = /abs/x.conf\nlxc.uts.name = c1\n";
  assert.equal(
    anchorIncludes(text, "/home/op/sub"),
    "# a comment: lxc.include = not.me\nlxc.include = /home/op/sub/extra.conf\nlxc.include=\"/home/op/sub/../common.conf\"\nlxc.include = /abs/x.conf\nlxc.uts.name = c1\n",
  );
});
