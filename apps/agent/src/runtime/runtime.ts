// The lifecycle of start.c for every container under one lxcpath, in one event loop:
//   lxc_init   guards, config, STARTING
//   lxc_spawn  spawn.ts
//   lxc_poll   SIGCHLD -> reap the init (only the inits we made; libuv reaps its own children)
//   __lxc_start / lxc_fini   exit status, halt or reboot, cgroup and veths removed, STOPPING, STOPPED
//   lxc_abort  ABORTING, SIGKILL to the whole cgroup
// The runtime knows no transport: it reports every state change to a synchronous sink, which
// stores it before anyone else hears of it.
import {
  actionRefusal, decodeWaitStatus, preciseNow, haltSignal, initHandles, lxcConfigItem, shellExitCode, signalName, DEFAULT_SIGNALS,
  type Action, type EventCause, type EventDetail, type StateName, type ContainerConfig,
} from "@corral/core";
import type { Syscalls } from "../sys/syscalls.ts";
import { ConsoleCapture, ConsoleProxy, RingBuffer, TtySet, type LentTerminal } from "./console.ts";
import { ContainerCgroup, detectHierarchies, freeCgroupName, hierarchiesFor, layoutOf, type CgroupLayout, type Hierarchy } from "./cgroups.ts";
import { LxcPath, ContainerNotFound, type LoadedConfig } from "./lxcpath.ts";
import { deleteLinks, deleteVeths, type VethPair } from "./network.ts";
import { exitWords, signalMasks } from "./signals.ts";
import { runHooks } from "./hooks.ts";
import { removeBootId } from "./boot-id.ts";
import { apparmorRefusal, apparmorWarning, hostHasAppArmor } from "./apparmor.ts";
import { spawnContainer, StartError } from "./spawn.ts";

const SIGHUP = 1;
const SIGINT = 2;
const SIGKILL = 9;

export interface StateChange {
  container: string;
  state: StateName;
  cause: EventCause;
  detail: EventDetail;
  /** when it happened (ms since the epoch), for a change the store could take only later */
  at?: number;
}

/**
 * Must persist the change before it returns: nothing is published that is not stored. It throws
 * when the store cannot take it (a full disk); see Runtime.setState for what happens then.
 */
export type StateSink = (change: StateChange) => void;

/** A request refused because the store cannot record its first change (a full disk): nothing changed. */
export class NotStored extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NotStored";
  }
}

/** How often changes the store could not take are offered to it again. */
const STORE_RETRY_MS = 1000;

/** A refused request: the state guards said no, or the input was bad. Changes nothing. */
export class Refusal extends Error {
  constructor(message: string, readonly code: "BAD_REQUEST" | "CONFLICT" | "NOT_FOUND" = "CONFLICT") {
    super(message);
    this.name = "Refusal";
  }
}

export interface StartOptions {
  cause: EventCause;
  /** overrides lxc.init.cmd */
  command?: string[];
  /** "inherit": the init gets our own stdio (corral run); "pty": a console the agent keeps */
  console?: "pty" | "inherit";
  /** the console's window size, for a console shown on a terminal of that size (corral run) */
  consoleSize?: WindowSize;
}

export interface WindowSize {
  rows: number;
  cols: number;
}

export interface StopOptions {
  cause: EventCause;
  /** time between the halt signal and SIGKILL; 0 kills at once */
  timeoutMs: number;
}

/** What is known of one container's current run. */
interface Instance {
  name: string;
  state: StateName;
  pid?: number;
  startedAt?: number;
  cgroup?: ContainerCgroup;
  veths: VethPair[];
  console?: ConsoleCapture;
  /** lxc.tty.max ttys, made with lxc.autodev */
  ttys?: TtySet;
  ring: RingBuffer;
  config?: ContainerConfig;
  command?: string[];
  consoleMode: "pty" | "inherit";
  consoleSize?: WindowSize;
  /** resolves with the init's raw wait status once it is reaped */
  exit?: Promise<number>;
  starting: boolean;
  /** aborts a start in progress (lxc_abort during STARTING) */
  startAbort?: AbortController;
  exitWaiters: Array<(status: number) => void>;
  stopCause?: EventCause;
  stopTimer?: NodeJS.Timeout;
  stopping?: Promise<void>;
  restartRequested?: EventCause;
  lastExit?: { status: number; code: number; at: number };
}

