// Builds the setup plan that the container's child runs between clone and execve: start.c's
// do_start and lxc_setup, as data. Pure: no I/O, unit-tested without root.
//
// Everything here runs *inside the container's new namespaces* (the executor is the child after
// clone), but until pivot_root the host's filesystem is visible: every mount below targets the
// rootfs and is resolved inside it (RESOLVE_IN_ROOT), never on the host's tree.
import { CAPABILITIES, capabilityNumber, SIGKILL, type ContainerConfig, type MountEntry } from "@corral/core";
import { MS, parseMountOptions } from "./mount-options.ts";
import type { SetupOp } from "./plan.ts";
import { SyncMessage } from "./sync.ts";

const PR_SET_PDEATHSIG = 1;
const PR_SET_DUMPABLE = 4;
const S_IFCHR = 0o020000;
const S_IFREG = 0o100000;
const CAP_SYS_BOOT = 22;
const CAP_NET_ADMIN = 12;
const CLONE_NEWCGROUP = 0x02000000;

export type ConsoleSetup =
  /** the init gets the supervisor's own 0, 1, 2 (a foreground `corral run`) */
  | { kind: "inherit" }
  /** the init's 0, 1, 2 and /dev/console are the slave of a pty the agent reads */
  | { kind: "pty"; slaveFd: number; slavePath: string };

export interface PlanInput {
  config: ContainerConfig;
  /** host path of the rootfs directory */
  rootfs: string;
  hostname: string;
  argv: string[];
  env: string[];
  console: ConsoleSetup;
  /** host paths of the tty slaves to bind on /dev/tty1..N (lxc.tty.max, with lxc.autodev) */
  ttys?: string[];
  /** a compiled seccomp filter (8 bytes per instruction), if the config has a profile */
  seccomp?: Uint8Array;
  /** true only on kernels that cannot confine reboot(2) to a PID namespace (before 3.4) */
  dropCapSysBoot: boolean;
  /** wait for the parent between CONFIGURE and POST_CONFIGURE (a cgroup v1 attach, veths) */
  syncWithParent: boolean;
  /** the container is in a cgroup2 hierarchy: lxc.mount.auto cgroup mounts it on /sys/fs/cgroup */
  cgroup2?: boolean;
  /** the container has a network namespace of its own (proc:mixed and sys:mixed leave its net writable) */
  ownNetns?: boolean;
  /** host path of a file holding this start's boot id, bound over /proc/sys/kernel/random/boot_id */
  bootIdPath?: string;
  /**
   * An unprivileged container (lxc.idmap): the child is in a user namespace of its own, whose
   * maps the parent writes right after the clone. `rootfsTree`: the rootfs's idmapped mount (an
   * fd the child inherits) to attach instead of binding the rootfs onto itself, which serves a
   * rootfs whose ids are already shifted.
   */
  userns?: { rootfsTree?: number };
}

/** The devices of a minimal /dev (lxc.autodev): name, major, minor. */
const AUTODEV_NODES: ReadonlyArray<[string, number, number]> = [
  ["null", 1, 3], ["zero", 1, 5], ["full", 1, 7], ["random", 1, 8], ["urandom", 1, 9], ["tty", 5, 0],
];

export function buildSetupPlan(input: PlanInput): SetupOp[] {
  const barrier: SetupOp[] = input.syncWithParent ? [
    { op: "sync_wake", barrier: SyncMessage.Configure, why: "tell the parent the namespaces exist" },
    { op: "sync_wait", barrier: SyncMessage.PostConfigure, why: "wait for cgroup and network" },
  ] : [];
  const ops: SetupOp[] = [
    { op: "sync_stamp", kind: SyncMessage.Started, why: "time the clone" },
    { op: "prctl", option: PR_SET_PDEATHSIG, arg: SIGKILL, why: "die with the supervisor" },
    ...(input.userns ? [{ op: "sync_wait" as const, barrier: SyncMessage.IdMapped, why: "wait for the parent to write the uid and gid maps" }] : []),
    ...barrier,
    // Once in all its cgroups (born in v2, v1 attached during the barrier): a cgroup namespace
    // rooted there, as LXC makes, so /proc/self/cgroup and a cgroup2 mount show only its own tree.
    { op: "unshare", flags: CLONE_NEWCGROUP, why: "enter a cgroup namespace rooted at the container's cgroup" },
    ...attachRootfsOps(input),
    ...(input.userns ? becomeRootInside() : []),
    ...rootfsSetupOps(input),
    { op: "sethostname", name: input.hostname, why: "set the hostname" },
    ...consoleOps(input.console),
    ...capabilityOps(input.config, input.dropCapSysBoot),
    ...(input.seccomp ? [{ op: "seccomp" as const, filter: input.seccomp, why: "load the seccomp profile" }] : []),
    ...identityOps(input.config),
    { op: "chdir", path: input.config.init.cwd ?? "/", why: "enter the init's working directory" },
    { op: "limit_fds", keep: 3, why: "let only fds 0, 1 and 2 reach the init" },
    { op: "sync_stamp", kind: SyncMessage.SetupDone, why: "time the setup" },
    { op: "exec", path: input.argv[0] ?? "/sbin/init", argv: input.argv, env: input.env, why: "exec the init" },
  ];
  return input.userns ? ops.map(keepLockedFlags) : ops;
}

