// The one syscall boundary of the agent: everything that needs a syscall Node does not offer goes
// through this interface. `native.ts` implements it with ffi-rs and the C executor; `fake.ts`
// records calls for unit tests.
import { errnoName } from "@corral/core";

export interface Syscalls {
  /**
   * Clone a child into `cloneFlags` namespaces that runs the encoded setup plan; its pid. With a
   * `cgroupFd` (a cgroup v2 directory) the child is born in that cgroup (CLONE_INTO_CGROUP).
   */
  spawn(plan: Uint8Array, cloneFlags: number, childFd: number, parentFd: number, cgroupFd: number, idMaps?: IdMapTexts): number;
  /** A user namespace with these maps, held by the fd it returns (close-on-exec). */
  usernsFd(maps: IdMapTexts): number;
  /**
   * A detached copy of the mount at `path`, idmapped through the user namespace `usernsFd`
   * (open_tree + mount_setattr MOUNT_ATTR_IDMAP); its fd, close-on-exec.
   */
  idmappedTree(path: string, usernsFd: number): number;
  /** An extended attribute of `path` itself (lgetxattr); undefined when it has none of that name. */
  getXattr(path: string, name: string): Buffer | undefined;
  setXattr(path: string, name: string, value: Uint8Array): void;
  /** Free what a spawned child used of our memory, once it has exec'd or exited. */
  release(pid: number): void;
  /** A SOCK_STREAM pair, both ends close-on-exec. */
  socketpair(): [number, number];
  /** The raw wait status if `pid` has ended (and reaps it), null while it runs. */
  reap(pid: number): number | null;
  /** For a long-lived process (the agent): large blocks of memory go back to the kernel once freed. */
  tuneMalloc(): void;
  /** malloc_trim(0): what malloc holds free goes back to the kernel. */
  trimMalloc(): void;
  /** A child that has ended, with its raw wait status, left unreaped (it may not be one of ours); null if none has. */
  exitedChild(): { pid: number; status: number } | null;
  /** A pty pair for a console, both close-on-exec. */
  openpty(): { master: number; slave: number };
  /** The uid of the peer of a connected unix socket (SO_PEERCRED). */
  peerUid(fd: number): number;
  /** One write to a FIFO opened non-blocking; false when nobody reads it (ENXIO, ENOENT). */
  fifoWrite(path: string, data: Uint8Array): boolean;
  kill(pid: number, signal: number): void;
  /** Run thread `tid` of this process under SCHED_IDLE (background work: any other thread preempts it). */
  idleScheduling(tid: number): void;
  close(fd: number): void;
  /** One write(2) of `value` to `path`: cgroupfs reports refusals only as the write's errno. */
  writeFile(path: string, value: string): void;
  /**
   * A listening unix stream socket (close-on-exec) bound to the abstract address "\0" + `name`,
   * whose address length counts the name's bytes only, as liblxc connects; its fd.
   */
  listenAbstract(name: Uint8Array): number;
  /** A pidfd for `pid` (close-on-exec). */
  pidfdOpen(pid: number): number;
  /** A NETLINK_ROUTE socket in the network namespace of `pid` (0: our own); its fd. */
  netlinkSocket(pid: number): number;
  /** Send one rtnetlink request on `sock` and return the one datagram that answers it. */
  netlinkCall(sock: number, request: Uint8Array): Buffer;
  /** Put a terminal in raw mode (cfmakeraw): bytes pass through it unchanged. */
  makeRaw(fd: number): void;
  /** Set a terminal's window size (TIOCSWINSZ). */
  setWindowSize(fd: number, rows: number, cols: number): void;
  /** Send `data` on a connected unix socket with `fds` attached (SCM_RIGHTS), all in one sendmsg. */
  sendWithFds(sock: number, data: Uint8Array, fds: number[]): void;
}

/**
 * A user namespace's maps as /proc/PID/uid_map and gid_map take them (core's idMapFileText). With
 * them, spawn writes the child's maps right after the clone, natively, and sends ID_MAPPED.
 */
export interface IdMapTexts {
  uidMap: string;
  gidMap: string;
}

/** A failed syscall: which call, which errno, and what the runtime was doing. */
export class SyscallError extends Error {
  constructor(
    readonly call: string,
    readonly errno: number,
    readonly context: string,
  ) {
    super(`${context}: ${call}: ${errnoName(errno)} (${errno})`);
    this.name = "SyscallError";
  }

  get code(): string {
    return errnoName(this.errno);
  }
}

/** Turn a native "-errno or value" return into a value or a SyscallError. */
export function check(call: string, ret: number, context: string): number {
  if (ret < 0) throw new SyscallError(call, -ret, context);
  return ret;
}

/** Split a value packed by the executor as (hi << 32) | lo. */
export function unpack(packed: number): [number, number] {
  const hi = Math.floor(packed / 2 ** 32);
  return [hi, packed - hi * 2 ** 32];
}