export interface ContainerStatus {
  name: string;
  state: StateName;
  pid?: number;
  startedAt?: number;
  command?: string[];
  cgroup?: string;
  lastExit?: { status: number; code: number; at: number };
}

/** How long an init that handles the reboot signal gets to end before it is killed. */
const REBOOT_TIMEOUT_MS = 10_000;

export class Runtime {
  private readonly instances = new Map<string, Instance>();
  /** The children we cloned (libuv knows nothing of them): pid -> who wants its exit status. */
  private readonly children = new Map<number, (status: number) => void>();
  readonly hierarchies: Hierarchy[];
  private readonly onSigchld = () => this.reapAll();
  private consoleListeners = new Set<(name: string, data: Buffer) => void>();
  /** Signal listeners do not keep Node's event loop alive; this does while an init lives. */
  private keepAlive: NodeJS.Timeout | undefined;
  private readonly appArmor = hostHasAppArmor();
  /** Changes that happened while the store could not take them, oldest first. */
  private readonly unstored: StateChange[] = [];
  private storeRetry: NodeJS.Timeout | undefined;

  constructor(
    private readonly sys: Syscalls,
    readonly lxcpath: LxcPath,
    private readonly sink: StateSink,
    hierarchies?: Hierarchy[],
  ) {
    this.hierarchies = hierarchies ?? detectHierarchies();
    process.on("SIGCHLD", this.onSigchld);
  }

  close(): void {
    clearInterval(this.keepAlive);
    clearTimeout(this.storeRetry);
    process.off("SIGCHLD", this.onSigchld);
  }

  // ---- queries ----

  status(name: string): ContainerStatus {
    const inst = this.instances.get(name);
    if (!inst && !this.lxcpath.exists(name)) throw new ContainerNotFound(name);
    return {
      name,
      state: inst?.state ?? "STOPPED",
      pid: inst?.pid,
      startedAt: inst?.startedAt,
      command: inst?.command,
      cgroup: inst?.cgroup?.name,
      lastExit: inst?.lastExit,
    };
  }

  state(name: string): StateName {
    return this.instances.get(name)?.state ?? "STOPPED";
  }

  initPid(name: string): number | undefined {
    return this.instances.get(name)?.pid;
  }

  /**
   * A key of the config the container runs with (LXC_CMD_GET_CONFIG_ITEM), with the host names
   * its veths got, as liblxc keeps them in its running config: `lxc-info` reads the traffic of
   * lxc.net.N.veth.pair.
   */
  runningConfigItem(name: string, key: string): string | undefined {
    const inst = this.instances.get(name);
    if (!inst?.config || inst.state === "STOPPED") return undefined;
    const hostNames = new Map(inst.veths.map((v) => [v.net.index, v.hostName]));
    const net = inst.config.net.map((n) => (hostNames.has(n.index) ? { ...n, vethPair: hostNames.get(n.index) } : n));
    return lxcConfigItem({ ...inst.config, net }, key);
  }

  /**
   * A terminal for an lxc-console client (LXC_CMD_GET_TTY_FD). Tty 0 is a new proxy on the console:
   * its master goes to the client and our copy is closed after sending; the proxy ends on
   * release(). 1..N (or -1, the first free) is one of the container's ttys, whose master stays
   * ours and is lent until release(). Undefined when there is no such terminal here or it is in
   * use (a `corral run` init has the terminal itself).
   */
  openTerminal(name: string, ttynum: number): LentTerminal | undefined {
    const inst = this.instances.get(name);
    if (ttynum !== 0) {
      const tty = inst?.ttys?.lend(ttynum);
      return tty && { ttynum: tty.ttynum, fd: tty.master, afterSend: () => {}, release: tty.release };
    }
    const console = inst?.console;
    if (!console) return undefined;
    const { master, slave } = this.sys.openpty();
    try {
      this.sys.makeRaw(slave);
      const proxy = new ConsoleProxy(console, slave);
      return { ttynum: 0, fd: master, afterSend: () => this.sys.close(master), release: () => proxy.close() };
    } catch (e) {
      this.sys.close(master);
      this.sys.close(slave);
      throw e;
    }
  }

