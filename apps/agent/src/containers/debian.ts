// The debian template, as `lxc-create -t debian` does it: the cached base (debian-base.ts)
// copied for each container and given its hostname, machine id, resolver, SSH host keys, root
// password and SSH key, and the config LXC's Debian config amounts to. Runs on the host.
import { randomBytes, randomInt } from "node:crypto";
import { constants, readFileSync } from "node:fs";
import { access, chmod, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { emptyConfig, rtnetlink, type ContainerConfig } from "@corral/core";
import { DEBIAN_TTYS, findProgram, runProgram, type Progress } from "./debian-base.ts";
import { MANAGED_BRIDGE } from "../runtime/bridge.ts";
import { expected } from "../errors.ts";

export * from "./debian-base.ts";

export interface DebianOptions {
  release?: string;
  /** the root password; without one root stays locked, as in Debian's own images */
  rootPassword?: string;
  /** public keys for /root/.ssh/authorized_keys (the file's text) */
  sshKey?: string;
}

export function checkRootPassword(password: string): string | undefined {
  if (password.length === 0) return "the root password is empty";
  if (password.length > 256) return "the root password is longer than 256 characters";
  if (/[\0\r\n]/.test(password)) return "the root password contains a line break or NUL";
  return undefined;
}

/** OpenSSH public key lines (authorized_keys format); comments and blank lines allowed. */
export function checkSshKey(text: string): string | undefined {
  if (text.length > 16384) return "the SSH key file is larger than 16 KiB";
  const keys = text.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
  if (keys.length === 0) return "the SSH key file has no key";
  const bad = keys.find((k) => !/^(?:\S+\s+)?(?:ssh-(?:rsa|dss|ed25519)|ecdsa-sha2-nistp\d+|sk-(?:ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com)\s+[A-Za-z0-9+/=]+(?:\s.*)?$/.test(k));
  return bad === undefined ? undefined : `not an OpenSSH public key: ${JSON.stringify(bad.slice(0, 40))}`;
}

/** Debian's name for this machine's architecture (corral runs x86_64 containers). */

// ---- one container -----------------------------------------------------------------------------

/** /etc/hosts as lxc-debian writes it. */
export function hostsFile(hostname: string): string {
  return `127.0.0.1   localhost
127.0.1.1   ${hostname}

# The following lines are desirable for IPv6 capable hosts
::1     localhost ip6-localhost ip6-loopback
ff02::1 ip6-allnodes
ff02::2 ip6-allrouters
`;
}

/**
 * The container's /etc/resolv.conf: the host's, unless it names only loopback resolvers (a
 * local stub such as systemd-resolved's 127.0.0.53, unreachable from another network
 * namespace); then the stub's upstream file when there is one.
 */
export function resolvConfFor(host: string | undefined, upstream: string | undefined): string {
  const nameservers = (text: string) => [...text.matchAll(/^\s*nameserver\s+(\S+)/gm)].map((m) => m[1]!);
  const loopbackOnly = (text: string) => {
    const ns = nameservers(text);
    return ns.length > 0 && ns.every((n) => n.startsWith("127.") || n === "::1");
  };
  if (host !== undefined && !loopbackOnly(host)) return host;
  if (upstream !== undefined && nameservers(upstream).length > 0 && !loopbackOnly(upstream)) return upstream;
  return "# The host's resolver is a local stub the container cannot reach: add a nameserver here.\n";
}

/** /etc/shadow with `user`'s password field replaced by `hash` (and the change date set to `days`). */
export function setShadowPassword(shadow: string, user: string, hash: string, days: number): string {
  const lines = shadow.split("\n");
  const at = lines.findIndex((line) => line.split(":")[0] === user && line.split(":").length >= 3);
  if (at < 0) throw new Error(`no ${user} in /etc/shadow`);
  const fields = lines[at]!.split(":");
  fields[1] = hash;
  fields[2] = String(days);
  lines[at] = fields.join(":");
  return lines.join("\n");
}

/** A SHA-512 crypt(3) hash ($6$), made by `openssl passwd -6` with the password on its stdin. */
export async function sha512Crypt(password: string): Promise<string> {
  const openssl = findProgram("openssl");
  if (!openssl) throw new Error("setting a root password needs openssl (Debian package openssl)");
  const out = await runProgram(openssl, ["passwd", "-6", "-stdin"], () => {}, { stdin: `${password}\n`, quiet: true });
  const hash = out.trim();
  if (!/^\$6\$[^:\s]+\$[./A-Za-z0-9]+$/.test(hash)) throw new Error("openssl passwd -6 gave no SHA-512 crypt hash");
  return hash;
}

/** Copy the cached base to `rootfs` (reflinks where the filesystem has them). */
export async function copyBase(base: string, rootfs: string, progress: Progress): Promise<void> {
  progress(`copying ${base} to ${rootfs}`);
  await runProgram("cp", ["-a", "--reflink=auto", "--", base, rootfs], progress);
}

/**
 * Give a copy of the base its identity: hostname, /etc/hosts, a machine id of its own, the host's
 * resolver, fresh SSH host keys, the root password and the SSH key.
 */
export async function configureDebianRootfs(rootfs: string, name: string, opts: DebianOptions, progress: Progress): Promise<void> {
  const etc = join(rootfs, "etc");
  await writeFile(join(etc, "hostname"), `${name}\n`);
  await writeFile(join(etc, "hosts"), hostsFile(name));
  await writeFile(join(etc, "machine-id"), `${randomBytes(16).toString("hex")}\n`, { mode: 0o444 });
  const read = (path: string) => readFile(path, "utf8").catch(() => undefined);
  // resolv.conf may be a link in the image; the file written is the container's own
  await rm(join(etc, "resolv.conf"), { force: true });
  await writeFile(join(etc, "resolv.conf"), resolvConfFor(await read("/etc/resolv.conf"), await read("/run/systemd/resolve/resolv.conf")));
  if (await access(join(rootfs, "usr/bin/ssh-keygen"), constants.X_OK).then(() => true, () => false)) {
    progress("making SSH host keys");
    await runProgram("chroot", [rootfs, "ssh-keygen", "-A"], progress, { quiet: true });
  }
  if (opts.rootPassword !== undefined) {
    const shadow = join(etc, "shadow");
    const text = await readFile(shadow, "utf8");
    await writeFile(shadow, setShadowPassword(text, "root", await sha512Crypt(opts.rootPassword), Math.floor(Date.now() / 86_400_000)), { mode: 0o640 });
    progress("root password set");
  } else {
    progress("no root password given: root cannot log in on the console (set one with --root-password)");
  }
  if (opts.sshKey !== undefined) {
    const dir = join(rootfs, "root/.ssh");
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await chmod(dir, 0o700);
    await writeFile(join(dir, "authorized_keys"), opts.sshKey.endsWith("\n") ? opts.sshKey : `${opts.sshKey}\n`, { mode: 0o600 });
    progress("SSH key written to /root/.ssh/authorized_keys");
  }
}

/** The seccomp policy LXC's common.conf gives every container: the syscalls that reach past it. */
export const DEBIAN_SECCOMP = `2
denylist
reject_force_umount
[all]
kexec_load errno 1
open_by_handle_at errno 1
init_module errno 1
finit_module errno 1
delete_module errno 1
`;

/**
 * The config, what lxc-create -t debian writes with debian.common.conf in spirit: LXC's mixed
 * mounts for systemd, ttys and ptys, the same capability drops and seccomp denylist, the default
 * init (/sbin/init, systemd), and one veth on the managed bridge with `address`. No
 * lxc.signal.halt: the runtime sees that systemd blocks SIGRTMIN+3 and sends that.
 */
export function debianConfig(name: string, rootfs: string, address: string, seccompPath: string, hwaddr = randomHwaddr()): ContainerConfig {
  const config = emptyConfig();
  config.utsname = name;
  config.rootfs = { path: rootfs };
  config.mountAuto = { proc: "mixed", sys: "mixed", cgroup: "cgroup:mixed" };
  config.autodev = true;
  config.ttyMax = DEBIAN_TTYS;
  config.ptyMax = 1024;
  config.capDrop = ["mac_admin", "mac_override", "sys_time", "sys_module", "sys_rawio"];
  config.seccompProfile = seccompPath;
  config.net = [{
    index: 0,
    type: "veth",
    link: MANAGED_BRIDGE.name,
    flags: "up",
    hwaddr,
    ipv4Addresses: [address],
    ipv4Gateway: "auto",
    ipv6Addresses: [],
  }];
  return config;
}

/**
 * A MAC in the 00:16:3e range LXC uses, filled once at create as lxc-create does (its Debian
 * configs carry a concrete lxc.net.0.hwaddr): the container keeps its MAC across starts, so the
 * host's neighbour entry for its address stays right.
 */
export function randomHwaddr(): string {
  return rtnetlink.completeHwaddr("00:16:3e:xx:xx:xx", () => randomInt(16));
}

/** The release a base was built from, as its os-release says (for messages and tests). */
export function baseRelease(base: string): string | undefined {
  try {
    return /^VERSION_CODENAME=(.*)$/m.exec(readFileSync(join(base, "etc/os-release"), "utf8"))?.[1];
  } catch (e) {
    expected(e, ["ENOENT"], `reading ${base}/etc/os-release`);
    return undefined;
  }
}
