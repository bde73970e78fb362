// LXC's command socket, the serving side (LXC 5.0 src/lxc/commands.c, lxc_cmd_accept and
// lxc_cmd_handler), so that the real lxc-info, lxc-wait and lxc-stop work on corral's containers.
// Runs in the agent, on the host. One abstract socket per container, "\0<lxcpath>/<name>/command",
// served from STARTING until STOPPED has been told; what each command gets is decided in
// command-codec.ts. Nothing a client sends can throw out of here: a bad request closes its
// connection, and the container and the other clients go on.
import { closeSync, constants, openSync } from "node:fs";
import net from "node:net";
import { ERRNO, type StateName } from "@corral/core";
import type { CgroupLayout } from "../runtime/cgroup-hierarchies.ts";
import type { LentTerminal } from "../runtime/console.ts";
import type { Syscalls } from "../sys/syscalls.ts";
import { unexpected } from "../errors.ts";
import {
  CGROUP2_SUPER_MAGIC, CGROUP_SUPER_MAGIC, commandName, commandSocketName, decideCommand, encodeCgroupCtx, encodeCgroupFd, encodeResponse,
  encodeStateMessage, isNotified, parseRequest,
  type CommandRequest,
} from "./command-codec.ts";

export interface CommandTarget {
  state(name: string): StateName;
  initPid(name: string): number | undefined;
  cgroupPath(name: string, controller?: string): string | undefined;
  runningConfigItem(name: string, key: string): string | undefined;
  cgroupDirs(name: string): { layout: CgroupLayout; dirs: string[] } | undefined;
  openTerminal(name: string, ttynum: number): LentTerminal | undefined;
  freezerCgroup2Dir(name: string): string | undefined;
  cgroupDirFor(name: string, controller: string): { dir: string; version: 1 | 2 } | undefined;
  /** a state an LXC tool says it brought about (SERVE_STATE_CLIENTS) */
  noteState(name: string, state: StateName): void;
  /** LXC_CMD_STOP: stop at once; resolves once the container is STOPPED */
  stop(name: string): Promise<void>;
}

/** Something went wrong serving a container's socket; the container itself is not affected. */
export type CommandSocketErrorHandler = (name: string, error: Error) => void;

/** A client whose request has not fully arrived after this long is dropped. */
const REQUEST_TIMEOUT_MS = 10_000;

/** One container's socket: the listener, every open connection, and the ADD_STATE_CLIENT waiters. */
interface Served {
  server: net.Server;
  connections: Set<net.Socket>;
  watchers: Map<net.Socket, Int32Array>;
}

export class CommandSockets {
  private readonly served = new Map<string, Served>();
  private readonly ownUid = process.getuid?.() ?? 0;

  constructor(
    private readonly sys: Syscalls,
    private readonly lxcpath: string,
    private readonly target: CommandTarget,
    private readonly onError: CommandSocketErrorHandler = (name, e) =>
      process.stderr.write(`corral: command socket of ${name}: ${e.message}\n`),
  ) {}

  /**
   * Start serving "\0<lxcpath>/<name>/command" (call at STARTING). A socket that cannot be bound
   * (EADDRINUSE: an lxc-start or another agent serves that name) is reported to onError, not
   * thrown: the container runs without it, as the tools then see it as stopped.
   */
  open(name: string): void {
    this.close(name);
    let fd: number;
    try {
      fd = this.sys.listenAbstract(commandSocketName(this.lxcpath, name));
    } catch (e) {
      this.onError(name, e as Error);
      return;
    }
    const served: Served = { server: net.createServer(), connections: new Set(), watchers: new Map() };
    served.server.on("connection", (socket) => this.accept(name, served, socket));
    served.server.on("error", (e) => this.onError(name, e));
    try {
      served.server.listen({ fd });
    } catch (e) {
      this.sys.close(fd);
      this.onError(name, e as Error);
      return;
    }
    // The agent's lifetime is kept by its own servers and containers, not by this socket.
    served.server.unref();
    this.served.set(name, served);
  }

  /** Tell ADD_STATE_CLIENT clients of `name` that wait for `state` (lxc_serve_state_clients). */
  stateChanged(name: string, state: StateName): void {
    const served = this.served.get(name);
    if (!served) return;
    for (const [socket, states] of served.watchers) {
      if (!isNotified(states, state)) continue;
      served.watchers.delete(socket);
      finish(socket, encodeStateMessage(name, state));
    }
  }

  /**
   * Stop serving `name` (call after STOPPED was told): new clients get ECONNREFUSED, which liblxc
   * reads as "stopped"; open connections are closed, which a pending STOP takes as success.
   */
  close(name: string): void {
    const served = this.served.get(name);
    if (!served) return;
    this.served.delete(name);
    served.server.close();
    served.watchers.clear();
    for (const socket of served.connections) finish(socket);
  }

  closeAll(): void {
    for (const name of [...this.served.keys()]) this.close(name);
  }