  consoleHistory(name: string): Buffer {
    return this.instances.get(name)?.ring.contents() ?? Buffer.alloc(0);
  }

  /** The console's output after `cursor` (see RingBuffer.since), and the cursor after it. */
  consoleSince(name: string, cursor: string | undefined): { reset: boolean; data: Buffer; cursor: string } {
    const ring = this.instances.get(name)?.ring ?? new RingBuffer();
    return { ...ring.since(cursor), cursor: ring.cursor() };
  }

  /** The point after the console output so far; read in an onConsole listener, the one after its chunk. */
  consoleCursor(name: string): string {
    return this.instances.get(name)?.ring.cursor() ?? "";
  }

  onConsole(listener: (name: string, data: Buffer) => void): () => void {
    this.consoleListeners.add(listener);
    return () => this.consoleListeners.delete(listener);
  }

  writeConsole(name: string, data: string | Buffer): void {
    const c = this.instances.get(name)?.console;
    if (!c) throw new Refusal(`${name} has no console (not running under the agent)`);
    c.write(data);
  }

  /** The terminal showing the console changed size: the console follows, for this run and the next. */
  resizeConsole(name: string, size: WindowSize): void {
    const inst = this.instances.get(name);
    if (!inst) return;
    inst.consoleSize = size;
    if (inst.console) this.sys.setWindowSize(inst.console.masterFd, size.rows, size.cols);
  }

  cgroupOf(name: string): ContainerCgroup | undefined {
    return this.instances.get(name)?.cgroup;
  }

  // ---- guards ----

  private instance(name: string): Instance {
    let inst = this.instances.get(name);
    if (!inst) {
      inst = { name, state: "STOPPED", veths: [], ring: new RingBuffer(), consoleMode: "pty", starting: false, exitWaiters: [] };
      this.instances.set(name, inst);
    }
    return inst;
  }

  private guard(action: Action, name: string): Instance {
    if (!this.lxcpath.exists(name) && !this.instances.has(name)) throw new Refusal(`no container named "${name}"`, "NOT_FOUND");
    const inst = this.instance(name);
    const refusal = actionRefusal(action, inst.state);
    if (refusal) throw new Refusal(`${name}: ${refusal}`);
    return inst;
  }

  /**
   * A change that has happened (a start went through, an init exited, a stop began): the state
   * moves on whatever the store says. If the store cannot take it (a full disk), it waits in
   * order with those after it and is stored, then published, as soon as the store can: a
   * storage error never leaves a container in a state that only a restart clears.
   */
  private setState(inst: Instance, state: StateName, cause: EventCause, detail: EventDetail = {}): void {
    inst.state = state;
    this.unstored.push({ container: inst.name, state, cause, detail, at: preciseNow() });
    this.storeUnstored();
  }

  /**
   * The first change of a request that adds work (a start, a freeze): stored first, or the
   * request is refused with NotStored and nothing changes.
   */
  private requestState(inst: Instance, state: StateName, cause: EventCause, detail: EventDetail = {}): void {
    if (!this.storeUnstored()) throw new NotStored(`${inst.name}: the store cannot record changes (${this.storeError}); try again once it can`);
    try {
      this.sink({ container: inst.name, state, cause, detail });
    } catch (e) {
      throw new NotStored(`${inst.name}: ${state} could not be recorded (${(e as Error).message}); nothing was done`);
    }
    inst.state = state;
  }

  private storeError = "";

  /** Offer the waiting changes to the store, in order; true once none waits. */
  private storeUnstored(): boolean {
    while (this.unstored.length > 0) {
      const change = this.unstored[0]!;
      try {
        this.sink(change);
      } catch (e) {
        this.storeError = (e as Error).message;
        this.storeRetry ??= setTimeout(() => {
          this.storeRetry = undefined;
          this.storeUnstored();
        }, STORE_RETRY_MS);
        return false;
      }
      this.unstored.shift();
    }
    return true;
  }

  // ---- lxc_init + lxc_spawn ----

