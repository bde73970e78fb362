// The only module that imports ffi-rs. It loads the native library (native/executor.c, the plan
// executor, and native/host.c, the host-side helpers, built into native/build/libcorral.so by
// native/build.sh) and exposes it as `Syscalls`.
import { ERRNO } from "@corral/core";
import { existsSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { DataType, define, open, type FieldType } from "ffi-rs";
import { check, SyscallError, unpack, type Syscalls } from "./syscalls.ts";

const LIBRARY = "corral";
/** native/build/libcorral.so of this package: two levels up from src/sys, one from a dist bundle. */
export const LIBRARY_PATH = ["../../native/build/libcorral.so", "../native/build/libcorral.so"]
  .map((rel) => fileURLToPath(new URL(rel, import.meta.url)))
  .find((path) => existsSync(path)) ?? fileURLToPath(new URL("../../native/build/libcorral.so", import.meta.url));

type NativeName = "corral_spawn" | "corral_release" | "corral_socketpair" | "corral_reap" | "corral_exited_child" | "corral_tune_malloc" | "corral_malloc_trim" | "corral_openpty" | "corral_peer_uid" | "corral_fifo_write" | "corral_kill" | "corral_sched_idle" | "corral_close" | "corral_listen_abstract" | "corral_send_fds" | "corral_make_raw" | "corral_set_winsize" | "corral_netlink_socket" | "corral_netlink_call" | "corral_pidfd_open" | "corral_userns_fd" | "corral_idmapped_tree" | "corral_lgetxattr" | "corral_lsetxattr";

const signatures: Record<NativeName, { library: string; retType: DataType; paramsType: FieldType[] }> = {
  corral_spawn: { library: LIBRARY, retType: DataType.I32, paramsType: [DataType.U8Array, DataType.I32, DataType.I32, DataType.I32, DataType.I32, DataType.I32, DataType.String, DataType.String] },
  corral_userns_fd: { library: LIBRARY, retType: DataType.I32, paramsType: [DataType.String, DataType.String] },
  corral_idmapped_tree: { library: LIBRARY, retType: DataType.I32, paramsType: [DataType.String, DataType.I32] },
  corral_lgetxattr: { library: LIBRARY, retType: DataType.I32, paramsType: [DataType.String, DataType.String, DataType.U8Array, DataType.I32] },
  corral_lsetxattr: { library: LIBRARY, retType: DataType.I32, paramsType: [DataType.String, DataType.String, DataType.U8Array, DataType.I32] },
  corral_release: { library: LIBRARY, retType: DataType.I32, paramsType: [DataType.I32] },
  corral_socketpair: { library: LIBRARY, retType: DataType.I64, paramsType: [] },
  corral_reap: { library: LIBRARY, retType: DataType.I64, paramsType: [DataType.I32] },
  corral_tune_malloc: { library: LIBRARY, retType: DataType.I32, paramsType: [] },
  corral_malloc_trim: { library: LIBRARY, retType: DataType.I32, paramsType: [] },
  corral_exited_child: { library: LIBRARY, retType: DataType.I64, paramsType: [] },
  corral_openpty: { library: LIBRARY, retType: DataType.I64, paramsType: [] },
  corral_peer_uid: { library: LIBRARY, retType: DataType.I64, paramsType: [DataType.I32] },
  corral_fifo_write: { library: LIBRARY, retType: DataType.I32, paramsType: [DataType.String, DataType.U8Array, DataType.I32] },
  corral_kill: { library: LIBRARY, retType: DataType.I32, paramsType: [DataType.I32, DataType.I32] },
  corral_sched_idle: { library: LIBRARY, retType: DataType.I32, paramsType: [DataType.I32] },
  corral_close: { library: LIBRARY, retType: DataType.I32, paramsType: [DataType.I32] },
  corral_listen_abstract: { library: LIBRARY, retType: DataType.I32, paramsType: [DataType.U8Array, DataType.I32] },
  corral_pidfd_open: { library: LIBRARY, retType: DataType.I32, paramsType: [DataType.I32] },
  corral_netlink_socket: { library: LIBRARY, retType: DataType.I32, paramsType: [DataType.I32] },
  corral_netlink_call: { library: LIBRARY, retType: DataType.I32, paramsType: [DataType.I32, DataType.U8Array, DataType.I32, DataType.U8Array, DataType.I32] },
  corral_make_raw: { library: LIBRARY, retType: DataType.I32, paramsType: [DataType.I32] },
  corral_set_winsize: { library: LIBRARY, retType: DataType.I32, paramsType: [DataType.I32, DataType.I32, DataType.I32] },
  corral_send_fds: { library: LIBRARY, retType: DataType.I32, paramsType: [DataType.I32, DataType.U8Array, DataType.I32, DataType.U8Array, DataType.I32] },
};

/** Every native call returns a number: a value, or -errno. */
type Native = Record<NativeName, (args: unknown[]) => number>;
let native: Native | undefined;

function lib(): Native {
  if (native) return native;
  if (!existsSync(LIBRARY_PATH)) {
    throw new Error(`the plan executor is not built: ${LIBRARY_PATH} is missing (run \`pnpm build\`)`);
  }
  open({ library: LIBRARY, path: LIBRARY_PATH });
  native = define(signatures) as unknown as Native;
  return native;
}

/** Room for one rtnetlink reply: an ack, an error, or one link's description. */
const NETLINK_REPLY_MAX = 32 * 1024;
/** Room for a dump's answer (every address of the host: a link-local IPv6 address per veth). */
const NETLINK_DUMP_MAX = 1024 * 1024;
const NLM_F_DUMP = 0x300;
/** An ACL of a few dozen entries is well under 1 KiB; the kernel caps a value at 64 KiB. */
const XATTR_MAX = 64 * 1024;
let xattrBuffer: Buffer | undefined;

export const nativeSyscalls: Syscalls = {
  spawn(plan, cloneFlags, childFd, parentFd, cgroupFd, idMaps) {
    const buf = Buffer.from(plan.buffer, plan.byteOffset, plan.byteLength);
    const ret = lib().corral_spawn([buf, buf.length, cloneFlags, childFd, parentFd, cgroupFd, idMaps?.uidMap ?? "", idMaps?.gidMap ?? ""]);
    // With maps, a failure after a good clone can only be their write (the child is gone then).
    const call = cgroupFd >= 0 ? "clone3" : "clone";
    return check(idMaps ? `${call}, then writing /proc/PID/uid_map and gid_map` : call, ret, "spawning the container's init");
  },
  usernsFd(maps) {
    return check("clone(CLONE_NEWUSER)", lib().corral_userns_fd([maps.uidMap, maps.gidMap]), "making a user namespace for the rootfs's idmapped mount");
  },
  idmappedTree(path, usernsFd) {
    const ret = lib().corral_idmapped_tree([path, usernsFd]);
    if (ret >= 0) return ret;
    const step = (-ret) >> 16;
    return check(step === 1 ? "open_tree" : "mount_setattr(MOUNT_ATTR_IDMAP)", -((-ret) & 0xffff), `idmapping ${path}`);
  },
  release(pid) {
    check("release", lib().corral_release([pid]), `releasing the spawn memory of pid ${pid}`);
  },
  getXattr(path, name) {
    // one buffer for every call: a shift asks this of each of a rootfs's files, most of them with none
    xattrBuffer ??= Buffer.alloc(XATTR_MAX);
    const n = lib().corral_lgetxattr([path, name, xattrBuffer, xattrBuffer.length]);
    if (n === -ERRNO.ENODATA || n === -ERRNO.EOPNOTSUPP) return undefined;
    return Buffer.from(xattrBuffer.subarray(0, check("lgetxattr", n, `reading ${name} of ${path}`)));
  },
  setXattr(path, name, value) {
    const buf = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    check("lsetxattr", lib().corral_lsetxattr([path, name, buf, buf.length]), `writing ${name} of ${path}`);
  },
  socketpair() {
    return unpack(check("socketpair", lib().corral_socketpair([]), "making the sync socket"));
  },
  reap(pid) {
    const ret = check("waitpid", lib().corral_reap([pid]), `reaping pid ${pid}`);
    return ret === 0 ? null : ret - 2 ** 32;
  },
  tuneMalloc() {
    check("mallopt", lib().corral_tune_malloc([]), "setting malloc's mmap threshold");
  },
  trimMalloc() {
    lib().corral_malloc_trim([]);
  },
  exitedChild() {
    const ret = lib().corral_exited_child([]);
    if (ret === -ERRNO.ECHILD || ret === 0) return null;
    check("waitid", ret, "asking which child has ended");
    return { pid: ret % 2 ** 32, status: Math.floor(ret / 2 ** 32) };
  },
  openpty() {
    const [master, slave] = unpack(check("openpty", lib().corral_openpty([]), "opening the console pty"));
    return { master, slave };
  },
  peerUid(fd) {
    return check("getsockopt(SO_PEERCRED)", lib().corral_peer_uid([fd]), "checking a command-socket peer");
  },
  fifoWrite(path, data) {
    const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const ret = lib().corral_fifo_write([path, buf, buf.length]);
    if (ret === -ERRNO.ENXIO || ret === -ERRNO.ENOENT) return false;
    check("write", ret, `writing to ${path}`);
    return true;
  },
  kill(pid, signal) {
    check("kill", lib().corral_kill([pid, signal]), `sending signal ${signal} to pid ${pid}`);
  },
  idleScheduling(tid) {
    check("sched_setscheduler(SCHED_IDLE)", lib().corral_sched_idle([tid]), `lowering thread ${tid} to SCHED_IDLE`);
  },
  close(fd) {
    check("close", lib().corral_close([fd]), `closing fd ${fd}`);
  },
  writeFile(path, value) {
    // Node's own open/write/close: half the cost of a call through ffi-rs, and cgroupfs hot.
    try {
      writeFileSync(path, value);
    } catch (e) {
      const errno = -((e as NodeJS.ErrnoException).errno ?? -5);
      throw new SyscallError("write", errno, `writing "${value}" to ${path}`);
    }
  },
  listenAbstract(name) {
    const buf = Buffer.from(name.buffer, name.byteOffset, name.byteLength);
    return check("bind", lib().corral_listen_abstract([buf, buf.length]), `listening on the abstract socket @${buf.toString().replace(/\0+$/, "")}`);
  },
  pidfdOpen(pid) {
    return check("pidfd_open", lib().corral_pidfd_open([pid]), `opening a pidfd for pid ${pid}`);
  },
  netlinkSocket(pid) {
    return check("socket(NETLINK_ROUTE)", lib().corral_netlink_socket([pid]), pid ? `opening rtnetlink in the network namespace of pid ${pid}` : "opening rtnetlink");
  },
  netlinkCall(sock, request) {
    const req = Buffer.from(request.buffer, request.byteOffset, request.byteLength);
    const dump = req.length >= 16 && (req.readUInt16LE(6) & NLM_F_DUMP) === NLM_F_DUMP;
    const reply = dump ? Buffer.allocUnsafe(NETLINK_DUMP_MAX) : Buffer.alloc(NETLINK_REPLY_MAX);
    const n = check("netlink", lib().corral_netlink_call([sock, req, req.length, reply, reply.length]), "talking to rtnetlink");
    return reply.subarray(0, n);
  },
  makeRaw(fd) {
    check("tcsetattr", lib().corral_make_raw([fd]), `putting terminal fd ${fd} in raw mode`);
  },
  setWindowSize(fd, rows, cols) {
    check("ioctl(TIOCSWINSZ)", lib().corral_set_winsize([fd, rows, cols]), `setting the window size of terminal fd ${fd}`);
  },
  sendWithFds(sock, data, fds) {
    const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const fdBuf = Buffer.alloc(4 * fds.length);
    fds.forEach((fd, i) => fdBuf.writeInt32LE(fd, 4 * i));
    const sent = check("sendmsg", lib().corral_send_fds([sock, buf, buf.length, fdBuf, fds.length]), `sending ${fds.length} fds on fd ${sock}`);
    if (sent !== buf.length) throw new SyscallError("sendmsg", 11, `sending ${buf.length} bytes with fds on fd ${sock}: only ${sent} went`);
  },
};
