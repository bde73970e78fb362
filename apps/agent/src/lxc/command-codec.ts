// LXC's command socket protocol (LXC 5.0 src/lxc/commands.c, commands.h, commands_utils.c), the
// pure half: socket name, wire encoding, and which answer each command gets. No I/O here; the
// server that uses it is commands.ts.
//
// One connection carries one command:
//
//   client (lxc-info, lxc-wait, lxc-stop)         server (corral's agent)
//   connect("\0<lxcpath>/<name>/command")
//   struct lxc_cmd_req { int cmd; int datalen;     ->
//                        void *data }  (16 bytes)
//   datalen bytes (if datalen > 0)                 ->
//                                                  <-  struct lxc_cmd_rsp { int ret; int datalen;
//                                                                           void *data } (16 bytes)
//                                                  <-  datalen bytes (if datalen > 0)
//                                                  close
//
// Small values travel inside the 8-byte pointer field itself (INT_TO_PTR / PID_TO_PTR), with
// datalen 0. Two commands differ:
//   STOP               no answer when the stop succeeds: the client waits for the close.
//   ADD_STATE_CLIENT   data = int states[MAX_STATE]; the answer's data field is the current state if
//                      it is one of those (then close), else MAX_STATE; then, on the same connection,
//                      one struct lxc_msg when a wanted state is reached, then close.
import { ERRNO, stateName, stateNumber, type StateName } from "@corral/core";
import { encodeLxcMsg, LXC_MSG_STATE } from "./monitor.ts";

/** lxc_cmd_t (commands.h). The numbers are the wire format: never renumber. */
export const LxcCommand = {
  GET_TTY_FD: 0,
  TERMINAL_WINCH: 1,
  STOP: 2,
  GET_STATE: 3,
  GET_INIT_PID: 4,
  GET_CLONE_FLAGS: 5,
  GET_CGROUP: 6,
  GET_CONFIG_ITEM: 7,
  GET_NAME: 8,
  GET_LXCPATH: 9,
  ADD_STATE_CLIENT: 10,
  CONSOLE_LOG: 11,
  SERVE_STATE_CLIENTS: 12,
  SECCOMP_NOTIFY_ADD_LISTENER: 13,
  ADD_BPF_DEVICE_CGROUP: 14,
  FREEZE: 15,
  UNFREEZE: 16,
  GET_CGROUP2_FD: 17,
  GET_INIT_PIDFD: 18,
  GET_LIMIT_CGROUP: 19,
  GET_LIMIT_CGROUP2_FD: 20,
  GET_DEVPTS_FD: 21,
  GET_SECCOMP_NOTIFY_FD: 22,
  GET_CGROUP_CTX: 23,
  GET_CGROUP_FD: 24,
  GET_LIMIT_CGROUP_FD: 25,
  GET_SYSTEMD_SCOPE: 26,
} as const;

export type LxcCommandName = keyof typeof LxcCommand;

const COMMAND_NAMES = new Map<number, LxcCommandName>(
  Object.entries(LxcCommand).map(([name, n]) => [n, name as LxcCommandName]),
);

/** The command's name for a wire number, or undefined for a number LXC 5.0 does not define. */
export function commandName(cmd: number): LxcCommandName | undefined {
  return COMMAND_NAMES.get(cmd);
}

/** sizeof(struct lxc_cmd_req) and sizeof(struct lxc_cmd_rsp) on a 64-bit machine. */
export const CMD_REQ_SIZE = 16;
export const CMD_RSP_SIZE = 16;
/** LXC_CMD_DATA_MAX (macro.h): PATH_MAX * 2; longer requests are dropped unanswered. */
export const CMD_DATA_MAX = 4096 * 2;
/** MAX_STATE (state.h): one past the last state; also "not yet" in ADD_STATE_CLIENT's answer. */
export const MAX_STATE = 8;
/** sizeof(((struct sockaddr_un *)0)->sun_path) */
const SUN_PATH_LEN = 108;


// ---- the socket's name ----