  /** Load and check the config before anything changes: a bad config is a refusal, not a failed start. */
  loadForStart(name: string): LoadedConfig {
    const loaded = this.lxcpath.load(name);
    if (loaded.unsupported.length > 0) {
      const list = loaded.unsupported.map((u) => `${u.key} (${u.file}:${u.line}): ${u.message}`).join("; ");
      throw new Refusal(`${name}: the config asks for what corral cannot enforce: ${list}`, "BAD_REQUEST");
    }
    if (loaded.config.hooks.start.length > 0) {
      // LXC runs it in the container just before the init; corral's child runs no program but
      // the init (no JavaScript, no fork, between clone and exec), so it cannot.
      throw new Refusal(`${name}: lxc.hook.start cannot be run by corral (it would run inside the container before the init); wrap the init with lxc.init.cmd instead`, "BAD_REQUEST");
    }
    const apparmor = apparmorRefusal(loaded.config.apparmorProfile, this.appArmor);
    if (apparmor) throw new Refusal(`${name}: ${apparmor}`, "BAD_REQUEST");
    return loaded;
  }

  /** Start a container; resolves once it is RUNNING, rejects (after ABORTING, STOPPED) if it fails. */
  async start(name: string, opts: StartOptions): Promise<ContainerStatus> {
    const inst = this.guard("start", name);
    const { config, warnings } = this.loadForStart(name);
    const argv = opts.command && opts.command.length > 0 ? opts.command : config.init.cmd ?? ["/sbin/init"];
    const notes = [...warnings.map((w) => `${w.key}: ${w.message}`), ...runtimeWarnings(config, layoutOf(this.hierarchies), this.appArmor)];
    const cgroup = this.plannedCgroup(inst.name, config);
    this.requestState(inst, "STARTING", opts.cause, { command: argv, cgroup, ...(notes.length ? { warnings: notes } : {}) });
    inst.starting = true;
    inst.config = config;
    inst.command = argv;
    inst.consoleMode = opts.console ?? "pty";
    inst.consoleSize = opts.consoleSize;
    await this.spawnInstance(inst, opts.cause, cgroup);
    return this.status(name);
  }

  /**
   * The cgroup name this start will use, recorded in STARTING: if the agent dies before RUNNING,
   * the next one finds and removes it (recoverLeftover).
   */
  private plannedCgroup(name: string, config: ContainerConfig): string {
    return freeCgroupName(hierarchiesFor(config.cgroups, this.hierarchies), name);
  }

  private async spawnInstance(inst: Instance, cause: EventCause, cgroupName: string): Promise<void> {
    const config = inst.config!;
    let pty: { master: number; slave: number } | undefined;
    try {
      // like LXC, ttys live on the /dev corral makes (lxc.autodev)
      if (config.autodev && config.ttyMax > 0) inst.ttys = new TtySet(this.sys, config.ttyMax);
      if (inst.consoleMode === "pty") {
        pty = this.sys.openpty();
        inst.ring = new RingBuffer();
        inst.console = new ConsoleCapture(pty.master, pty.slave, inst.ring, config.console.logfile);
        if (inst.consoleSize) this.sys.setWindowSize(pty.master, inst.consoleSize.rows, inst.consoleSize.cols);
        inst.console.subscribe((data) => this.consoleListeners.forEach((l) => l(inst.name, data)));
      }
      inst.startAbort = new AbortController();
      const spawned = await spawnContainer(this.sys, {
        name: inst.name,
        config,
        rootfs: this.lxcpath.rootfs(inst.name, config),
        argv: inst.command!,
        console: pty ? { kind: "pty", slaveFd: pty.slave } : { kind: "inherit" },
        ttySlaveFds: inst.ttys?.slaves() ?? [],
        hierarchies: this.hierarchies,
        signal: inst.startAbort.signal,
        configFile: this.lxcpath.configPath(inst.name),
        cgroupName,
        onPid: (pid) => {
          inst.pid = pid;
          inst.exit = this.watchChild(pid);
          return inst.exit;
        },
      });
      inst.cgroup = spawned.cgroup;
      inst.veths = spawned.veths;
      inst.startedAt = Date.now();
      inst.starting = false;
      inst.startAbort = undefined;
      // The cgroup and veth names are what a restarted agent needs to clean up after a crash.
      this.setState(inst, "RUNNING", cause, { pid: spawned.pid, phases: spawned.phases, cgroup: spawned.cgroup.name, veths: spawned.veths.map((v) => v.hostName) });
      // An init that already exited is handled now, after RUNNING, as LXC reports it.
      void inst.exit!.then((status) => this.onInitExit(inst, status));
    } catch (e) {
      const aborted = inst.startAbort?.signal.aborted ?? false;
      inst.console?.close();
      inst.console = undefined;
      inst.ttys?.close();
      inst.ttys = undefined;
      inst.starting = false;
      inst.startAbort = undefined;
      inst.pid = undefined;
      const failure = e instanceof StartError ? e : new StartError("setup", (e as Error).message);
      // What an abort broke (a veth whose namespace died: ESRCH) is the abort's doing, not a fault.
      const err = aborted ? new StartError("abort", `aborted during ${failure.step}: ${failure.message}`) : failure;
      // An abort during STARTING has said ABORTING already, with its own cause.
      const endCause = inst.stopCause ?? cause;
      if (inst.state !== "ABORTING") this.setState(inst, "ABORTING", cause, { error: err.toDetail() });
      this.setState(inst, "STOPPED", endCause, { error: err.toDetail() });
      inst.stopCause = undefined;
      inst.stopping = undefined;
      inst.restartRequested = undefined;
      this.resolveExit(inst, -1);
      // The start's caller hears of the abort as a conflict with another request.
      if (aborted) throw new Refusal(`${inst.name}: the start was aborted (${endCause.actor}${endCause.request ? `: ${endCause.request}` : ""})`);
      throw err;
    }
  }