/**
 * A child in a user namespace of its own becomes root inside once its maps are written and its
 * rootfs opened (start.c's do_start: lxc_switch_uid_gid(0, 0)); until then it is the host's root,
 * which the namespace does not map: files it made would have no owner there. A change of
 * credentials clears the parent-death signal, and, the child sharing the agent's memory until
 * exec, would leave the agent not dumpable: both are set again, as LXC does.
 */
function becomeRootInside(): SetupOp[] {
  return [
    { op: "setgid", gid: 0, why: "become gid 0 inside the user namespace" },
    { op: "setgroups_empty", why: "drop supplementary groups" },
    { op: "setuid", uid: 0, why: "become uid 0 inside the user namespace" },
    { op: "prctl", option: PR_SET_DUMPABLE, arg: 1, why: "stay dumpable (lxc-attach enters by /proc/PID/ns)" },
    { op: "prctl", option: PR_SET_PDEATHSIG, arg: SIGKILL, why: "die with the supervisor (the uid change cleared it)" },
  ];
}

/** In a user namespace a bind remount must repeat the flags the kernel locked (else EPERM). */
function keepLockedFlags(op: SetupOp): SetupOp {
  const bindRemount = MS.BIND | MS.REMOUNT;
  return op.op === "mount" && (op.flags & bindRemount) === bindRemount ? { ...op, keepLocked: true } : op;
}

/**
 * The rootfs attached and opened. In a user namespace this runs before the child becomes root
 * inside: the rootfs's host path may pass through directories only host root may enter (an
 * lxcpath made by mktemp is 0700), and from here on everything is resolved from the rootfs's fd.
 */
function attachRootfsOps(input: PlanInput): SetupOp[] {
  const { rootfs } = input;
  const tree = input.userns?.rootfsTree;
  return [
    // Keep the host's later mounts out, and ours out of the host (start.c: MS_SLAVE | MS_REC).
    { op: "mount", source: "", target: "/", fstype: "", flags: MS.REC | MS.SLAVE, data: "", inRoot: false, optional: false, why: "make / a slave mount" },
    tree !== undefined
      ? { op: "move_mount", fd: tree, target: rootfs, why: "attach the rootfs's idmapped mount" }
      : { op: "mount", source: rootfs, target: rootfs, fstype: "", flags: MS.BIND | MS.REC, data: "", inRoot: false, optional: false, why: "bind the rootfs onto itself" },
    { op: "open_root", path: rootfs, why: "open the rootfs" },
  ];
}

/** Mounts inside the opened rootfs, then pivot_root into it (by its fd). */
function rootfsSetupOps(input: PlanInput): SetupOp[] {
  const { config, rootfs } = input;
  return [
    ...autoMountOps(input),
    ...(config.autodev ? autodevOps(input.console, config.ptyMax, input.ttys ?? [], input.userns !== undefined) : []),
    ...config.mountEntries.flatMap(mountEntryOps),
    { op: "pivot_root", newRoot: rootfs, why: "pivot_root into the rootfs" },
  ];
}

function inRootMount(source: string, target: string, fstype: string, flags: number, data: string, why: string, optional = false): SetupOp {
  return { op: "mount", source, target, fstype, flags, data, inRoot: true, optional, why };
}

/** A bind of one path of the rootfs onto another, both resolved inside it (never a host path). */
function inRootBind(source: string, target: string, flags: number, why: string, optional = false): SetupOp {
  return { op: "mount", source, target, fstype: "", flags, data: "", inRoot: true, sourceInRoot: true, optional, why };
}

function mkdirInRoot(path: string, why: string, mode = 0o755): SetupOp {
  return { op: "mkdir", path, mode, inRoot: true, why };
}

