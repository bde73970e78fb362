// The container configuration model: what corral understands of an LXC config file.
// lxc-config.ts parses LXC's text format into it and writes it back.

/** One fstab line (lxc.mount.entry). Target is usually relative to the rootfs; kept as given. */
export interface MountEntry {
  source: string;
  target: string;
  fstype: string;
  /** mount options, "defaults" omitted (it means no option) */
  options: string[];
  dump: number;
  pass: number;
}

export type NetType = "veth" | "empty" | "none";

export interface NetConfig {
  /** the N of lxc.net.N.* */
  index: number;
  type: NetType;
  link?: string;
  name?: string;
  hwaddr?: string;
  /** "10.0.3.5/24", optionally followed by a broadcast address, as LXC takes it */
  ipv4Addresses: string[];
  /** an address, or "auto" (the bridge's address) or "dev" (a device route) */
  ipv4Gateway?: string;
  /** "2001:db8::5/64" */
  ipv6Addresses: string[];
  /** an address, or "auto" (the bridge's first global IPv6 address) or "dev" */
  ipv6Gateway?: string;
  vethPair?: string;
  flags?: "up";
  mtu?: number;
}

export interface CgroupSetting {
  version: 1 | 2;
  /** controller file, e.g. "memory.limit_in_bytes" (v1) or "memory.max" (v2) */
  key: string;
  value: string;
}

export interface MountAuto {
  proc?: "rw" | "mixed";
  sys?: "rw" | "ro" | "mixed";
  /** the whole lxc.mount.auto token, e.g. "cgroup", "cgroup:mixed", "cgroup-full:ro:force" */
  cgroup?: string;
}

export interface InitConfig {
  cmd?: string[];
  cwd?: string;
  uid?: number;
  gid?: number;
}

/**
 * One lxc.idmap range: ids INSIDE..INSIDE+COUNT-1 of the container's user namespace are
 * OUTSIDE..OUTSIDE+COUNT-1 on the host ("u" uids, "g" gids), as /proc/PID/uid_map takes them.
 */
export interface IdMapRange {
  kind: "u" | "g";
  inside: number;
  outside: number;
  count: number;
}

export interface ContainerConfig {
  utsname?: string;
  /** path is a plain directory path ("dir:" prefix stripped) */
  rootfs?: { path: string; options?: string };
  mountEntries: MountEntry[];
  mountAuto: MountAuto;
  /** LXC's default is on (lxc.autodev = 1) */
  autodev: boolean;
  net: NetConfig[];
  cgroups: CgroupSetting[];
  /** capability names (see CAPABILITIES) */
  capDrop: string[];
  /**
   * capability names to keep, all others dropped. ["none"] means keep none (LXC's
   * `lxc.cap.keep = none`); an empty list means lxc.cap.keep is not used.
   */
  capKeep: string[];
  init: InitConfig;
  /** "KEY=VALUE", or "KEY" alone to pass the host's value (as LXC does) */
  environment: string[];
  console: { logfile?: string; path?: string };
  ttyMax: number;
  ptyMax: number;
  /** signal numbers; undefined means LXC's default (SIGPWR, SIGINT, SIGKILL) */
  signals: { halt?: number; reboot?: number; stop?: number };
  hooks: { preStart: string[]; start: string[]; postStop: string[] };
  start: { auto: boolean; delay: number; order: number };
  /** lxc.idmap: a user namespace with these maps (an unprivileged container); empty: privileged */
  idmap: IdMapRange[];
  /** path of an LXC seccomp policy file; compile its text with compileSeccomp */
  seccompProfile?: string;
  /**
   * lxc.apparmor.profile as written ("generated", "unconfined", a profile name). Whether it can
   * be honoured depends on the host's kernel, so the runtime decides at start, as LXC does.
   */
  apparmorProfile?: string;
}

/** The defaults LXC applies when a key is absent. */
export const DEFAULT_SIGNALS = { halt: 30 /* SIGPWR */, reboot: 2 /* SIGINT */, stop: 9 /* SIGKILL */ } as const;

export function emptyConfig(): ContainerConfig {
  return {
    mountEntries: [],
    mountAuto: {},
    autodev: true,
    net: [],
    cgroups: [],
    capDrop: [],
    capKeep: [],
    init: {},
    environment: [],
    console: {},
    ttyMax: 0,
    ptyMax: 0,
    signals: {},
    hooks: { preStart: [], start: [], postStop: [] },
    start: { auto: false, delay: 0, order: 0 },
    idmap: [],
  };
}