  // ---- lxc_poll: reaping ----

  /** Start watching a child we cloned; its exit is picked up on SIGCHLD. */
  private watchChild(pid: number): Promise<number> {
    // Signal listeners do not keep Node's event loop alive; this interval does while a child lives.
    this.keepAlive ??= setInterval(() => this.reapAll(), 60_000);
    const exited = new Promise<number>((resolve) => this.children.set(pid, resolve));
    // It may have exited before we listened.
    this.reapAll();
    return exited;
  }

  /** SIGCHLD: reap our children that have ended (only those: libuv reaps its own by pid). */
  private reapAll(): void {
    for (const [pid, resolve] of this.children) {
      let status: number | null;
      try {
        status = this.sys.reap(pid);
      } catch {
        // ECHILD: someone else reaped it. There is no status to report, and nothing to wait for.
        status = 0;
      }
      if (status === null) continue;
      this.children.delete(pid);
      // Each exit is handled in a turn of its own, so that when many inits end at once the events
      // of the first reach subscribers before the cleanup of the next runs.
      setImmediate(resolve, status);
    }
    if (this.children.size === 0 && this.keepAlive) {
      clearInterval(this.keepAlive);
      this.keepAlive = undefined;
    }
  }

  /** __lxc_start's end: SIGHUP = reboot, SIGINT = halt, anything else = the init's exit. */
  private async onInitExit(inst: Instance, status: number): Promise<void> {
    clearTimeout(inst.stopTimer);
    inst.pid = undefined;
    const decoded = decodeWaitStatus(status);
    const signal = "signaled" in decoded ? decoded.signal : undefined;
    const reboot = signal === SIGHUP || inst.restartRequested !== undefined;
    const cause = inst.restartRequested ?? inst.stopCause ?? { actor: "init", request: exitWords(status) };
    const detail: EventDetail = {
      exitStatus: status,
      exitCode: shellExitCode(status),
      ...(signal !== undefined ? { signal: signalName(signal) } : {}),
      ...(signal === SIGINT ? { halt: true } : {}),
      ...(reboot ? { reboot: true } : {}),
    };
    if (inst.state !== "STOPPING") this.setState(inst, "STOPPING", cause, detail);
    const leftover = await this.cleanup(inst);
    if (leftover) detail.leftover = leftover;
    const hookError = await this.postStop(inst);
    if (hookError) detail.hookError = hookError;
    inst.lastExit = { status, code: shellExitCode(status), at: Date.now() };
    inst.stopCause = undefined;
    inst.restartRequested = undefined;
    inst.stopping = undefined;
    this.setState(inst, "STOPPED", cause, detail);
    this.resolveExit(inst, status);
    if (reboot) void this.restart(inst, cause);
  }

