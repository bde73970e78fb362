// The shifted-ownership route for unprivileged containers (`corral create --unprivileged`): every
// file of a rootfs the template laid out as host root is given to the ids the map makes of its
// owner (uid 0 becomes host uid 100000, 33 becomes 100033, ...), as lxc-create with an idmap
// leaves it, and the users and groups its POSIX ACLs name are shifted the same way (Debian's
// /var/log/journal has one for adm), as Incus shifts them. Such a rootfs then starts without an
// idmapped mount, on any filesystem. Runs on the host, inside the new container's own directory
// only. File capabilities (security.capability) are not carried over: chown drops them.
import { chmodSync, lchownSync, lstatSync, readdirSync, type Stats } from "node:fs";
import { chmod, lchown, lstat, readdir } from "node:fs/promises";
import { join } from "node:path";
import { mapToHost, type IdMapRange } from "@corral/core";
import type { Syscalls } from "../sys/syscalls.ts";

/** What the shift needs of the syscall boundary: a file's ACLs, as extended attributes. */
export type XattrAccess = Pick<Syscalls, "getXattr" | "setXattr">;

const ACL_XATTRS = ["system.posix_acl_access", "system.posix_acl_default"];
/** posix_acl_xattr_header's version, and the tags of entries that carry an id (ACL_USER, ACL_GROUP). */
const ACL_VERSION = 2;
const ACL_USER = 0x02;
const ACL_GROUP = 0x08;

/**
 * A POSIX ACL xattr (u32 version 2, then 8-byte entries: u16 tag, u16 perm, u32 id) with the ids
 * of its user and group entries mapped; undefined when nothing changes. Pure.
 */
export function shiftedAcl(value: Buffer, idmap: readonly IdMapRange[]): Buffer | undefined {
  if (value.length < 4 || (value.length - 4) % 8 !== 0 || value.readUInt32LE(0) !== ACL_VERSION) return undefined;
  const out = Buffer.from(value);
  let changed = false;
  for (let at = 4; at < out.length; at += 8) {
    const tag = out.readUInt16LE(at);
    if (tag !== ACL_USER && tag !== ACL_GROUP) continue;
    const mapped = mapToHost(idmap, tag === ACL_USER ? "u" : "g", out.readUInt32LE(at + 4));
    if (mapped === undefined) continue;
    out.writeUInt32LE(mapped, at + 4);
    changed = true;
  }
  return changed ? out : undefined;
}

function shiftAcls(xattrs: XattrAccess, path: string, st: Stats, idmap: readonly IdMapRange[]): void {
  if (st.isSymbolicLink()) return;
  for (const name of ACL_XATTRS) {
    if (name === "system.posix_acl_default" && !st.isDirectory()) continue;
    const value = xattrs.getXattr(path, name);
    const shifted = value && shiftedAcl(value, idmap);
    if (shifted) xattrs.setXattr(path, name, shifted);
  }
}

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
export function shiftOwnershipSync(xattrs: XattrAccess, path: string, idmap: readonly IdMapRange[], dev = lstatSync(path).dev): void {
  const st = lstatSync(path);
  if (st.dev !== dev) return;
  const owner = shiftedOwner(st.uid, st.gid, idmap);
  if (owner) {
    lchownSync(path, owner.uid, owner.gid);
    const mode = keptMode(st);
    if (mode !== undefined) chmodSync(path, mode);
  }
  shiftAcls(xattrs, path, st, idmap);
  if (st.isDirectory()) for (const name of readdirSync(path)) shiftOwnershipSync(xattrs, join(path, name), idmap, dev);
}

/** The same, without blocking the event loop (a Debian rootfs has some 20000 files). */
export async function shiftOwnership(xattrs: XattrAccess, path: string, idmap: readonly IdMapRange[], dev?: number): Promise<void> {
  const st = await lstat(path);
  if (dev !== undefined && st.dev !== dev) return;
  const owner = shiftedOwner(st.uid, st.gid, idmap);
  if (owner) {
    await lchown(path, owner.uid, owner.gid);
    const mode = keptMode(st);
    if (mode !== undefined) await chmod(path, mode);
  }
  shiftAcls(xattrs, path, st, idmap);
  if (st.isDirectory()) for (const name of await readdir(path)) await shiftOwnership(xattrs, join(path, name), idmap, st.dev);
}
