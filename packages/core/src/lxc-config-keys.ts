// What each lxc.* key does to the config model (lxc.container.conf(5), LXC 5.0).
//
// Every key LXC 5.0 knows falls in one of three groups:
// - modelled: parsed into ContainerConfig;
// - ignored with a warning: corral does not do it, and leaving it undone weakens nothing
//   (log settings, tty dir, hooks corral does not run, autostart groups, ...);
// - unsupported: it asks for confinement or a setup corral cannot provide (AppArmor, SELinux,
//   non-dir rootfs, ...). It is reported with its file and line so that the
//   caller refuses to start the container, never ignored silently.
// A key LXC does not know is an error, as it is for liblxc.

import type { MountEntry } from "./config.ts";
import { ConfigError, type ParseContext, type Where } from "./lxc-config-context.ts";
import { cgroupSettingProblem } from "./lxc-config-cgroup.ts";
import { applyNetKey } from "./lxc-config-net.ts";
import { absolutePath, appendUnique, boolean01, capabilities, ignored, integer, signal, unsigned, unsupported, type Handler } from "./lxc-config-values.ts";
import { splitCommandLine } from "./shell-words.ts";
import { idMapProblem, parseIdMapLine } from "./idmap.ts";

// ---- modelled keys ---------------------------------------------------------------------------

const HOST_NAME_MAX = 64;
const BACKEND_PREFIX = /^([a-z0-9]+):(.*)$/;

const setUtsname: Handler = (ctx, value, where) => {
  if (value === "") { delete ctx.config.utsname; return; }
  if (value.length > HOST_NAME_MAX) throw new ConfigError(where, `host name is longer than ${HOST_NAME_MAX} characters`);
  ctx.config.utsname = value;
};

const setRootfsPath: Handler = (ctx, value, where) => {
  ctx.forget(where.key);
  if (value === "") { delete ctx.config.rootfs; return; }
  let path = value;
  const backend = BACKEND_PREFIX.exec(value);
  if (backend) {
    if (backend[1] !== "dir") {
      ctx.refuse(where, `rootfs backend "${backend[1]}:" is not supported; corral runs directory rootfs only ("dir:" or a plain path)`);
      delete ctx.config.rootfs;
      return;
    }
    path = backend[2] ?? "";
  }
  if (path === "") throw new ConfigError(where, "the rootfs path is empty");
  ctx.config.rootfs = { path: absolutePath(path, where) };
};

const setRootfsOptions: Handler = (ctx, value, where) => {
  ctx.forget(where.key);
  ctx.rootfsOptions = value === "" ? undefined : { value, where };
  if (/(^|,)idmap=/.test(value)) ctx.refuse(where, "idmap= is not taken: with lxc.idmap, corral idmaps a rootfs owned by host root itself, and binds one already owned by the mapped ids as it is");
};

/** fstab fields escape blanks and backslashes as octal (\040), as getmntent(3) decodes them. */
function decodeFstabField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

function parseMountEntry(value: string, where: Where): MountEntry {
  const fields = value.split(/\s+/);
  if (fields.length < 3 || fields.length > 6) {
    throw new ConfigError(where, `expected an fstab line "source target fstype [options [dump [pass]]]", got ${JSON.stringify(value)}`);
  }
  const [source = "", target = "", fstype = "", options = "defaults", dump = "0", pass = "0"] = fields;
  return {
    source: decodeFstabField(source),
    target: decodeFstabField(target),
    fstype: decodeFstabField(fstype),
    options: options.split(",").filter((o) => o !== "" && o !== "defaults"),
    dump: unsigned(dump, where),
    pass: unsigned(pass, where),
  };
}

/** lxc.idmap: every line adds a range, an empty value clears them all (as LXC's list keys). */
const addIdMap: Handler = (ctx, value, where) => {
  if (value === "") {
    ctx.config.idmap = [];
    ctx.idmapLines = [];
    return;
  }
  const range = parseIdMapLine(value);
  if (typeof range === "string") throw new ConfigError(where, range);
  ctx.config.idmap.push(range);
  ctx.idmapLines.push({ where, value });
};