  private async restart(inst: Instance, cause: EventCause): Promise<void> {
    try {
      const cgroup = this.plannedCgroup(inst.name, inst.config!);
      inst.starting = true;
      this.setState(inst, "STARTING", cause, { reboot: true, command: inst.command, cgroup });
      await this.spawnInstance(inst, cause, cgroup);
    } catch {
      // Reported as ABORTING then STOPPED; or no cgroup name was free, and it stays STOPPED.
    }
  }

  /** lxc_fini: the cgroup (with anything left in it), veths and console go. What stayed, if any. */
  private async cleanup(inst: Instance): Promise<string | undefined> {
    const cgroup = inst.cgroup;
    let leftover: string | undefined;
    if (cgroup) {
      if (!(await cgroup.remove())) leftover = `cgroup ${cgroup.name} could not be removed (busy)`;
      removeBootId(cgroup.name);
      inst.cgroup = undefined;
    }
    if (inst.veths.length > 0) deleteVeths(this.sys, inst.veths);
    inst.veths = [];
    await inst.console?.drain();
    inst.console = undefined;
    inst.ttys?.close();
    inst.ttys = undefined;
    return leftover;
  }

  /** lxc.hook.post-stop, once the container is gone; a failure is reported, not fatal. */
  private async postStop(inst: Instance): Promise<string | undefined> {
    const hooks = inst.config?.hooks.postStop ?? [];
    if (hooks.length === 0) return undefined;
    try {
      await runHooks("post-stop", hooks, { name: inst.name, configFile: this.lxcpath.configPath(inst.name), rootfs: this.lxcpath.rootfs(inst.name, inst.config!) });
      return undefined;
    } catch (e) {
      return (e as Error).message;
    }
  }

  private resolveExit(inst: Instance, status: number): void {
    const waiters = inst.exitWaiters.splice(0);
    for (const w of waiters) w(status);
  }

  /** Resolves with the raw wait status when the current run ends (-1 for a failed start). */
  waitForExit(name: string): Promise<number> {
    const inst = this.instances.get(name);
    if (!inst || inst.state === "STOPPED") return Promise.resolve(inst?.lastExit?.status ?? 0);
    return new Promise((resolve) => inst.exitWaiters.push(resolve));
  }

  /** Wait until the container is STOPPED (stop(), abort() and the init's own exit all end there). */
  private stopped(inst: Instance): Promise<void> {
    if (inst.state === "STOPPED") return Promise.resolve();
    return new Promise((resolve) => inst.exitWaiters.push(() => resolve()));
  }

  // ---- verbs ----

  /** Forward a signal to the init, as lxc-start does for the signals it receives. */
  signal(name: string, signal: number): void {
    const pid = this.instances.get(name)?.pid;
    if (pid === undefined) throw new Refusal(`${name} is not running`);
    this.sys.kill(pid, signal);
  }

  /**
   * lxc-stop: the halt signal, then SIGKILL to the whole cgroup once the timeout passes. Stopping a
   * container that is already stopping joins that stop. The halt signal is chosen as LXC's
   * shutdown does (haltSignal: SIGRTMIN+3 for systemd). An init that neither catches nor blocks
   * it would never see it (the kernel drops unhandled signals to a PID namespace's init), so it
   * is killed at once instead of after a pointless wait.
   */
  stop(name: string, opts: StopOptions): Promise<void> {
    const inst = this.guard("stop", name);
    if (inst.stopping) return inst.stopping;
    if (inst.state === "STARTING") return this.abort(name, opts.cause);
    const masks = signalMasks(inst.pid);
    const halt = haltSignal(inst.config?.signals.halt, masks);
    const handled = initHandles(masks, halt);
    const timeoutMs = handled ? opts.timeoutMs : 0;
    inst.stopCause = opts.cause;
    const killAt = Date.now() + timeoutMs;
    this.setState(inst, "STOPPING", opts.cause, {
      signal: signalName(timeoutMs > 0 ? halt : inst.config?.signals.stop ?? DEFAULT_SIGNALS.stop),
      timeoutMs,
      killAt,
      ...(handled ? {} : { note: `the init does not handle ${signalName(halt)}: killed at once` }),
    });
    // A frozen init cannot handle the halt signal, nor die of SIGKILL, until thawed.
    if (this.isFrozen(inst)) inst.cgroup?.setFrozen(false);
    if (timeoutMs > 0) {
      this.trySignal(inst, halt);
      inst.stopTimer = setTimeout(() => this.sendStopSignal(inst), timeoutMs);
    } else {
      this.sendStopSignal(inst);
    }
    inst.stopping = this.stopped(inst);
    return inst.stopping;
  }