/** /proc and /sys as lxc.mount.auto asks; both must be real directories in the rootfs. */
function autoMountOps(input: PlanInput): SetupOp[] {
  const { proc, sys, cgroup } = input.config.mountAuto;
  // proc:mixed and sys:mixed leave the network's knobs writable to a container that owns its
  // network namespace and may administer it, as LXC does (sysctl net.* works inside).
  const netWritable = (input.ownNetns ?? false) && !capabilitiesToDrop(input.config, input.dropCapSysBoot).includes(CAP_NET_ADMIN);
  // sysfs may only be mounted by a user namespace that owns the network namespace (it shows the
  // network's devices): one that shares the host's binds the host's /sys instead.
  const bindHostSys = input.userns !== undefined && !(input.ownNetns ?? false);
  return [
    ...(proc ? procOps(proc, netWritable, input.bootIdPath) : []),
    ...(sys ? sysOps(sys, netWritable, cgroup !== undefined && (input.cgroup2 ?? false) ? cgroup : undefined, bindHostSys) : []),
  ];
}

const PSEUDO = MS.NOSUID | MS.NODEV | MS.NOEXEC;

function readOnlyRemount(target: string, why: string, extra = 0): SetupOp {
  return inRootMount("", target, "", MS.BIND | MS.REMOUNT | MS.RDONLY | extra, "", why);
}

function procOps(proc: "rw" | "mixed", netWritable: boolean, bootIdPath: string | undefined): SetupOp[] {
  const ops: SetupOp[] = [
    mkdirInRoot("proc", "create /proc"),
    { op: "require_dir", path: "proc", why: "check /proc is not a symlink" },
    inRootMount("proc", "proc", "proc", PSEUDO, "", "mount /proc"),
  ];
  if (bootIdPath) {
    // A boot id of this start's own, as LXC gives (journalctl -b tells this boot from the host's).
    const target = "proc/sys/kernel/random/boot_id";
    ops.push(inRootMount(bootIdPath, target, "", MS.BIND, "", "bind this start's boot id"), readOnlyRemount(target, "make the boot id read-only"));
  }
  if (proc === "mixed") {
    // proc:mixed: /proc/sys read-only, so the container cannot retune the host's kernel, but
    // its own network's knobs (/proc/sys/net, per namespace) writable; sysrq-trigger read-only.
    if (netWritable) ops.push(inRootBind("proc/sys/net", "proc/sys/net", MS.BIND, "bind /proc/sys/net (the container's own network)"));
    ops.push(
      // recursive, to carry the net and boot id binds into the read-only /proc/sys
      inRootBind("proc/sys", "proc/sys", MS.BIND | MS.REC, "bind /proc/sys"),
      readOnlyRemount("proc/sys", "make /proc/sys read-only", PSEUDO),
      // optional: a kernel without CONFIG_MAGIC_SYSRQ has no such file (this one)
      inRootBind("proc/sysrq-trigger", "proc/sysrq-trigger", MS.BIND, "bind /proc/sysrq-trigger", true),
      inRootMount("", "proc/sysrq-trigger", "", MS.BIND | MS.REMOUNT | MS.RDONLY | PSEUDO, "", "make /proc/sysrq-trigger read-only", true),
    );
  }
  return ops;
}

/**
 * sys:ro, sys:rw, or sys:mixed (read-only but for /sys/devices/virtual/net, for a container with a
 * network of its own); and the container's cgroup2 tree for lxc.mount.auto cgroup.
 */
function sysOps(sys: "rw" | "ro" | "mixed", netWritable: boolean, cgroup: string | undefined, bindHostSys: boolean): SetupOp[] {
  const ops: SetupOp[] = [
    mkdirInRoot("sys", "create /sys"),
    { op: "require_dir", path: "sys", why: "check /sys is not a symlink" },
  ];
  if (bindHostSys) {
    ops.push(inRootMount("/sys", "sys", "", MS.BIND | MS.REC, "", "bind the host's /sys (a user namespace cannot mount sysfs for the host's network)"));
    if (sys !== "rw") ops.push(readOnlyRemount("sys", "make /sys read-only", PSEUDO));
  } else {
    ops.push(inRootMount("sysfs", "sys", "sysfs", PSEUDO | (sys === "ro" ? MS.RDONLY : 0), "", "mount /sys"));
  }
  if (sys === "mixed") {
    if (netWritable) ops.push(inRootBind("sys/devices/virtual/net", "sys/devices/virtual/net", MS.BIND, "bind /sys/devices/virtual/net (the container's own network)"));
    // only the top mount: the net bind below it stays writable
    ops.push(readOnlyRemount("sys", "make /sys read-only", PSEUDO));
  }
  // lxc.mount.auto cgroup[-full][:mixed|:ro|:rw]: in the cgroup namespace the cgroup2 mount
  // is the container's own tree, so mixed and rw both let it manage its subtree; ro is ro.
  if (cgroup) {
    const cgroupRo = /:ro\b/.test(cgroup) ? MS.RDONLY : 0;
    ops.push(inRootMount("cgroup2", "sys/fs/cgroup", "cgroup2", PSEUDO | cgroupRo, "", "mount the container's cgroup2 tree on /sys/fs/cgroup"));
  } else if (bindHostSys) {
    // the host's cgroup mounts came with its /sys: covered, as a sysfs of its own would show none
    ops.push(inRootMount("none", "sys/fs/cgroup", "tmpfs", PSEUDO | MS.RDONLY, "size=4k,mode=755", "cover the host's cgroup mounts on /sys/fs/cgroup"));
  }
  return ops;
}