const addMountEntry: Handler = (ctx, value, where) => {
  if (value === "") ctx.config.mountEntries = [];
  else ctx.config.mountEntries.push(parseMountEntry(value, where));
};

const CGROUP_AUTO = /^cgroup(-full)?(:(mixed|ro|rw))?(:force)?$/;

const setMountAuto: Handler = (ctx, value, where) => {
  const auto = ctx.config.mountAuto;
  if (value === "") {
    ctx.forget(where.key);
    ctx.config.mountAuto = {};
    return;
  }
  for (const token of value.split(/\s+/)) {
    if (token === "proc" || token === "proc:mixed") auto.proc = "mixed";
    else if (token === "proc:rw") auto.proc = "rw";
    else if (token === "sys" || token === "sys:mixed") auto.sys = "mixed";
    else if (token === "sys:ro") auto.sys = "ro";
    else if (token === "sys:rw") auto.sys = "rw";
    else if (CGROUP_AUTO.test(token)) auto.cgroup = token;
    else if (token.startsWith("shmounts:")) ctx.refuse(where, `"${token}" (shared mounts between host and container) is not supported`);
    else throw new ConfigError(where, `unknown lxc.mount.auto token ${JSON.stringify(token)}`);
  }
};

const setCapDrop: Handler = (ctx, value, where) => {
  if (value === "") return void (ctx.config.capDrop = []);
  appendUnique(ctx.config.capDrop, capabilities(value, where));
  ctx.lastCapKey = where;
};

const setCapKeep: Handler = (ctx, value, where) => {
  if (value === "") return void (ctx.config.capKeep = []);
  for (const token of value.split(/\s+/)) {
    // "none" resets the list; alone it means "keep no capability" (kept as the ["none"] marker).
    if (token === "none") ctx.config.capKeep = ["none"];
    else {
      ctx.config.capKeep = ctx.config.capKeep.filter((c) => c !== "none");
      appendUnique(ctx.config.capKeep, capabilities(token, where));
    }
  }
  ctx.lastCapKey = where;
};

const setInitCmd: Handler = (ctx, value, where) => {
  if (value === "") { delete ctx.config.init.cmd; return; }
  let args: string[];
  try {
    args = splitCommandLine(value);
  } catch (err) {
    throw new ConfigError(where, (err as Error).message);
  }
  if (args.length === 0) { delete ctx.config.init.cmd; return; }
  ctx.config.init.cmd = args;
};

function optionalString<K extends string>(
  get: (ctx: ParseContext) => Partial<Record<K, string>>,
  field: K,
  check: (value: string, where: Where) => string = (v) => v,
): Handler {
  return (ctx, value, where) => {
    const target = get(ctx);
    // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- one of the typed keys; unset is absent, not undefined
    if (value === "") delete target[field];
    else target[field] = check(value, where);
  };
}

/** lxc.console.path: "none", "auto" or a device path. */
const consolePath = (value: string, where: Where) => (value === "none" || value === "auto" ? value : absolutePath(value, where));

function optionalUnsigned<K extends string>(
  get: (ctx: ParseContext) => Partial<Record<K, number>>,
  field: K,
): Handler {
  return (ctx, value, where) => {
    const target = get(ctx);
    // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- one of the typed keys; unset is absent, not undefined
    if (value === "") delete target[field];
    else target[field] = unsigned(value, where);
  };
}

function optionalSignal(field: "halt" | "reboot" | "stop"): Handler {
  return (ctx, value, where) => {
    // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- one of the typed keys; unset is absent, not undefined
    if (value === "") delete ctx.config.signals[field];
    else ctx.config.signals[field] = signal(value, where);
  };
}

function appendList(get: (ctx: ParseContext) => string[], reset: (ctx: ParseContext) => void): Handler {
  return (ctx, value) => {
    if (value === "") reset(ctx);
    else get(ctx).push(value);
  };
}

const hookList = (hook: "preStart" | "start" | "postStop"): Handler =>
  appendList((ctx) => ctx.config.hooks[hook], (ctx) => void (ctx.config.hooks[hook] = []));