  /** The end of a stop: lxc.signal.stop to the init, or by default SIGKILL to the whole cgroup. */
  private sendStopSignal(inst: Instance): void {
    const stop = inst.config?.signals.stop ?? DEFAULT_SIGNALS.stop;
    if (stop === SIGKILL) this.killAll(inst);
    else this.trySignal(inst, stop);
  }

  /** Skip the rest of a running stop's timeout ("kill now"). */
  killNow(name: string, cause: EventCause): Promise<void> {
    const inst = this.instances.get(name);
    if (!inst?.stopping) throw new Refusal(`${name} is not stopping`);
    inst.stopCause = cause;
    clearTimeout(inst.stopTimer);
    // "Kill now" means it: SIGKILL to every process, whatever lxc.signal.stop says.
    this.killAll(inst);
    return inst.stopping;
  }

  /** lxc_abort: ABORTING, then SIGKILL to every process of the container at once. */
  abort(name: string, cause: EventCause): Promise<void> {
    const inst = this.guard("abort", name);
    inst.stopCause = cause;
    clearTimeout(inst.stopTimer);
    this.setState(inst, "ABORTING", cause, { signal: "SIGKILL" });
    // During STARTING the start path undoes what it made and ends in STOPPED; after it, the
    // exit handler passes through STOPPING (ABORTING is not STOPPING).
    inst.startAbort?.abort();
    this.killAll(inst);
    inst.stopping ??= this.stopped(inst);
    return inst.stopping;
  }

  /**
   * lxc-stop -r: the reboot signal to an init that catches or blocks it (a system init then calls reboot(2),
   * which ends it with SIGHUP); an init that does not handle it is killed. Either way the
   * container starts again once the init has ended, however it ended: an application init that
   * simply exits on the signal (a shell exits on SIGINT) is rebooted too, since a reboot was asked
   * for. One that handles the signal and stays is killed after the reboot timeout.
   */
  reboot(name: string, cause: EventCause, timeoutMs = REBOOT_TIMEOUT_MS): void {
    const inst = this.guard("reboot", name);
    const sig = inst.config?.signals.reboot ?? DEFAULT_SIGNALS.reboot;
    inst.restartRequested = cause;
    if (inst.pid !== undefined && initHandles(signalMasks(inst.pid), sig)) {
      this.trySignal(inst, sig);
      clearTimeout(inst.stopTimer);
      inst.stopTimer = setTimeout(() => this.killAll(inst), timeoutMs);
      return;
    }
    this.killAll(inst);
  }

  async freeze(name: string, cause: EventCause): Promise<void> {
    const inst = this.guard("freeze", name);
    this.requestState(inst, "FREEZING", cause);
    try {
      inst.cgroup!.setFrozen(true);
    } catch (e) {
      this.setState(inst, "RUNNING", cause, { error: { step: "freeze", message: (e as Error).message } });
      throw e;
    }
    await waitFor(() => inst.cgroup === undefined || inst.cgroup.isFrozen(), 5000);
    if (inst.state === "FREEZING") this.setState(inst, "FROZEN", cause);
  }

  unfreeze(name: string, cause: EventCause): void {
    const inst = this.guard("unfreeze", name);
    inst.cgroup!.setFrozen(false);
    this.setState(inst, "THAWED", cause);
    this.setState(inst, "RUNNING", cause);
  }

