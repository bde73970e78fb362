// The debian template without root and without a download: the mirror chosen from apt's sources,
// the config text, the per-container files, and a whole create from a stand-in cached base.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseLxcConfig } from "@corral/core";
import { debianSourceLines, parseDeb822Sources, parseOneLineSources, readHostAptSources } from "../../src/containers/apt-sources.ts";
import {
  basePath, BASE_RECIPE, ensureDebianBase, type BaseBuilder, checkRelease, checkRootPassword, checkSshKey, debianArch, debianConfig, hostsFile, resolvConfFor, setShadowPassword, sha512Crypt,
} from "../../src/containers/debian.ts";
import { beginCreate, createContainer, createContainerAsync, removeAbandonedCreates, usedAddresses } from "../../src/containers/create.ts";
import { configText } from "../../src/containers/templates.ts";
import { LxcPath } from "../../src/containers/lxcpath.ts";

const DEB822 = `Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://mirror.example/debian/
Suites: bookworm bookworm-updates
Components: main contrib
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://security.example/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://off.example/debian
Suites: trixie
Components: main
Enabled: no
`;

describe("the mirror, from this machine's apt sources", () => {
  it("reads deb822 stanzas, skipping disabled ones and inline keys", () => {
    const s = parseDeb822Sources(DEB822, "x.sources");
    assert.equal(s.length, 2);
    assert.deepEqual(s[0], {
      types: ["deb"], uris: ["http://mirror.example/debian/"], suites: ["bookworm", "bookworm-updates"], components: ["main", "contrib"],
      signedBy: "/usr/share/keyrings/debian-archive-keyring.gpg", origin: "x.sources",
    });
    const inline = parseDeb822Sources("Types: deb\nURIs: http://a/debian\nSuites: sid\nSigned-By:\n -----BEGIN PGP PUBLIC KEY BLOCK-----\n .\n abc\n");
    assert.equal(inline[0]!.signedBy, undefined);
  });

  it("reads one-line entries with options and comments", () => {
    const s = parseOneLineSources("# comment\ndeb [arch=amd64 signed-by=/k.gpg] http://m/debian bookworm main non-free\ndeb-src http://m/debian bookworm main\n\ndeb http://m/debian-security bookworm-security main # trailing\n");
    assert.deepEqual(s.map((e) => [e.types[0], e.uris[0], e.suites[0], e.components.join(","), e.signedBy]), [
      ["deb", "http://m/debian", "bookworm", "main,non-free", "/k.gpg"],
      ["deb-src", "http://m/debian", "bookworm", "main", undefined],
      ["deb", "http://m/debian-security", "bookworm-security", "main", undefined],
    ]);
  });

  it("builds the release from the archive that carries it, with -updates and -security as the machine has them", () => {
    const s = parseDeb822Sources(DEB822);
    assert.deepEqual(debianSourceLines(s, "bookworm"), [
      "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://mirror.example/debian bookworm main contrib",
      "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://mirror.example/debian bookworm-updates main contrib",
      "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://security.example/debian-security bookworm-security main contrib",
    ]);
    // another release from the same Debian archive; sid has no -updates nor -security
    assert.equal(debianSourceLines(s, "trixie")[0], "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://mirror.example/debian trixie main contrib");
    assert.deepEqual(debianSourceLines(s, "sid"), ["deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://mirror.example/debian sid main contrib"]);
  });

  it("never takes a third-party repository for Debian's archive", () => {
    const third = parseDeb822Sources("Types: deb\nURIs: https://deb.nodesource.com/node_20.x\nSuites: nodistro\nComponents: main\nSigned-By: /usr/share/keyrings/nodesource.gpg\n");
    assert.throws(() => debianSourceLines(third, "bookworm"), /no Debian mirror found in this machine's apt sources/);
    const both = [...third, ...parseOneLineSources("deb http://ftp.example/debian/ bookworm main")];
    assert.deepEqual(debianSourceLines(both, "trixie"), ["deb http://ftp.example/debian trixie main"]);
  });

  it("reads sources.list and only the .list and .sources files of sources.list.d", () => {
    const etc = mkdtempSync(join(tmpdir(), "corral-apt-"));
    try {
      mkdirSync(join(etc, "sources.list.d"));
      writeFileSync(join(etc, "sources.list"), "deb http://one/debian bookworm main\n");
      writeFileSync(join(etc, "sources.list.d/b.sources"), DEB822);
      writeFileSync(join(etc, "sources.list.d/a.list"), "deb http://two/debian bookworm main\n");
      writeFileSync(join(etc, "sources.list.d/c.sources.disabled-by-farm"), "Types: deb\nURIs: http://no/debian\nSuites: bookworm\n");
      const s = readHostAptSources(etc);
      assert.deepEqual(s.map((e) => e.uris[0]), ["http://one/debian", "http://two/debian", "http://mirror.example/debian/", "http://security.example/debian-security"]);
    } finally {
      rmSync(etc, { recursive: true });
    }
  });
});

describe("the debian template's pieces", () => {
  it("checks its options", () => {
    assert.equal(checkRelease("bookworm"), undefined);
    assert.match(checkRelease("../etc") ?? "", /not a Debian release name/);
    assert.equal(checkRootPassword("s3cret pass"), undefined);
    assert.match(checkRootPassword("a\nb") ?? "", /line break/);
    assert.match(checkRootPassword("") ?? "", /empty/);
    assert.equal(checkSshKey("# mine\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB7 me@host\n"), undefined);
    assert.equal(checkSshKey('from="10.0.5.1" ssh-rsa AAAAB3NzaC1yc2E= x'), undefined);
    assert.match(checkSshKey("not a key") ?? "", /not an OpenSSH public key/);
    assert.match(checkSshKey("\n# only a comment\n") ?? "", /no key/);
    assert.equal(debianArch("x64"), "amd64");
    assert.equal(basePath("bookworm", "amd64", "/c"), "/c/debian/bookworm-amd64");
  });

  it("writes a config liblxc reads: standard keys, LXC's systemd mounts, a veth on the managed bridge, the default init", () => {
    const text = configText(debianConfig("web", "/var/lib/corral/web/rootfs", "10.0.5.2/24", "/var/lib/corral/web/common.seccomp", "00:16:3e:12:ab:ef"), "debian", "Debian bookworm");
    assert.equal(text, `# Made by corral's "debian" template: Debian bookworm.
lxc.uts.name = web
lxc.rootfs.path = /var/lib/corral/web/rootfs
lxc.mount.auto = proc:mixed sys:mixed cgroup:mixed
lxc.tty.max = 4
lxc.pty.max = 1024
lxc.cap.drop = mac_admin mac_override sys_time sys_module sys_rawio
lxc.net.0.type = veth
lxc.net.0.link = corralbr0
lxc.net.0.hwaddr = 00:16:3e:12:ab:ef
lxc.net.0.flags = up
lxc.net.0.ipv4.address = 10.0.5.2/24
lxc.net.0.ipv4.gateway = auto
lxc.seccomp.profile = /var/lib/corral/web/common.seccomp
`);
    assert.doesNotMatch(text, /lxc\.signal\.halt|lxc\.init\.cmd|apparmor/);
    const parsed = parseLxcConfig(text, { file: "/x/config", io: { readFile: () => "", isDirectory: () => false, listDir: () => [] } });
    assert.deepEqual([parsed.warnings, parsed.unsupported], [[], []]);
    assert.equal(parsed.config.net[0]!.link, "corralbr0");
    // filled once at create, as lxc-create does: a concrete MAC in LXC's range
    const macs = new Set(Array.from({ length: 20 }, () => debianConfig("a", "/r", "10.0.5.2/24", "/s").net[0]!.hwaddr));
    for (const mac of macs) assert.match(mac!, /^00:16:3e:[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}$/);
    assert.ok(macs.size > 1);
  });

  it("gives each container its files: hosts, a reachable resolver, the root password in shadow", async () => {
    assert.match(hostsFile("web"), /^127\.0\.1\.1\s+web$/m);
    assert.equal(resolvConfFor("nameserver 192.0.2.53\n", undefined), "nameserver 192.0.2.53\n");
    assert.equal(resolvConfFor("nameserver 127.0.0.53\noptions edns0\n", "nameserver 192.0.2.9\n"), "nameserver 192.0.2.9\n");
    assert.match(resolvConfFor("nameserver 127.0.0.53\n", undefined), /^# .*add a nameserver/);
    const shadow = "root:*:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n";
    assert.equal(setShadowPassword(shadow, "root", "$6$salt$hash", 20000), "root:$6$salt$hash:20000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n");
    assert.throws(() => setShadowPassword("daemon:*:1::::::\n", "root", "x", 1), /no root/);
    const hash = await sha512Crypt("s3cret");
    assert.match(hash, /^\$6\$[^$]+\$[./A-Za-z0-9]{86}$/);
  });
});

/** A stand-in cached base: enough of a Debian for the per-container steps (no ssh-keygen in it). */
function fakeCache(): string {
  const cache = mkdtempSync(join(tmpdir(), "corral-cache-"));
  const base = basePath("bookworm", debianArch(), cache);
  mkdirSync(join(base, "etc"), { recursive: true });
  writeFileSync(join(base, "etc/os-release"), "VERSION_CODENAME=bookworm\n");
  writeFileSync(join(base, "etc/shadow"), "root:*:19000:0:99999:7:::\n");
  writeFileSync(join(base, "etc/hostname"), "debian\n");
  writeFileSync(`${base}.recipe`, BASE_RECIPE);
  return cache;
}

describe("a debian create from the cache", () => {
  it("copies the base, configures it, takes the next free address and writes the config; progress told", async () => {
    const cache = fakeCache();
    const lxcpath = new LxcPath(mkdtempSync(join(tmpdir(), "corral-lxcpath-")));
    try {
      createContainer(lxcpath, { name: "other", config: "lxc.net.0.type = veth\nlxc.net.0.link = corralbr0\nlxc.net.0.ipv4.address = 10.0.5.2/24\n" });
      const lines: string[] = [];
      const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB7 me@host";
      const r = await createContainerAsync(lxcpath, { name: "web", template: "debian", rootPassword: "pw", sshKey: key, config: "lxc.start.auto = 1\n" }, (l) => lines.push(l), { cacheDir: cache });
      assert.deepEqual(r, { name: "web", configPath: lxcpath.configPath("web"), warnings: [] });
      const rootfs = join(lxcpath.root, "web/rootfs");
      assert.equal(readFileSync(join(rootfs, "etc/hostname"), "utf8"), "web\n");
      assert.match(readFileSync(join(rootfs, "etc/machine-id"), "utf8"), /^[0-9a-f]{32}\n$/);
      assert.match(readFileSync(join(rootfs, "etc/shadow"), "utf8"), /^root:\$6\$/);
      assert.equal(readFileSync(join(rootfs, "root/.ssh/authorized_keys"), "utf8"), `${key}\n`);
      assert.equal(statSync(join(rootfs, "root/.ssh/authorized_keys")).mode & 0o777, 0o600);
      const { config } = lxcpath.load("web");
      assert.deepEqual(config.net[0]!.ipv4Addresses, ["10.0.5.3/24"]);
      assert.equal(config.start.auto, true, "the user's keys come after the template's");
      assert.equal(existsSync(join(lxcpath.root, "web/.creating")), false);
      assert.deepEqual(usedAddresses(lxcpath).sort(), ["10.0.5.2", "10.0.5.3"]);
      assert.ok(lines.some((l) => l.startsWith("copying ")) && lines.at(-1)!.startsWith("created web"), lines.join("\n"));
      assert.ok(!lines.join("\n").includes("pw:") && !lines.join("\n").includes("\"pw\""), "the password never reaches the progress");
    } finally {
      rmSync(cache, { recursive: true, force: true });
      rmSync(lxcpath.root, { recursive: true, force: true });
    }
  });

  it("refuses before anything is written: bad options, options without the template, a taken name", async () => {
    const cache = fakeCache();
    const lxcpath = new LxcPath(mkdtempSync(join(tmpdir(), "corral-lxcpath-")));
    try {
      assert.throws(() => createContainer(lxcpath, { name: "a", template: "host", release: "bookworm" }), /release: only the debian template takes this/);
      assert.throws(() => createContainer(lxcpath, { name: "a", template: "debian" }), /builds for a while: make it first with "corral create a --template debian"/);
      await assert.rejects(createContainerAsync(lxcpath, { name: "a", template: "debian", release: "Bad Release" }, undefined, { cacheDir: cache }), /not a Debian release name/);
      await assert.rejects(createContainerAsync(lxcpath, { name: "a", template: "debian", sshKey: "nope" }, undefined, { cacheDir: cache }), /not an OpenSSH public key/);
      // a create in flight holds its name
      const first = beginCreate(lxcpath, { name: "a", template: "debian" }, { cacheDir: cache });
      assert.throws(() => beginCreate(lxcpath, { name: "a", template: "debian" }, { cacheDir: cache }), /"a" is being created/);
      assert.deepEqual(lxcpath.list(), [], "not listed before its config is written");
      await first.run();
      assert.deepEqual(lxcpath.list(), ["a"]);
      // a create whose process died leaves a marker with a dead pid: the name is taken back
      mkdirSync(join(lxcpath.root, "b"));
      writeFileSync(join(lxcpath.root, "b/.creating"), "999999999\n");
      await createContainerAsync(lxcpath, { name: "b", template: "debian" }, undefined, { cacheDir: cache });
      assert.deepEqual(lxcpath.list(), ["a", "b"]);
      // and an agent that starts removes every such directory, leaving live creates and containers
      for (const [name, pid] of [["dead", "999999999"], ["live", String(process.pid)]]) {
        mkdirSync(join(lxcpath.root, name!, "rootfs/etc"), { recursive: true });
        writeFileSync(join(lxcpath.root, name!, ".creating"), `${pid}\n`);
      }
      assert.deepEqual(await removeAbandonedCreates(lxcpath), ["dead"]);
      assert.deepEqual(["a", "b", "dead", "live"].map((n) => existsSync(join(lxcpath.root, n))), [true, true, false, true]);
    } finally {
      rmSync(cache, { recursive: true, force: true });
      rmSync(lxcpath.root, { recursive: true, force: true });
    }
  });

  it("a failed create removes what it made", async () => {
    const cache = mkdtempSync(join(tmpdir(), "corral-cache-"));
    const lxcpath = new LxcPath(mkdtempSync(join(tmpdir(), "corral-lxcpath-")));
    try {
      // a base without a shadow file: setting the password fails after the copy
      const base = basePath("bookworm", debianArch(), cache);
      mkdirSync(join(base, "etc"), { recursive: true });
      writeFileSync(join(base, "etc/os-release"), "VERSION_CODENAME=bookworm\n");
      writeFileSync(`${base}.recipe`, BASE_RECIPE);
      await assert.rejects(createContainerAsync(lxcpath, { name: "c", template: "debian", rootPassword: "pw" }, undefined, { cacheDir: cache }), /ENOENT.*shadow/);
      assert.equal(existsSync(join(lxcpath.root, "c")), false);
    } finally {
      rmSync(cache, { recursive: true, force: true });
      rmSync(lxcpath.root, { recursive: true, force: true });
    }
  });
});

describe("the cached base", () => {
  /** A builder that lays out a stand-in base when told to, counting its runs. */
  function gatedBuilder() {
    let open: () => void = () => {};
    const gate = new Promise<void>((r) => (open = r));
    const runs: string[] = [];
    const builder: BaseBuilder = async (release, target, progress) => {
      runs.push(target);
      progress("building…");
      await gate;
      mkdirSync(join(target, "etc"), { recursive: true });
      writeFileSync(join(target, "etc/os-release"), `VERSION_CODENAME=${release}\n`);
    };
    return { builder, runs, open: () => open() };
  }

  it("is built once for concurrent callers, aside then renamed, and then served from the cache", async () => {
    const cache = mkdtempSync(join(tmpdir(), "corral-cache-"));
    try {
      const b = gatedBuilder();
      const lines: string[] = [];
      const one = ensureDebianBase("bookworm", (l) => lines.push(`1 ${l}`), { cacheDir: cache, builder: b.builder });
      const two = ensureDebianBase("bookworm", (l) => lines.push(`2 ${l}`), { cacheDir: cache, builder: b.builder });
      // the build has begun (however busy the machine), and waits at its gate
      for (let i = 0; i < 500 && b.runs.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      const base = basePath("bookworm", debianArch(), cache);
      assert.deepEqual(b.runs, [`${base}.partial`], "built beside the cache");
      assert.equal(existsSync(base), false, "nothing at the cache's path until the build is whole");
      assert.equal(readFileSync(`${base}.lock`, "utf8"), `${process.pid}\n`);
      b.open();
      assert.deepEqual(await Promise.all([one, two]), [base, base]);
      assert.equal(b.runs.length, 1);
      assert.ok(lines.includes(`2 waiting for the build of ${base} already under way`), lines.join("\n"));
      assert.equal(existsSync(`${base}.lock`), false, "the lock is let go");
      assert.equal(readFileSync(`${base}.recipe`, "utf8"), BASE_RECIPE, "stamped with its recipe");
      assert.equal(existsSync(`${base}.partial`), false);
      assert.equal(await ensureDebianBase("bookworm", undefined, { cacheDir: cache, builder: () => Promise.reject(new Error("not again")) }), base);
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });

  it("waits for another live process's build, takes over a dead one's lock, and rebuilds a half-made base", async () => {
    const cache = mkdtempSync(join(tmpdir(), "corral-cache-"));
    try {
      const base = basePath("trixie", debianArch(), cache);
      mkdirSync(join(base, "etc"), { recursive: true }); // a base without os-release: not whole
      // a lock held by a live process (pid 1): waited for until it goes
      writeFileSync(`${base}.lock`, "1\n");
      const lines: string[] = [];
      const b = gatedBuilder();
      b.open();
      const built = ensureDebianBase("trixie", (l) => lines.push(l), { cacheDir: cache, builder: b.builder, lockPollMs: 10 });
      // it says it waits (however busy the machine), and keeps waiting
      for (let i = 0; i < 500 && !lines.some((l) => l.startsWith("waiting")); i++) await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual(b.runs, [], "not built while another process holds the lock");
      assert.ok(lines.some((l) => l.startsWith("waiting for another build of this base (pid 1")), lines.join("\n"));
      // that process dies without letting go: its lock names a dead pid
      writeFileSync(`${base}.lock`, "999999999\n");
      assert.equal(await built, base);
      assert.equal(b.runs.length, 1);
      assert.match(readFileSync(join(base, "etc/os-release"), "utf8"), /trixie/);
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });

  it("a base cached by another recipe is rebuilt, and swapped in only once whole", async () => {
    const cache = mkdtempSync(join(tmpdir(), "corral-cache-"));
    try {
      const base = basePath("bookworm", debianArch(), cache);
      mkdirSync(join(base, "etc"), { recursive: true });
      writeFileSync(join(base, "etc/os-release"), "VERSION_CODENAME=old\n");
      writeFileSync(`${base}.recipe`, JSON.stringify({ packages: ["an older list"] }));
      const b = gatedBuilder();
      const built = ensureDebianBase("bookworm", undefined, { cacheDir: cache, builder: b.builder });
      await new Promise((r) => setTimeout(r, 20));
      assert.match(readFileSync(join(base, "etc/os-release"), "utf8"), /old/, "the old base stays in place while the new one builds");
      b.open();
      assert.equal(await built, base);
      assert.match(readFileSync(join(base, "etc/os-release"), "utf8"), /bookworm/);
      assert.equal(existsSync(`${base}.old`), false);
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });

  it("a failed build leaves no base and no lock, and the next call builds again", async () => {
    const cache = mkdtempSync(join(tmpdir(), "corral-cache-"));
    try {
      const failing: BaseBuilder = (_r, target) => {
        mkdirSync(target);
        return Promise.reject(new Error("mmdebstrap exited with 1"));
      };
      await assert.rejects(ensureDebianBase("bookworm", undefined, { cacheDir: cache, builder: failing }), /mmdebstrap exited with 1/);
      const base = basePath("bookworm", debianArch(), cache);
      assert.equal(existsSync(base), false);
      assert.equal(existsSync(`${base}.lock`), false);
      assert.equal(existsSync(`${base}.partial`), false, "the failed build's leftovers are removed");
      const b = gatedBuilder();
      b.open();
      assert.equal(await ensureDebianBase("bookworm", undefined, { cacheDir: cache, builder: b.builder }), base);
      await assert.rejects(ensureDebianBase("no good", undefined, { cacheDir: cache }), /not a Debian release name/);
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });
});
