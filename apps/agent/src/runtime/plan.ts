// The setup plan: what the container's child process does between clone and execve, as data.
// TypeScript decides everything; native/executor.c runs the ops one by one and knows nothing of
// containers. Op codes are copied in native/plan.h; test/unit/native-contract.test.ts holds the copies equal.

export enum OpCode {
  Mount = 1,
  Umount2 = 2,
  Mkdir = 3,
  PivotRoot = 4,
  Chdir = 5,
  Sethostname = 6,
  Prctl = 7,
  CapbsetDrop = 8,
  SetgroupsEmpty = 9,
  Setgid = 10,
  Setuid = 11,
  Dup2 = 12,
  LimitFds = 13,
  SyncWake = 14,
  SyncWait = 15,
  Mknod = 16,
  Symlink = 17,
  Seccomp = 18,
  Setsid = 19,
  Setctty = 20,
  Exec = 21,
  OpenRoot = 22,
  RequireDir = 23,
  SyncStamp = 24,
  Unshare = 25,
  MoveMount = 26,
}

/** One primitive operation of the plan; `why` says what it is for, for error messages. */
export type SetupOp =
  /**
   * inRoot: the target is resolved inside the rootfs; sourceInRoot: the source too (a bind of one
   * path of the rootfs onto another). keepLocked: add the flags the kernel locked on the target
   * (nosuid, nodev, noexec), for a bind remount in a user namespace.
   */
  | { op: "mount"; source: string; target: string; fstype: string; flags: number; data: string; inRoot: boolean; sourceInRoot?: boolean; optional: boolean; keepLocked?: boolean; why: string }
  | { op: "umount2"; target: string; flags: number; why: string }
  | { op: "mkdir"; path: string; mode: number; inRoot: boolean; why: string }
  | { op: "pivot_root"; newRoot: string; why: string }
  | { op: "chdir"; path: string; why: string }
  | { op: "sethostname"; name: string; why: string }
  | { op: "prctl"; option: number; arg: number; why: string }
  | { op: "capbset_drop"; cap: number; why: string }
  | { op: "setgroups_empty"; why: string }
  | { op: "setgid"; gid: number; why: string }
  | { op: "setuid"; uid: number; why: string }
  | { op: "dup2"; from: number; to: number; why: string }
  | { op: "limit_fds"; keep: number; why: string }
  | { op: "sync_wake"; barrier: number; why: string }
  | { op: "sync_wait"; barrier: number; why: string }
  | { op: "mknod"; path: string; mode: number; dev: number; why: string }
  | { op: "symlink"; target: string; path: string; why: string }
  | { op: "seccomp"; filter: Uint8Array; why: string }
  | { op: "setsid"; why: string }
  | { op: "setctty"; fd: number; why: string }
  | { op: "exec"; path: string; argv: string[]; env: string[]; why: string }
  | { op: "open_root"; path: string; why: string }
  | { op: "require_dir"; path: string; why: string }
  | { op: "sync_stamp"; kind: number; why: string }
  | { op: "unshare"; flags: number; why: string }
  /** attach a detached mount (an fd from open_tree, inherited through the clone) at a host path */
  | { op: "move_mount"; fd: number; target: string; why: string };

export const PLAN_MAGIC = 0x4c505243; // "CRPL"