  /**
   * What an LXC tool says it did to the freezer (lxc-freeze and lxc-unfreeze write it themselves,
   * then tell the command socket: SERVE_STATE_CLIENTS), recorded once the cgroup agrees: FREEZING
   * and FROZEN, or THAWED and RUNNING. A notice the cgroup does not bear out changes nothing.
   */
  noteFreezer(name: string, state: StateName, cause: EventCause): void {
    const inst = this.instances.get(name);
    if (!inst?.cgroup) return;
    const frozen = inst.cgroup.isFrozen();
    if (state === "FREEZING" && inst.state === "RUNNING") this.setState(inst, "FREEZING", cause);
    else if (state === "FROZEN" && frozen && (inst.state === "RUNNING" || inst.state === "FREEZING")) {
      if (inst.state === "RUNNING") this.setState(inst, "FREEZING", cause);
      this.setState(inst, "FROZEN", cause);
    } else if (state === "THAWED" && !frozen && inst.state === "FROZEN") this.setState(inst, "THAWED", cause);
    else if (state === "RUNNING" && !frozen && (inst.state === "THAWED" || inst.state === "FREEZING" || inst.state === "FROZEN")) {
      if (inst.state === "FROZEN") this.setState(inst, "THAWED", cause);
      this.setState(inst, "RUNNING", cause);
    }
  }

  private isFrozen(inst: Instance): boolean {
    return inst.cgroup?.isFrozen() ?? false;
  }

  private trySignal(inst: Instance, signal: number): void {
    if (inst.pid === undefined) return;
    try {
      this.sys.kill(inst.pid, signal);
    } catch {
      // It is exiting already.
    }
  }

  private killAll(inst: Instance): void {
    if (inst.cgroup) {
      try {
        if (inst.cgroup.isFrozen()) inst.cgroup.setFrozen(false);
        inst.cgroup.killAll();
      } catch {
        // fall back to the init alone
      }
    }
    this.trySignal(inst, SIGKILL);
  }

  // ---- leftovers across agent restarts ----

  /**
   * After an agent restart: a container that was running died with the agent (PDEATHSIG). Kill
   * anything left in its cgroup, remove the cgroup and its veths (named in its RUNNING event),
   * and report it STOPPED.
   */
  async recoverLeftover(name: string, left: Leftover, cause: EventCause): Promise<void> {
    if (left.cgroup) {
      const cg = new ContainerCgroup(this.sys, this.hierarchies, left.cgroup);
      if (left.cgroupMade) {
        try {
          cg.killAll();
        } catch {
          // nothing left to kill
        }
        await cg.remove();
      } else {
        // Only planned (the start died before RUNNING): maybe never made, and then perhaps taken
        // since by another lxcpath's container. Remove it only if nothing runs in it.
        cg.destroy();
      }
      removeBootId(left.cgroup);
    }
    if (left.veths?.length) deleteLinks(this.sys, left.veths);
    this.setState(this.instance(name), "STOPPED", cause, { note: "was running when the agent stopped; its leftovers were removed", lostPid: left.pid });
  }
}

/** What a container of a dead agent may have left, from its timeline. */
export interface Leftover {
  cgroup?: string;
  /** the cgroup was made (RUNNING recorded it), not only planned (STARTING) */
  cgroupMade?: boolean;
  veths?: string[];
  pid?: number;
}

/** What corral leaves out of a config it otherwise runs, said at every start. */
export function runtimeWarnings(config: ContainerConfig, layout: CgroupLayout, kernelHasAppArmor: boolean): string[] {
  const notes: string[] = [];
  const apparmor = apparmorWarning(config.apparmorProfile, kernelHasAppArmor);
  if (apparmor) notes.push(apparmor);
  const cgroup = config.mountAuto.cgroup;
  if (cgroup && layout === "legacy") notes.push(`lxc.mount.auto ${cgroup}: corral mounts only a cgroup2 tree, and this host has no cgroup2 hierarchy`);
  else if (cgroup && !config.mountAuto.sys) notes.push(`lxc.mount.auto ${cgroup}: needs sys in lxc.mount.auto, to mount on /sys/fs/cgroup`);
  else if (cgroup && layout === "hybrid") notes.push(`lxc.mount.auto ${cgroup}: /sys/fs/cgroup is the container's cgroup2 tree; this host's cgroup v1 controllers are not mounted inside`);
  if (config.ttyMax > 0 && !config.autodev) notes.push(`lxc.tty.max = ${config.ttyMax}: corral makes ttys only on the /dev it makes (lxc.autodev = 1)`);
  return notes;
}

async function waitFor(done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
}