const resetOnly = (reset: (ctx: ParseContext) => void, what: string): Handler => (ctx, value, where) => {
  if (value !== "") throw new ConfigError(where, `takes no value (it only resets ${what}); did you mean a sub-key?`);
  reset(ctx);
};

const include: Handler = (ctx, value, where) => {
  if (value === "") throw new ConfigError(where, "needs a path");
  ctx.includeFile(value, where);
};

// Kept, not judged: LXC starts any profile unconfined on a kernel without AppArmor and applies
// it on one with AppArmor, so only the runtime, which sees the kernel, can say what it means.
const setApparmorProfile: Handler = (ctx, value) => {
  if (value === "") delete ctx.config.apparmorProfile;
  else ctx.config.apparmorProfile = value;
};

const HOOK_NOT_RUN = "corral does not run this hook";

const EXACT_KEYS: Readonly<Record<string, Handler>> = {
  "lxc.uts.name": setUtsname,
  "lxc.rootfs.path": setRootfsPath,
  "lxc.rootfs.options": setRootfsOptions,
  "lxc.mount.entry": addMountEntry,
  "lxc.idmap": addIdMap,
  "lxc.mount.auto": setMountAuto,
  "lxc.autodev": (ctx, value, where) => void (ctx.config.autodev = value === "" ? false : boolean01(value, where)),
  "lxc.tty.max": (ctx, value, where) => void (ctx.config.ttyMax = value === "" ? 0 : unsigned(value, where)),
  "lxc.pty.max": (ctx, value, where) => void (ctx.config.ptyMax = value === "" ? 0 : unsigned(value, where)),
  "lxc.cap.drop": setCapDrop,
  "lxc.cap.keep": setCapKeep,
  "lxc.init.cmd": setInitCmd,
  "lxc.init.cwd": optionalString((ctx) => ctx.config.init, "cwd", absolutePath),
  "lxc.init.uid": optionalUnsigned((ctx) => ctx.config.init, "uid"),
  "lxc.init.gid": optionalUnsigned((ctx) => ctx.config.init, "gid"),
  "lxc.environment": appendList((ctx) => ctx.config.environment, (ctx) => void (ctx.config.environment = [])),
  "lxc.console.logfile": optionalString((ctx) => ctx.config.console, "logfile", absolutePath),
  "lxc.console.path": optionalString((ctx) => ctx.config.console, "path", consolePath),
  "lxc.signal.halt": optionalSignal("halt"),
  "lxc.signal.reboot": optionalSignal("reboot"),
  "lxc.signal.stop": optionalSignal("stop"),
  "lxc.hook": resetOnly((ctx) => void (ctx.config.hooks = { preStart: [], start: [], postStop: [] }), "all hooks"),
  "lxc.hook.pre-start": hookList("preStart"),
  "lxc.hook.start": hookList("start"),
  "lxc.hook.post-stop": hookList("postStop"),
  "lxc.start.auto": (ctx, value, where) => void (ctx.config.start.auto = value === "" ? false : boolean01(value, where)),
  "lxc.start.delay": (ctx, value, where) => void (ctx.config.start.delay = value === "" ? 0 : unsigned(value, where)),
  "lxc.start.order": (ctx, value, where) => void (ctx.config.start.order = value === "" ? 0 : integer(value, where)),
  "lxc.include": include,
  "lxc.seccomp.profile": optionalString((ctx) => ctx.config, "seccompProfile", absolutePath),
  "lxc.net": resetOnly((ctx) => {
    ctx.nets.clear();
    ctx.skippedNets.clear();
    ctx.unsupported = ctx.unsupported.filter((i) => !i.key.startsWith("lxc.net."));
  }, "all networks"),
  "lxc.cgroup": resetOnly((ctx) => void (ctx.config.cgroups = ctx.config.cgroups.filter((c) => c.version !== 1)), "all lxc.cgroup.* settings"),
  "lxc.cgroup2": resetOnly((ctx) => void (ctx.config.cgroups = ctx.config.cgroups.filter((c) => c.version !== 2)), "all lxc.cgroup2.* settings"),

  // Ignored, with a warning.
  // The host's architecture is all corral runs; any other is refused, not quietly ignored.
  "lxc.arch": (ctx, value, where) => {
    ctx.forget(where.key);
    if (value !== "" && !["x86_64", "amd64", "linux64"].includes(value)) ctx.refuse(where, `not supported: ${value}; corral runs x86_64 containers only`);
  },
  "lxc.tty.dir": ignored("corral creates ttys directly under /dev"),
  "lxc.log.level": ignored("corral logs through the agent"),
  "lxc.log.file": ignored("corral logs through the agent"),
  "lxc.log.syslog": ignored("corral logs through the agent"),
  "lxc.console.buffer.size": ignored("the console buffer is managed by the agent"),
  "lxc.console.size": ignored("console log rotation is managed by the agent"),
  "lxc.console.rotate": ignored("console log rotation is managed by the agent"),
  "lxc.hook.version": ignored(HOOK_NOT_RUN),
  "lxc.hook.pre-mount": ignored(HOOK_NOT_RUN),
  "lxc.hook.mount": ignored(HOOK_NOT_RUN),
  "lxc.hook.autodev": ignored(HOOK_NOT_RUN),
  "lxc.hook.start-host": ignored(HOOK_NOT_RUN),
  "lxc.hook.stop": ignored(HOOK_NOT_RUN),
  "lxc.hook.clone": ignored("corral does not clone containers"),
  "lxc.hook.destroy": ignored(HOOK_NOT_RUN),
  "lxc.apparmor.allow_incomplete": ignored("corral does not use AppArmor"),
  "lxc.apparmor.allow_nesting": ignored("corral does not use AppArmor"),
  "lxc.ephemeral": ignored("corral does not delete containers on stop"),
  "lxc.group": ignored("autostart groups are not used by corral"),
  "lxc.monitor.unshare": ignored("corral has no per-container monitor process"),
  "lxc.monitor.signal.pdeath": ignored("corral has no per-container monitor process"),
  "lxc.rootfs.mount": ignored("corral chooses where the rootfs is mounted"),
  "lxc.rootfs.managed": ignored("corral does not destroy rootfs storage"),
  "lxc.autodev.tmpfs.size": ignored("corral sizes the /dev tmpfs itself"),
  "lxc.cgroup.dir": ignored("corral places the container's cgroup itself"),
  "lxc.cgroup.dir.container": ignored("corral places the container's cgroup itself"),
  "lxc.cgroup.dir.container.inner": ignored("corral places the container's cgroup itself"),
  "lxc.cgroup.dir.monitor": ignored("corral has no per-container monitor process"),
  "lxc.cgroup.dir.monitor.pivot": ignored("corral has no per-container monitor process"),
  "lxc.cgroup.relative": ignored("corral places the container's cgroup itself"),
  "lxc.execute.cmd": ignored("corral runs lxc.init.cmd (lxc-execute is not supported)"),
  "lxc.init.groups": ignored("init runs with no supplementary groups"),
  "lxc.keyring.session": ignored("init keeps the agent's default session keyring handling"),
  "lxc.sched.core": ignored("core scheduling is not configured by corral"),
  "lxc.seccomp.allow_nesting": ignored("corral always loads the container's seccomp filter"),
  "lxc.seccomp.notify.cookie": ignored("seccomp notification is not supported"),

  // Unsupported: reported so that the caller refuses to start.
  "lxc.apparmor.profile": setApparmorProfile,
  "lxc.apparmor.raw": unsupported("raw AppArmor rules cannot be applied, corral does not use AppArmor"),
  "lxc.selinux.context": unsupported("SELinux contexts cannot be applied"),
  "lxc.selinux.context.keyring": unsupported("SELinux contexts cannot be applied"),
  "lxc.mount.fstab": unsupported("lxc.mount.fstab is not read; use lxc.mount.entry"),
  "lxc.namespace.clone": unsupported("corral chooses the namespaces itself"),
  "lxc.namespace.keep": unsupported("corral chooses the namespaces itself"),
  "lxc.no_new_privs": unsupported("PR_SET_NO_NEW_PRIVS cannot be requested per container", (v) => v === "0"),
  "lxc.seccomp.notify.proxy": unsupported("seccomp notification is not supported"),
  "lxc.time.offset.boot": unsupported("time namespaces are not supported"),
  "lxc.time.offset.monotonic": unsupported("time namespaces are not supported"),
};