  private accept(name: string, served: Served, socket: net.Socket): void {
    served.connections.add(socket);
    socket.on("close", () => {
      served.connections.delete(socket);
      served.watchers.delete(socket);
    });
    // A peer that resets or vanishes only ends its own connection.
    socket.on("error", () => socket.destroy());

    if (!this.peerAllowed(socket)) {
      // lxc_cmd_handler answers a refused peer with -EPERM and closes.
      finish(socket, encodeResponse(-ERRNO.EPERM));
      return;
    }

    let received = Buffer.alloc(0);
    let handled = false;
    socket.setTimeout(REQUEST_TIMEOUT_MS, () => {
      if (!handled) socket.destroy();
    });
    socket.on("data", (chunk: Buffer) => {
      // One command per connection (lxc_cmd_handler is a one-shot handler): later bytes are ignored.
      if (handled) return;
      received = Buffer.concat([received, chunk]);
      const parsed = parseRequest(received);
      if (parsed.status === "incomplete") return;
      handled = true;
      socket.setTimeout(0);
      received = Buffer.alloc(0);
      if (parsed.status === "invalid") {
        socket.destroy();
        return;
      }
      this.handle(name, served, socket, parsed.request);
    });
    socket.on("end", () => {
      if (!handled) socket.destroy();
    });
  }

  private peerAllowed(socket: net.Socket): boolean {
    const fd = socketFd(socket);
    if (fd === undefined) return false;
    try {
      const uid = this.sys.peerUid(fd);
      return uid === 0 || uid === this.ownUid;
    } catch (e) {
      unexpected("reading a command client's credentials", e);
      return false;
    }
  }

  private handle(name: string, served: Served, socket: net.Socket, request: CommandRequest): void {
    let action;
    try {
      action = decideCommand(request, {
        name,
        lxcpath: this.lxcpath,
        state: this.target.state(name),
        initPid: this.target.initPid(name),
        cgroupPath: (controller) => this.target.cgroupPath(name, controller),
        configItem: (key) => this.target.runningConfigItem(name, key),
      });
    } catch (e) {
      this.onError(name, new Error(`answering ${commandName(request.cmd) ?? request.cmd}: ${(e as Error).message}`));
      finish(socket, encodeResponse(-ERRNO.EINVAL));
      return;
    }
    switch (action.kind) {
      case "reply":
        finish(socket, action.response);
        return;
      case "watch":
        served.watchers.set(socket, action.states);
        socket.write(action.response);
        return;
      case "stop":
        this.stop(name, socket);
        return;
      case "cgroup-ctx":
        this.sendCgroupCtx(name, socket, action.size);
        return;
      case "terminal":
        this.sendTerminal(name, socket, action.ttynum);
        return;
      case "init-pidfd":
        this.sendInitPidfd(name, socket);
        return;
      case "cgroup2-fd":
        this.sendCgroup2Fd(name, socket);
        return;
      case "cgroup-fd":
        this.sendCgroupFd(name, socket, action.controller, action.type, action.size);
        return;
      case "state-notice":
        if (action.state) this.target.noteState(name, action.state);
        finish(socket, encodeResponse(0));
        return;
    }
  }

  /**
   * LXC_CMD_GET_TTY_FD: the terminal's master, with its tty number in the data field. It stays
   * lent as long as this connection (lxc_terminal_free on close); lxc-console keeps it open until
   * it exits. No such terminal, or one in use: -EBADF ("Denied access to tty").
   */
  private sendTerminal(name: string, socket: net.Socket, ttynum: number): void {
    const fd = socketFd(socket);
    let terminal: LentTerminal | undefined;
    try {
      terminal = fd === undefined ? undefined : this.target.openTerminal(name, ttynum);
    } catch (e) {
      this.onError(name, new Error(`answering GET_TTY_FD: ${(e as Error).message}`));
    }
    if (!terminal || fd === undefined) {
      finish(socket, encodeResponse(-ERRNO.EBADF));
      return;
    }
    try {
      this.sys.sendWithFds(fd, encodeResponse(0, terminal.ttynum), [terminal.fd]);
      socket.once("close", () => terminal.release());
    } catch (e) {
      this.onError(name, new Error(`answering GET_TTY_FD: ${(e as Error).message}`));
      terminal.release();
      socket.destroy();
    } finally {
      terminal.afterSend();
    }
  }

  /**
   * LXC_CMD_GET_(LIMIT_)CGROUP2_FD: the container's cgroup2 directory, when corral freezes it
   * there. LXC serves it on a pure v2 host only; corral serves it wherever its freezer is v2, so
   * that lxc-freeze uses the same freezer corral does. Otherwise -EINVAL, and lxc-freeze falls back
   * to the v1 freezer.state (GET_LIMIT_CGROUP "freezer").
   */
  private sendCgroup2Fd(name: string, socket: net.Socket): void {
    const fd = socketFd(socket);
    const dir = this.target.freezerCgroup2Dir(name);
    if (fd === undefined || dir === undefined) {
      finish(socket, encodeResponse(-ERRNO.EINVAL));
      return;
    }
    this.sendDirectory(name, socket, fd, dir, encodeResponse(0, 0), "GET_CGROUP2_FD");
  }