/** FNV-1a, 64 bits (utils.c fnv_64a_buf, with FNV1A_64_INIT). */
export function fnv1a64(bytes: Uint8Array): bigint {
  let hash = 0xcbf29ce484222325n;
  for (const b of bytes) {
    hash ^= BigInt(b);
    hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return hash;
}

/**
 * The abstract socket's name, without its leading NUL (lxc_make_abstract_socket_name):
 * "<lxcpath>/<name>/<suffix>", or "lxc/<16 hex digits>/<suffix>" hashing "<lxcpath>/<name>" when
 * that does not fit in sun_path less the leading NUL and a trailing NUL (106 bytes). liblxc binds
 * and connects with exactly these bytes: no trailing NUL is part of the address.
 */
export function commandSocketName(lxcpath: string, name: string, suffix = "command"): Buffer {
  const full = Buffer.from(`${lxcpath}/${name}/${suffix}`);
  if (full.length < SUN_PATH_LEN - 2) return full;
  const hash = fnv1a64(Buffer.from(`${lxcpath}/${name}`)).toString(16).padStart(16, "0");
  return Buffer.from(`lxc/${hash}/${suffix}`);
}

// ---- requests ----

export interface CommandRequest {
  cmd: number;
  /** the request's datalen as sent (may be negative or 0) */
  datalen: number;
  /** the 8-byte pointer field, which carries small values when datalen is 0 (ENCODE_INTO_PTR_LEN) */
  inline: bigint;
  /** the datalen bytes that followed the header (empty when datalen <= 0) */
  data: Buffer;
}

export type ParsedRequest =
  | { status: "incomplete" }
  | { status: "complete"; request: CommandRequest; consumed: number }
  | { status: "invalid"; reason: string };

/** Parse one request from the bytes received so far (lxc_cmd_handler's reads). */
export function parseRequest(buf: Buffer): ParsedRequest {
  if (buf.length < CMD_REQ_SIZE) return { status: "incomplete" };
  const cmd = buf.readInt32LE(0);
  const datalen = buf.readInt32LE(4);
  const inline = buf.readBigInt64LE(8);
  if (datalen > CMD_DATA_MAX && cmd !== LxcCommand.CONSOLE_LOG) {
    return { status: "invalid", reason: `command ${cmd} carries ${datalen} bytes, more than ${CMD_DATA_MAX}` };
  }
  const want = Math.max(datalen, 0);
  if (buf.length < CMD_REQ_SIZE + want) return { status: "incomplete" };
  const data = Buffer.from(buf.subarray(CMD_REQ_SIZE, CMD_REQ_SIZE + want));
  return { status: "complete", request: { cmd, datalen, inline, data }, consumed: CMD_REQ_SIZE + want };
}

/** A request as liblxc's lxc_cmd_send writes it (for tests and tools; the agent only reads them). */
export function encodeRequest(cmd: number, data?: Buffer | number): Buffer {
  const header = Buffer.alloc(CMD_REQ_SIZE);
  header.writeInt32LE(cmd, 0);
  if (typeof data === "number") {
    header.writeBigInt64LE(BigInt(data), 8);
    return header;
  }
  const payload = data ?? Buffer.alloc(0);
  header.writeInt32LE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

// ---- responses ----

/**
 * A response: `value` a number travels in the pointer field (sign-extended, as INT_TO_PTR does),
 * a string travels after the header with its NUL, as LXC sends strings.
 */
export function encodeResponse(ret: number, value: number | string | Buffer = 0): Buffer {
  const header = Buffer.alloc(CMD_RSP_SIZE);
  header.writeInt32LE(ret, 0);
  if (typeof value === "number") {
    header.writeBigInt64LE(BigInt(value), 8);
    return header;
  }
  const payload = typeof value === "string" ? Buffer.from(`${value}\0`) : value;
  header.writeInt32LE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

export interface CommandResponse {
  ret: number;
  datalen: number;
  /** the pointer field as a C int (PTR_TO_INT) */
  inline: number;
  data: Buffer;
}

/** Parse a response (for tests; liblxc's lxc_cmd_rsp_recv), or undefined while incomplete. */
export function parseResponse(buf: Buffer): CommandResponse | undefined {
  if (buf.length < CMD_RSP_SIZE) return undefined;
  const datalen = buf.readInt32LE(4);
  const want = Math.max(datalen, 0);
  if (buf.length < CMD_RSP_SIZE + want) return undefined;
  return {
    ret: buf.readInt32LE(0),
    datalen,
    inline: Number(BigInt.asIntN(32, buf.readBigInt64LE(8))),
    data: buf.subarray(CMD_RSP_SIZE, CMD_RSP_SIZE + want),
  };
}

/** The lxc_msg a state client gets when a wanted state is reached (start.c lxc_serve_state_clients). */
export function encodeStateMessage(name: string, state: StateName): Buffer {
  return encodeLxcMsg(LXC_MSG_STATE, name, stateNumber(state));
}

// ---- ADD_STATE_CLIENT ----

/** The states an ADD_STATE_CLIENT request asks for: int states[MAX_STATE], or null if malformed. */
export function decodeWantedStates(req: CommandRequest): Int32Array | null {
  if (req.datalen !== 4 * MAX_STATE || req.data.length !== 4 * MAX_STATE) return null;
  const states = new Int32Array(MAX_STATE);
  for (let i = 0; i < MAX_STATE; i++) states[i] = req.data.readInt32LE(4 * i);
  return states;
}

export function encodeWantedStates(wanted: readonly StateName[]): Buffer {
  const buf = Buffer.alloc(4 * MAX_STATE);
  for (const s of wanted) buf.writeInt32LE(1, 4 * stateNumber(s));
  return buf;
}

/** lxc_add_state_client checks `states[state] != 1`; lxc_serve_state_clients sends unless `== 0`. */
export function isAlreadyWanted(states: Int32Array, current: StateName): boolean {
  return states[stateNumber(current)] === 1;
}

export function isNotified(states: Int32Array, reached: StateName): boolean {
  return states[stateNumber(reached)] !== 0;
}

// ---- what each command gets ----

/** What the server knows of the container, read when a command arrives. */
export interface ContainerView {
  name: string;
  lxcpath: string;
  state: StateName;
  initPid: number | undefined;
  /** the cgroup path liblxc joins to the mount of the hierarchy holding `controller` */
  cgroupPath(controller?: string): string | undefined;
  /** a key of the config the container runs with */
  configItem(key: string): string | undefined;
}

/**
 * What to do with one request:
 *   reply   send `response`, then close
 *   stop    stop the container; close without a word once it is STOPPED (reply only on failure)
 *   cgroup-ctx  send the container's cgroup directories as fds with a struct cgroup_ctx of
 *           `size` bytes (encodeCgroupCtx), then close
 *   init-pidfd  send a pidfd of the init (none running: -EBADF), then close
 *   cgroup2-fd  send the container's cgroup2 directory, where its freezer is (else -EINVAL)
 *   cgroup-fd  send its directory in the hierarchy holding `controller`, with a struct cgroup_fd
 *           of `size` bytes (encodeCgroupFd); `type` is the hierarchy the client insists on
 *   state-notice  a tool changed the state itself (lxc-freeze): record it if true, answer 0
 *   terminal  send the master of tty `ttynum` (0: a new proxy on the console; -1: the first free
 *           tty), keep the connection while the client uses it (lxc-console)
 *   watch   send `response` (data field MAX_STATE), keep the connection, send one lxc_msg when a
 *           state in `states` is reached, then close
 */
export type CommandAction =
  | { kind: "reply"; response: Buffer }
  | { kind: "cgroup-ctx"; size: number }
  | { kind: "terminal"; ttynum: number }
  | { kind: "init-pidfd" }
  | { kind: "cgroup2-fd" }
  | { kind: "cgroup-fd"; controller: string; type: number; size: number }
  | { kind: "state-notice"; state: StateName | undefined }
  | { kind: "stop" }
  | { kind: "watch"; response: Buffer; states: Int32Array };

const reply = (ret: number, value?: number | string | Buffer): CommandAction => ({ kind: "reply", response: encodeResponse(ret, value) });

/** struct cgroup_ctx (cgroups/cgroup.h): s32 layout, u32 utilities, u32 fd_len, s32 fd[20], 8-aligned. */
export const CGROUP_CTX_SIZE = 96;
const CGROUP_CTX_MAX_FD = 20;
const CGROUP_LAYOUT = { legacy: 0, hybrid: 1, unified: 2 } as const;

/**
 * The answer to GET_CGROUP_CTX that goes with `fdCount` directory fds (SCM_RIGHTS on the same
 * sendmsg): the response header, then `size` bytes of struct cgroup_ctx. The client puts the fds
 * it received in fd[]; what is sent there is unused. `utilities` (the v2 freezer and device
 * bits) stays 0: lxc-attach does not read it.
 */
export function encodeCgroupCtx(layout: keyof typeof CGROUP_LAYOUT, fdCount: number, size: number): Buffer {
  if (fdCount < 1 || fdCount > CGROUP_CTX_MAX_FD) throw new RangeError(`a cgroup_ctx holds 1 to ${CGROUP_CTX_MAX_FD} fds, not ${fdCount}`);
  const ctx = Buffer.alloc(CGROUP_CTX_SIZE);
  ctx.writeInt32LE(CGROUP_LAYOUT[layout], 0);
  ctx.writeUInt32LE(fdCount, 8);
  for (let i = 0; i < CGROUP_CTX_MAX_FD; i++) ctx.writeInt32LE(-ERRNO.EBADF, 12 + 4 * i);
  const header = Buffer.alloc(CMD_RSP_SIZE);
  header.writeInt32LE(0, 0);
  header.writeInt32LE(size, 4);
  return Buffer.concat([header, ctx.subarray(0, size)]);
}

/** A request's string argument (NUL-terminated, as validate_string_request wants it), if any. */
function requestString(req: CommandRequest): string | undefined {
  return req.data.length === 0 ? undefined : cString(req.data);
}

function cString(bytes: Buffer): string {
  const end = bytes.indexOf(0);
  return bytes.subarray(0, end < 0 ? bytes.length : end).toString("utf8");
}

/** struct cgroup_fd: s32 layout, u32 utilities, s32 type, s32 fd, char controller[64]. */
export const CGROUP_FD_SIZE = 80;
const CGROUP_CONTROLLER_MAX = 64;
/** cgroup_fd.type: the hierarchy's filesystem magic */
export const CGROUP_SUPER_MAGIC = 0x27e0eb;
export const CGROUP2_SUPER_MAGIC = 0x63677270;

/**
 * The answer to GET_(LIMIT_)CGROUP_FD that goes with one directory fd: the response header, then
 * `size` bytes of struct cgroup_fd (the client puts the fd it received in `fd`).
 */
export function encodeCgroupFd(layout: keyof typeof CGROUP_LAYOUT, type: number, controller: string, size: number): Buffer {
  const body = Buffer.alloc(CGROUP_FD_SIZE);
  body.writeInt32LE(CGROUP_LAYOUT[layout], 0);
  body.writeInt32LE(type, 8);
  body.writeInt32LE(-ERRNO.EBADF, 12);
  body.write(controller.slice(0, CGROUP_CONTROLLER_MAX - 1), 16);
  const header = Buffer.alloc(CMD_RSP_SIZE);
  header.writeInt32LE(size, 4);
  return Buffer.concat([header, body.subarray(0, size)]);
}

/**
 * The answer table. Commands the LXC tools need for `lxc-info` (state, pid, the statistics of
 * cgroups corral joined and of veths), `lxc-wait` and `lxc-stop` are answered as lxc-start
 * answers them, fds passed with SCM_RIGHTS; GET_DEVPTS_FD and GET_SECCOMP_NOTIFY_FD answer as
 * lxc-start does when it has no such fd (-EBADF); every other command gets -ENOSYS, as lxc-start
 * gives a number it does not know.
 */
export function decideCommand(req: CommandRequest, view: ContainerView): CommandAction {
  switch (req.cmd) {
    case LxcCommand.STOP:
      return { kind: "stop" };
    case LxcCommand.GET_STATE:
      // lxc_serve_state_clients records THAWED as RUNNING: GET_STATE never says THAWED.
      return reply(0, stateNumber(view.state === "THAWED" ? "RUNNING" : view.state));
    case LxcCommand.GET_INIT_PID:
      // The client takes a negative pid as "none"; ret must stay 0 (lxc_try_cmd reads a negative
      // ret as "not allowed").
      return reply(0, view.initPid ?? -1);
    case LxcCommand.GET_INIT_PIDFD:
      // lxc-stop signals through it (pidfd_send_signal), lxc-attach enters the namespaces with it
      return view.initPid === undefined ? reply(-ERRNO.EBADF) : { kind: "init-pidfd" };
    case LxcCommand.GET_DEVPTS_FD:
    case LxcCommand.GET_SECCOMP_NOTIFY_FD:
      return reply(-ERRNO.EBADF);
    case LxcCommand.GET_CGROUP:
    case LxcCommand.GET_LIMIT_CGROUP: {
      // lxc-info's statistics: liblxc reads <hierarchy>/<path>/memory.usage_in_bytes and the like
      const path = view.cgroupPath(requestString(req));
      return path === undefined ? reply(-ERRNO.ENOENT) : reply(0, path);
    }
    case LxcCommand.GET_TTY_FD:
      // The tty number comes in the data pointer: 0 is the console, 1..N a tty, -1 the first free one.
      return { kind: "terminal", ttynum: Number(BigInt.asIntN(32, req.inline)) };
    case LxcCommand.GET_CGROUP_FD:
    case LxcCommand.GET_LIMIT_CGROUP_FD: {
      // lxc-info reads memory.usage_in_bytes and the like through it
      const controller = cString(req.data.subarray(16, 16 + CGROUP_CONTROLLER_MAX));
      if (!controller) return reply(-ERRNO.EINVAL);
      const type = req.data.length >= 12 ? req.data.readInt32LE(8) : 0;
      return { kind: "cgroup-fd", controller, type, size: Math.min(CGROUP_FD_SIZE, Math.max(req.datalen, 0)) };
    }
    case LxcCommand.GET_CGROUP2_FD:
    case LxcCommand.GET_LIMIT_CGROUP2_FD:
      // lxc-freeze and lxc-unfreeze write cgroup.freeze through it
      return { kind: "cgroup2-fd" };
    case LxcCommand.SERVE_STATE_CLIENTS:
      // the state comes in the data pointer; the sender wants an answer of 0
      return { kind: "state-notice", state: stateName(Number(BigInt.asIntN(32, req.inline))) };
    case LxcCommand.GET_CGROUP_CTX:
      // the client sends its struct cgroup_ctx and gets back at most that many bytes
      return { kind: "cgroup-ctx", size: Math.min(CGROUP_CTX_SIZE, Math.max(req.datalen, 0)) };
    case LxcCommand.GET_CONFIG_ITEM: {
      // lxc_cmd_get_config_item_callback answers -1 for a key that is unset or unknown
      const key = requestString(req);
      const value = key ? view.configItem(key) : undefined;
      return value ? reply(0, value) : reply(-1);
    }
    case LxcCommand.GET_NAME:
      return reply(0, view.name);
    case LxcCommand.GET_LXCPATH:
      return reply(0, view.lxcpath);
    case LxcCommand.ADD_STATE_CLIENT: {
      const states = decodeWantedStates(req);
      if (!states) return reply(-ERRNO.EINVAL);
      if (isAlreadyWanted(states, view.state)) {
        const n = stateNumber(view.state);
        return reply(n, n);
      }
      return { kind: "watch", response: encodeResponse(MAX_STATE, MAX_STATE), states };
    }
    default:
      return reply(-ERRNO.ENOSYS);
  }
}