// ---- families of keys: lxc.net.N.* (lxc-config-net.ts), lxc.cgroup.*, lxc.cgroup2.*, ... ------

// A cgroup key names a file in the container's cgroup directory: never let it leave it.
const CGROUP_FILE = /^[a-z0-9_]+\.[A-Za-z0-9_.-]+$/;

function applyCgroupKey(ctx: ParseContext, version: 1 | 2, file: string, value: string, where: Where): void {
  if (!CGROUP_FILE.test(file) || file.includes("..")) {
    throw new ConfigError(where, `${JSON.stringify(file)} is not a cgroup controller file like "memory.max"`);
  }
  if (value === "") {
    ctx.config.cgroups = ctx.config.cgroups.filter((c) => c.version !== version || c.key !== file);
    return;
  }
  const problem = cgroupSettingProblem(version, file, value);
  if (problem) throw new ConfigError(where, problem);
  ctx.config.cgroups.push({ version, key: file, value });
}

const UNSUPPORTED_FAMILIES: ReadonlyArray<[prefix: string, why: string]> = [
  ["lxc.prlimit.", "resource limits (lxc.prlimit.*) are not applied by corral"],
  ["lxc.sysctl.", "sysctls (lxc.sysctl.*) are not applied by corral"],
  ["lxc.proc.", "lxc.proc.* settings are not applied by corral"],
  ["lxc.namespace.share.", "sharing namespaces with other processes is not supported"],
];

