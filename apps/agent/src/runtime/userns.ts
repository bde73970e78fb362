// Unprivileged containers (lxc.idmap), the host's side: the maps for the child's user namespace,
// and how its rootfs is served. Runs in the host's namespaces.
//
// A rootfs owned by host root is attached through an idmapped mount (mount_setattr with
// MOUNT_ATTR_IDMAP), so root inside owns it without a chown; one already owned by the mapped
// root (made by `corral create --unprivileged`, as lxc-create with an idmap makes it) is bound as
// it is. A filesystem that refuses idmapping is named, with the shifted route.
import { ERRNO, idMapFileText, mapToHost, type IdMapRange } from "@corral/core";
import type { HostFiles } from "../host/host.ts";
import { SyscallError, type IdMapTexts, type Syscalls } from "../sys/syscalls.ts";

export const CLONE_NEWUSER = 0x10000000;

/** Why the rootfs of an unprivileged container cannot be served. */
export class RootfsIdmapError extends Error {
  constructor(message: string, override readonly cause?: unknown) {
    super(message);
    this.name = "RootfsIdmapError";
  }
}

/** What a start in a user namespace needs on the host's side. */
export interface UsernsSetup {
  maps: IdMapTexts;
  /** root inside, as the host sees it: owns the delegated cgroup and the console */
  rootUid: number;
  rootGid: number;
  /** the rootfs's idmapped mount, detached (open_tree), for the child to attach; undefined: the rootfs is already shifted */
  rootfsTree?: number;
}

/** The host ids of root inside; the config parser has checked that root is mapped. */
export function mappedRoot(idmap: readonly IdMapRange[]): { uid: number; gid: number } {
  return { uid: mapToHost(idmap, "u", 0) ?? 0, gid: mapToHost(idmap, "g", 0) ?? 0 };
}

/** The filesystem type and mount point under `path`, from a /proc/self/mountinfo text. Pure. */
export function filesystemOf(mountinfo: string, path: string): { fstype: string; mountPoint: string } | undefined {
  let best: { fstype: string; mountPoint: string } | undefined;
  for (const line of mountinfo.split("\n")) {
    const [left, right] = line.split(" - ");
    const mountPoint = left?.split(" ")[4]?.replace(/\\040/g, " ");
    const fstype = right?.split(" ")[0];
    if (!mountPoint || !fstype) continue;
    const under = mountPoint === "/" || path === mountPoint || path.startsWith(`${mountPoint}/`);
    // The later of two mounts on one point is the one on top.
    if (under && (!best || mountPoint.length >= best.mountPoint.length)) best = { fstype, mountPoint };
  }
  return best;
}

/**
 * Prepare a start in a user namespace: the maps, and the rootfs's idmapped mount unless the
 * rootfs already belongs to the mapped root. The caller closes `rootfsTree` once the child is
 * cloned (the child has its own copy of the fd).
 */
export function prepareUserns(sys: Syscalls, files: HostFiles, rootfs: string, idmap: readonly IdMapRange[]): UsernsSetup {
  const maps = { uidMap: idMapFileText(idmap, "u"), gidMap: idMapFileText(idmap, "g") };
  const root = mappedRoot(idmap);
  const setup: UsernsSetup = { maps, rootUid: root.uid, rootGid: root.gid };
  if (files.stat(rootfs)?.uid === root.uid) return setup;
  const userns = sys.usernsFd(maps);
  try {
    setup.rootfsTree = sys.idmappedTree(rootfs, userns);
  } catch (e) {
    // EINVAL: the filesystem lacks FS_ALLOW_IDMAP (mount_setattr's answer then)
    if (!(e instanceof SyscallError && e.errno === ERRNO.EINVAL)) throw e;
    const fs = filesystemOf(files.readText("/proc/self/mountinfo"), rootfs);
    const where = fs ? `a ${fs.fstype} filesystem (mounted on ${fs.mountPoint})` : "a filesystem";
    throw new RootfsIdmapError(
      `the rootfs ${rootfs} is on ${where} that cannot be idmapped (${e.call}: ${e.code}); ` +
        `make a rootfs owned by the mapped ids instead: \`corral create --unprivileged\` chowns it by the map at create, as lxc-create with an idmap does, and it then starts without an idmapped mount`,
      e,
    );
  } finally {
    sys.close(userns);
  }
  return setup;
}