function makedev(major: number, minor: number): number {
  return ((major & 0xfff) << 8) | (minor & 0xff) | ((minor & ~0xff) << 12);
}

/** A minimal /dev on a tmpfs: the standard nodes, pts, shm, the console and the ttys (lxc.autodev). */
function autodevOps(console: ConsoleSetup, ptyMax: number, ttys: readonly string[], inUserns: boolean): SetupOp[] {
  // lxc.pty.max: the container's own devpts instance holds at most that many ptys.
  const devpts = `newinstance,ptmxmode=0666,mode=0620,gid=5${ptyMax > 0 ? `,max=${ptyMax}` : ""}`;
  const ops: SetupOp[] = [
    mkdirInRoot("dev", "create /dev"),
    inRootMount("none", "dev", "tmpfs", MS.NOSUID | MS.NOEXEC, "size=500000,mode=755", "mount a tmpfs on /dev"),
    ...AUTODEV_NODES.flatMap(([name, major, minor]) => (inUserns ? boundDevice(name) : [{
      op: "mknod", path: `dev/${name}`, mode: S_IFCHR | 0o666, dev: makedev(major, minor), why: `create /dev/${name}`,
    } satisfies SetupOp])),
    mkdirInRoot("dev/pts", "create /dev/pts"),
    inRootMount("devpts", "dev/pts", "devpts", MS.NOSUID | MS.NOEXEC, devpts, "mount /dev/pts"),
    { op: "symlink", target: "pts/ptmx", path: "dev/ptmx", why: "link /dev/ptmx" },
    mkdirInRoot("dev/shm", "create /dev/shm", 0o1777),
    inRootMount("shm", "dev/shm", "tmpfs", MS.NOSUID | MS.NODEV, "mode=1777", "mount /dev/shm"),
    { op: "symlink", target: "/proc/self/fd", path: "dev/fd", why: "link /dev/fd" },
    { op: "symlink", target: "/proc/self/fd/0", path: "dev/stdin", why: "link /dev/stdin" },
    { op: "symlink", target: "/proc/self/fd/1", path: "dev/stdout", why: "link /dev/stdout" },
    { op: "symlink", target: "/proc/self/fd/2", path: "dev/stderr", why: "link /dev/stderr" },
  ];
  if (console.kind === "pty") {
    ops.push(
      { op: "mknod", path: "dev/console", mode: S_IFREG | 0o600, dev: 0, why: "create /dev/console" },
      inRootMount(console.slavePath, "dev/console", "", MS.BIND, "", "bind the console pty on /dev/console"),
    );
  }
  ttys.forEach((slavePath, i) => {
    const path = `dev/tty${i + 1}`;
    ops.push(
      { op: "mknod", path, mode: S_IFREG | 0o600, dev: 0, why: `create /${path}` },
      inRootMount(slavePath, path, "", MS.BIND, "", `bind a pty on /${path} (lxc.tty.max)`),
    );
  });
  return ops;
}

/** A user namespace may not mknod a device: the host's node is bound on an empty file (as LXC does). */
function boundDevice(name: string): SetupOp[] {
  return [
    { op: "mknod", path: `dev/${name}`, mode: S_IFREG | 0o666, dev: 0, why: `create /dev/${name} to bind the host's on` },
    inRootMount(`/dev/${name}`, `dev/${name}`, "", MS.BIND, "", `bind the host's /dev/${name}`),
  ];
}