/** Apply one `key = value` line (value already trimmed and unquoted). */
export function applyKey(ctx: ParseContext, key: string, value: string, where: Where): void {
  const exact = EXACT_KEYS[key];
  if (exact) { exact(ctx, value, where); return; }

  const net = /^lxc\.net\.(\d+)(?:\.(.+))?$/.exec(key);
  if (net) { applyNetKey(ctx, Number(net[1]), net[2], value, where); return; }

  const cgroup = /^lxc\.cgroup(2?)\.(.+)$/.exec(key);
  if (cgroup) { applyCgroupKey(ctx, cgroup[1] === "2" ? 2 : 1, cgroup[2] ?? "", value, where); return; }

  for (const [prefix, why] of UNSUPPORTED_FAMILIES) {
    if (key.startsWith(prefix) && key.length > prefix.length) { unsupported(why)(ctx, value, where); return; }
  }
  throw new ConfigError(where, "unknown configuration key (liblxc would refuse this file too)");
}

/** Checks that need the whole file: run once, after the last line. */
export function finishConfig(ctx: ParseContext): void {
  const config = ctx.config;
  config.net = [...ctx.nets.values()]
    .sort((a, b) => a.draft.index - b.draft.index)
    .map(({ draft, firstSeen }) => {
      if (draft.type === undefined) throw new ConfigError(firstSeen, `network ${draft.index} has no lxc.net.${draft.index}.type`);
      return { ...draft, type: draft.type };
    });
  if (ctx.rootfsOptions) {
    if (config.rootfs) config.rootfs.options = ctx.rootfsOptions.value;
    else ctx.warn(ctx.rootfsOptions.where, "ignored: lxc.rootfs.options without lxc.rootfs.path");
  }
  const idmap = idMapProblem(config.idmap);
  if (idmap) {
    const line = ctx.idmapLines[idmap.index]!;
    throw new ConfigError(line.where, `${JSON.stringify(line.value)}: ${idmap.reason}`);
  }
  if (config.capDrop.length > 0 && config.capKeep.length > 0 && ctx.lastCapKey) {
    ctx.refuse(ctx.lastCapKey, "lxc.cap.drop and lxc.cap.keep are both set; LXC refuses this too");
  }
}