/** Integer and string fields of each op, in the order the executor reads them. */
function fields(op: SetupOp): { code: OpCode; ints: number[]; strs: (string | Uint8Array)[] } {
  const b = (v: boolean) => (v ? 1 : 0);
  switch (op.op) {
    case "mount": return { code: OpCode.Mount, ints: [op.flags, b(op.inRoot) | (b(op.sourceInRoot ?? false) << 1), b(op.optional), b(op.keepLocked ?? false)], strs: [op.source, op.target, op.fstype, op.data] };
    case "umount2": return { code: OpCode.Umount2, ints: [op.flags], strs: [op.target] };
    case "mkdir": return { code: OpCode.Mkdir, ints: [op.mode, b(op.inRoot)], strs: [op.path] };
    case "pivot_root": return { code: OpCode.PivotRoot, ints: [], strs: [op.newRoot] };
    case "chdir": return { code: OpCode.Chdir, ints: [], strs: [op.path] };
    case "sethostname": return { code: OpCode.Sethostname, ints: [], strs: [op.name] };
    case "prctl": return { code: OpCode.Prctl, ints: [op.option, op.arg], strs: [] };
    case "capbset_drop": return { code: OpCode.CapbsetDrop, ints: [op.cap], strs: [] };
    case "setgroups_empty": return { code: OpCode.SetgroupsEmpty, ints: [], strs: [] };
    case "setgid": return { code: OpCode.Setgid, ints: [op.gid], strs: [] };
    case "setuid": return { code: OpCode.Setuid, ints: [op.uid], strs: [] };
    case "dup2": return { code: OpCode.Dup2, ints: [op.from, op.to], strs: [] };
    case "limit_fds": return { code: OpCode.LimitFds, ints: [op.keep], strs: [] };
    case "sync_wake": return { code: OpCode.SyncWake, ints: [op.barrier], strs: [] };
    case "sync_wait": return { code: OpCode.SyncWait, ints: [op.barrier], strs: [] };
    case "mknod": return { code: OpCode.Mknod, ints: [op.mode, op.dev], strs: [op.path] };
    case "symlink": return { code: OpCode.Symlink, ints: [], strs: [op.target, op.path] };
    case "seccomp": return { code: OpCode.Seccomp, ints: [], strs: [op.filter] };
    case "setsid": return { code: OpCode.Setsid, ints: [], strs: [] };
    case "setctty": return { code: OpCode.Setctty, ints: [op.fd], strs: [] };
    case "exec": return { code: OpCode.Exec, ints: [op.argv.length], strs: [op.path, ...op.argv, ...op.env] };
    case "open_root": return { code: OpCode.OpenRoot, ints: [], strs: [op.path] };
    case "require_dir": return { code: OpCode.RequireDir, ints: [], strs: [op.path] };
    case "sync_stamp": return { code: OpCode.SyncStamp, ints: [op.kind], strs: [] };
    case "unshare": return { code: OpCode.Unshare, ints: [op.flags], strs: [] };
    case "move_mount": return { code: OpCode.MoveMount, ints: [op.fd], strs: [op.target] };
  }
}

/**
 * Encode a plan for the executor: magic, op count, then per op its code, int count, string count,
 * the ints as int64 and the strings as (u32 length, bytes, NUL). All little-endian. One buffer,
 * sized first, strings written straight into it: this runs on every start, on the agent's thread
 * (a Buffer and a BigInt per field made it 70 us a start).
 */
export function encodePlan(ops: readonly SetupOp[]): Uint8Array {
  const encoded = ops.map(fields);
  let size = 8;
  for (const e of encoded) {
    size += 12 + 8 * e.ints.length;
    for (const s of e.strs) {
      if (typeof s === "string" && s.includes("\0")) throw new Error(`plan string contains a NUL byte: ${JSON.stringify(s)}`);
      size += 5 + (typeof s === "string" ? Buffer.byteLength(s) : s.length);
    }
  }
  // zero-filled: every string's NUL is already there
  const out = Buffer.alloc(size);
  let at = out.writeUInt32LE(PLAN_MAGIC, 0);
  at = out.writeUInt32LE(ops.length, at);
  for (const e of encoded) {
    at = out.writeUInt32LE(e.code, at);
    at = out.writeUInt32LE(e.ints.length, at);
    at = out.writeUInt32LE(e.strs.length, at);
    for (const n of e.ints) at = writeInt64(out, n, at);
    for (const s of e.strs) {
      const length = typeof s === "string" ? out.write(s, at + 4) : (out.set(s, at + 4), s.length);
      out.writeUInt32LE(length, at);
      at += 4 + length + 1;
    }
  }
  return out;
}

/** An integer (a safe one: every plan field is) as a little-endian int64, in two halves. */
function writeInt64(out: Buffer, n: number, at: number): number {
  out.writeUInt32LE(n >>> 0, at);
  return out.writeInt32LE(Math.floor(n / 2 ** 32), at + 4);
}

/** "mount proc on /proc" style words for an op, for the error that names a failed step. */
export function describeOp(op: SetupOp): string {
  switch (op.op) {
    case "mount": return `mount ${op.source || op.fstype} on ${op.target}`;
    case "exec": return `exec ${op.path}`;
    case "mkdir": return `mkdir ${op.path}`;
    case "mknod": return `mknod ${op.path}`;
    case "symlink": return `symlink ${op.path}`;
    case "pivot_root": return `pivot_root into ${op.newRoot}`;
    case "move_mount": return `move_mount onto ${op.target}`;
    default: return op.op;
  }
}
