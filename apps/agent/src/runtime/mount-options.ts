// fstab-style mount options (lxc.mount.entry) turned into mount(2) flags and data. Pure.

export const MS = {
  RDONLY: 1, NOSUID: 2, NODEV: 4, NOEXEC: 8, SYNCHRONOUS: 16, REMOUNT: 32, MANDLOCK: 64,
  DIRSYNC: 128, NOATIME: 1024, NODIRATIME: 2048, BIND: 4096, MOVE: 8192, REC: 16384,
  PRIVATE: 1 << 18, SLAVE: 1 << 19, SHARED: 1 << 20, RELATIME: 1 << 21, STRICTATIME: 1 << 24,
} as const;

/** Options that set a flag, and options that clear one (mount(8)'s names). */
const SET: Record<string, number> = {
  ro: MS.RDONLY, nosuid: MS.NOSUID, nodev: MS.NODEV, noexec: MS.NOEXEC, sync: MS.SYNCHRONOUS,
  dirsync: MS.DIRSYNC, noatime: MS.NOATIME, nodiratime: MS.NODIRATIME, bind: MS.BIND,
  rbind: MS.BIND | MS.REC, relatime: MS.RELATIME, strictatime: MS.STRICTATIME, remount: MS.REMOUNT,
};
const CLEAR: Record<string, number> = {
  rw: MS.RDONLY, suid: MS.NOSUID, dev: MS.NODEV, exec: MS.NOEXEC, async: MS.SYNCHRONOUS,
  atime: MS.NOATIME, diratime: MS.NODIRATIME, norelatime: MS.RELATIME,
};
/** Options that LXC itself reads and mount(2) never sees. */
const LXC_ONLY = new Set(["optional", "create=dir", "create=file", "defaults", "auto", "noauto", "user", "nouser"]);

export interface ParsedMountOptions {
  flags: number;
  /** what mount(2) gets as data: the options it does not know as flags */
  data: string;
  bind: boolean;
  readOnly: boolean;
  optional: boolean;
  create?: "dir" | "file";
}

export function parseMountOptions(options: readonly string[]): ParsedMountOptions {
  let flags = 0;
  const data: string[] = [];
  for (const opt of options) {
    if (opt in SET) flags |= SET[opt]!;
    else if (opt in CLEAR) flags &= ~CLEAR[opt]!;
    else if (!LXC_ONLY.has(opt)) data.push(opt);
  }
  return {
    flags,
    data: data.join(","),
    bind: (flags & MS.BIND) !== 0,
    readOnly: (flags & MS.RDONLY) !== 0,
    optional: options.includes("optional"),
    create: options.includes("create=dir") ? "dir" : options.includes("create=file") ? "file" : undefined,
  };
}
