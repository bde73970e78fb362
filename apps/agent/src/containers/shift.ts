// The shifted-ownership route for unprivileged containers (`corral create --unprivileged`): every
// file of a rootfs the template laid out as host root is given to the ids the map makes of its
// owner (uid 0 becomes host uid 100000, 33 becomes 100033, ...), as lxc-create with an idmap
// leaves it, and the users and groups its POSIX ACLs name are shifted the same way (Debian's
// /var/log/journal has one for adm), as Incus shifts them, and so are its file capabilities
// (ping's cap_net_raw), which chown drops: they are written back as the kernel keeps them for a
// user namespace, with the host uid of the container's root. Such a rootfs then starts without an
// idmapped mount, on any filesystem. Runs on the host, inside the new container's own directory
// only.
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

const FILE_CAPS_XATTR = "security.capability";
/** vfs_cap_data: a u32 magic (revision and the effective flag), permitted and inheritable as two
 * u32 pairs, and in revision 3 the uid of the root the capabilities are for. */
const VFS_CAP_REVISION_MASK = 0xff000000;
const VFS_CAP_REVISION_2 = 0x02000000;
const VFS_CAP_REVISION_3 = 0x03000000;
const VFS_CAP_FLAGS_EFFECTIVE = 0x000001;
const VFS_CAP_V2_BYTES = 20;
const VFS_CAP_V3_BYTES = 24;

/**
 * A file's capabilities for the container's root: revision 3 with the root id mapped (a revision
 * 2 value is host root's, root id 0), which the kernel honours only inside a user namespace whose
 * root that is. Undefined when the value is not one it knows, or its root is outside the map. Pure.
 */
export function shiftedFileCaps(value: Buffer, idmap: readonly IdMapRange[]): Buffer | undefined {
  const magic = value.length >= 4 ? value.readUInt32LE(0) : 0;
  const revision = magic & VFS_CAP_REVISION_MASK;
  const v2 = revision === VFS_CAP_REVISION_2 && value.length === VFS_CAP_V2_BYTES;
  if (!v2 && !(revision === VFS_CAP_REVISION_3 && value.length === VFS_CAP_V3_BYTES)) return undefined;
  const rootid = mapToHost(idmap, "u", v2 ? 0 : value.readUInt32LE(20));
  if (rootid === undefined) return undefined;
  const out = Buffer.alloc(VFS_CAP_V3_BYTES);
  value.copy(out, 0, 0, VFS_CAP_V2_BYTES);
  out.writeUInt32LE((VFS_CAP_REVISION_3 | (magic & VFS_CAP_FLAGS_EFFECTIVE)) >>> 0, 0);
  out.writeUInt32LE(rootid, 20);
  return out;
}

/** The capabilities of a regular file, read before chown drops them. */
function fileCaps(xattrs: XattrAccess, path: string, st: Stats): Buffer | undefined {
  return st.isFile() ? xattrs.getXattr(path, FILE_CAPS_XATTR) : undefined;
}

function restoreFileCaps(xattrs: XattrAccess, path: string, caps: Buffer | undefined, idmap: readonly IdMapRange[]): void {
  const shifted = caps && shiftedFileCaps(caps, idmap);
  if (shifted) xattrs.setXattr(path, FILE_CAPS_XATTR, shifted);
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
    const caps = fileCaps(xattrs, path, st);
    lchownSync(path, owner.uid, owner.gid);
    const mode = keptMode(st);
    if (mode !== undefined) chmodSync(path, mode);
    restoreFileCaps(xattrs, path, caps, idmap);
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
    const caps = fileCaps(xattrs, path, st);
    await lchown(path, owner.uid, owner.gid);
    const mode = keptMode(st);
    if (mode !== undefined) await chmod(path, mode);
    restoreFileCaps(xattrs, path, caps, idmap);
  }
  shiftAcls(xattrs, path, st, idmap);
  if (st.isDirectory()) for (const name of await readdir(path)) await shiftOwnership(xattrs, join(path, name), idmap, st.dev);
}