  /**
   * LXC_CMD_GET_(LIMIT_)CGROUP_FD: the container's directory in the hierarchy holding the
   * controller (prepare_cgroup_fd). None: -ENOENT; not of the type the client insists on: -EINVAL.
   */
  private sendCgroupFd(name: string, socket: net.Socket, controller: string, type: number, size: number): void {
    const fd = socketFd(socket);
    const found = this.target.cgroupDirFor(name, controller);
    const magic = found?.version === 2 ? CGROUP2_SUPER_MAGIC : CGROUP_SUPER_MAGIC;
    if (fd === undefined || !found || (type !== 0 && type !== magic)) {
      finish(socket, encodeResponse(!found ? -ERRNO.ENOENT : -ERRNO.EINVAL));
      return;
    }
    const layout = this.target.cgroupDirs(name)?.layout ?? "unified";
    this.sendDirectory(name, socket, fd, found.dir, encodeCgroupFd(layout, magic, controller, size), "GET_LIMIT_CGROUP_FD");
  }

  /**
   * Open fds with `open`, send `head` with them attached (SCM_RIGHTS), then close the connection;
   * our copies are closed either way. On failure: `failure` as the answer, or none (the close).
   */
  private sendOpened(name: string, socket: net.Socket, fd: number, command: string, open: (opened: number[]) => void, head: Buffer | ((count: number) => Buffer), failure?: Buffer): void {
    const opened: number[] = [];
    try {
      open(opened);
      this.sys.sendWithFds(fd, typeof head === "function" ? head(opened.length) : head, opened);
      finish(socket);
    } catch (e) {
      this.onError(name, new Error(`answering ${command}: ${(e as Error).message}`));
      if (failure) finish(socket, failure);
      else socket.destroy();
    } finally {
      for (const f of opened) closeSync(f);
    }
  }

  /** Send `head` with a fresh fd of `dir` attached; on failure -EBADF. */
  private sendDirectory(name: string, socket: net.Socket, fd: number, dir: string, head: Buffer, command: string): void {
    this.sendOpened(name, socket, fd, command, (opened) => opened.push(openDirectory(dir)), head, encodeResponse(-ERRNO.EBADF));
  }

  /** LXC_CMD_GET_INIT_PIDFD: a pidfd of the init, ours closed once sent. */
  private sendInitPidfd(name: string, socket: net.Socket): void {
    const fd = socketFd(socket);
    const pid = this.target.initPid(name);
    if (fd === undefined || pid === undefined) {
      finish(socket, encodeResponse(-ERRNO.EBADF));
      return;
    }
    this.sendOpened(name, socket, fd, "GET_INIT_PIDFD", (opened) => opened.push(this.sys.pidfdOpen(pid)), encodeResponse(0, 0), encodeResponse(-ERRNO.EBADF));
  }

  /**
   * LXC_CMD_GET_CGROUP_CTX: the container's cgroup directories, opened here and passed to the
   * client, which writes its pid into them (lxc-attach). No cgroup: -ENOENT, which the client
   * reads as "nothing to join", as from an lxc-start without writable cgroups.
   */
  private sendCgroupCtx(name: string, socket: net.Socket, size: number): void {
    const cgroup = this.target.cgroupDirs(name);
    const fd = socketFd(socket);
    if (!cgroup || cgroup.dirs.length === 0 || fd === undefined) {
      finish(socket, encodeResponse(-ERRNO.ENOENT));
      return;
    }
    // on failure no answer, only the close, as lxc-start drops a client it cannot serve
    this.sendOpened(name, socket, fd, "GET_CGROUP_CTX", (opened) => cgroup.dirs.forEach((dir) => opened.push(openDirectory(dir))), (count) => encodeCgroupCtx(cgroup.layout, count, size));
  }

  /** LXC_CMD_STOP: no answer on success, the close says it; a refusal is answered with -errno. */
  private stop(name: string, socket: net.Socket): void {
    let stopping: Promise<void>;
    try {
      stopping = this.target.stop(name);
    } catch (e) {
      finish(socket, encodeResponse(-errnoOf(e)));
      return;
    }
    stopping.then(
      () => finish(socket),
      (e: unknown) => finish(socket, encodeResponse(-errnoOf(e))),
    );
  }
}

function openDirectory(dir: string): number {
  return openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
}

/** The fd under a connected net.Socket (for SO_PEERCRED and SCM_RIGHTS), if it has one. */
function socketFd(socket: net.Socket): number | undefined {
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  return typeof fd === "number" && fd >= 0 ? fd : undefined;
}

/** Send the last bytes (if any), then close once they are flushed. */
function finish(socket: net.Socket, last?: Buffer): void {
  // An end already under way closes the socket once its bytes are out.
  if (socket.destroyed || socket.writableEnded) return;
  socket.end(last ?? Buffer.alloc(0), () => socket.destroy());
}

/** A SyscallError's errno, or EINVAL for a refusal (the state guards said no). */
function errnoOf(e: unknown): number {
  const errno = (e as { errno?: unknown }).errno;
  return typeof errno === "number" && errno > 0 ? errno : ERRNO.EINVAL;
}
