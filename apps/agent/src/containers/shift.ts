// The shifted-ownership route for unprivileged containers (`corral create --unprivileged`): every
// file of a rootfs the template laid out as host root is given to the ids the map makes of its
// owner (uid 0 becomes host uid 100000, 33 becomes 100033, ...), as lxc-create with an idmap
// leaves it. Such a rootfs then starts without an idmapped mount, on any filesystem. Runs on the
// host, inside the new container's own directory only.
import { chmodSync, lchownSync, lstatSync, readdirSync, type Stats } from "node:fs";
import { chmod, lchown, lstat, readdir } from "node:fs/promises";
import { join } from "node:path";
import { mapToHost, type IdMapRange } from "@corral/core";

/**
 * The host ids a file of these ids gets; undefined when it keeps them (ids the map leaves out
 * stay as they are, and show inside as the overflow id, nobody).
 */
export function shiftedOwner(uid: number, gid: number, idmap: readonly IdMapRange[]): { uid: number; gid: number } | undefined {
  const u = mapToHost(idmap, "u", uid);
  const g = mapToHost(idmap, "g", gid);
  if (u === undefined && g === undefined) return undefined;
  return { uid: u ?? uid, gid: g ?? gid };
}

/** chown clears the set-user-ID and set-group-ID bits, even for root: they are set back after it. */
function keptMode(st: Stats): number | undefined {
  return !st.isSymbolicLink() && (st.mode & 0o6000) !== 0 ? st.mode & 0o7777 : undefined;
}

/** Shift the ownership of `path` and everything under it (not crossing into other filesystems). */
export function shiftOwnershipSync(path: string, idmap: readonly IdMapRange[], dev = lstatSync(path).dev): void {
  const st = lstatSync(path);
  if (st.dev !== dev) return;
  const owner = shiftedOwner(st.uid, st.gid, idmap);
  if (owner) {
    lchownSync(path, owner.uid, owner.gid);
    const mode = keptMode(st);
    if (mode !== undefined) chmodSync(path, mode);
  }
  if (st.isDirectory()) for (const name of readdirSync(path)) shiftOwnershipSync(join(path, name), idmap, dev);
}

/** The same, without blocking the event loop (a Debian rootfs has some 20000 files). */
export async function shiftOwnership(path: string, idmap: readonly IdMapRange[], dev?: number): Promise<void> {
  const st = await lstat(path);
  if (dev !== undefined && st.dev !== dev) return;
  const owner = shiftedOwner(st.uid, st.gid, idmap);
  if (owner) {
    await lchown(path, owner.uid, owner.gid);
    const mode = keptMode(st);
    if (mode !== undefined) await chmod(path, mode);
  }
  if (st.isDirectory()) for (const name of await readdir(path)) await shiftOwnership(join(path, name), idmap, st.dev);
}