/** One lxc.mount.entry: create the target if asked, mount, and for a read-only bind remount it. */
export function mountEntryOps(entry: MountEntry): SetupOp[] {
  const opts = parseMountOptions(entry.options);
  // Targets always live in the rootfs, even when written as absolute paths.
  const target = entry.target.replace(/^\/+/, "");
  const ops: SetupOp[] = [];
  if (opts.create === "dir") ops.push(mkdirInRoot(target, `create ${target} for a mount entry`));
  if (opts.create === "file") ops.push({ op: "mknod", path: target, mode: S_IFREG | 0o644, dev: 0, why: `create ${target} for a mount entry` });
  const flags = opts.bind ? opts.flags & ~MS.RDONLY : opts.flags;
  ops.push(inRootMount(entry.source, target, entry.fstype === "none" ? "" : entry.fstype, flags, opts.data, `mount entry ${entry.source} on ${target}`, opts.optional));
  if (opts.bind && opts.readOnly) {
    // A bind mount ignores MS_RDONLY: it takes a remount to make it read-only.
    const keep = opts.flags & (MS.NOSUID | MS.NODEV | MS.NOEXEC);
    ops.push(inRootMount("", target, "", MS.BIND | MS.REMOUNT | MS.RDONLY | keep, "", `make ${target} read-only`, opts.optional));
  }
  return ops;
}

function consoleOps(console: ConsoleSetup): SetupOp[] {
  if (console.kind === "inherit") return [];
  return [
    { op: "setsid", why: "start a session for the console" },
    { op: "dup2", from: console.slaveFd, to: 0, why: "console as stdin" },
    { op: "dup2", from: console.slaveFd, to: 1, why: "console as stdout" },
    { op: "dup2", from: console.slaveFd, to: 2, why: "console as stderr" },
    { op: "setctty", fd: 0, why: "make the console the controlling terminal" },
  ];
}

/** The capabilities to drop from the bounding set: lxc.cap.drop, or all but lxc.cap.keep. */
export function capabilitiesToDrop(config: ContainerConfig, dropCapSysBoot: boolean): number[] {
  const drop = new Set<number>();
  if (config.capKeep.length > 0) {
    const keep = new Set(config.capKeep.filter((c) => c !== "none").map((c) => capabilityNumber(c)));
    CAPABILITIES.forEach((_, n) => keep.has(n) || drop.add(n));
  }
  for (const name of config.capDrop) {
    const n = capabilityNumber(name);
    if (n !== undefined) drop.add(n);
  }
  // Only where the kernel cannot confine reboot(2) to the PID namespace (start.c: must_drop_cap_sys_boot).
  if (dropCapSysBoot) drop.add(CAP_SYS_BOOT);
  return [...drop].sort((a, b) => a - b);
}

function capabilityOps(config: ContainerConfig, dropCapSysBoot: boolean): SetupOp[] {
  return capabilitiesToDrop(config, dropCapSysBoot).map((cap) => ({
    op: "capbset_drop", cap, why: `drop ${CAPABILITIES[cap] ?? cap} from the bounding set`,
  }));
}

function identityOps(config: ContainerConfig): SetupOp[] {
  const { uid, gid } = config.init;
  const ops: SetupOp[] = [];
  if (gid !== undefined || uid !== undefined) ops.push({ op: "setgroups_empty", why: "drop supplementary groups" });
  if (gid !== undefined) ops.push({ op: "setgid", gid, why: `become gid ${gid}` });
  if (uid !== undefined) ops.push({ op: "setuid", uid, why: `become uid ${uid}` });
  return ops;
}

/** The init's environment: LXC's defaults, then lxc.environment. */
export function initEnvironment(config: ContainerConfig, hostEnv: Record<string, string | undefined>): string[] {
  const env = new Map<string, string>([
    ["PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
    ["container", "lxc"],
    ["HOME", "/"],
    ["TERM", "linux"],
  ]);
  for (const entry of config.environment) {
    const eq = entry.indexOf("=");
    if (eq > 0) env.set(entry.slice(0, eq), entry.slice(eq + 1));
    else if (hostEnv[entry] !== undefined) env.set(entry, hostEnv[entry]);
  }
  return [...env].map(([k, v]) => `${k}=${v}`);
}

/** must_drop_cap_sys_boot: kernels before 3.4 cannot confine reboot(2) to a PID namespace. */
export function kernelLacksPidnsReboot(release: string): boolean {
  const m = /^(\d+)\.(\d+)/.exec(release);
  if (!m) return true;
  const [major, minor] = [Number(m[1]), Number(m[2])];
  return major < 3 || (major === 3 && minor < 4);
}
