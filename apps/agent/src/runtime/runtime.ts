// The lifecycle of start.c for every container under one lxcpath, in one event loop. Each verb
// has a room of its own; this class holds the containers, guards every request with the state
// rules of packages/core, and answers the queries:
//   lxc_init, lxc_spawn     start.ts (spawn.ts: namespaces, cgroups, veths, the child)
//   lxc_poll               reaper.ts: SIGCHLD -> the inits we made (libuv reaps its own)
//   __lxc_start, lxc_fini  fini.ts: exit status, halt or reboot, what the run held released
//   lxc-stop, lxc_abort    stop.ts
//   lxc-freeze             freezer.ts
//   lxc_set_state          journal.ts: stored before anyone hears of it, even on a full disk
//   after an agent crash   recovery.ts
// The runtime knows no transport.
import { actionRefusal, lxcConfigItem, type Action, type ContainerConfig, type EventCause, type StateName } from "@corral/core";
import type { Host } from "../host/host.ts";
import type { Syscalls } from "../sys/syscalls.ts";
import { hostHasAppArmor } from "./apparmor.ts";
import type { ContainerCgroup } from "./cgroups.ts";
import { detectHierarchies, type Hierarchy } from "./cgroup-hierarchies.ts";
import { ConsoleProxy, RingBuffer, type LentTerminal } from "./console.ts";
import type { RuntimeContext } from "./context.ts";
import { initExited } from "./fini.ts";
import { freeze, noteFreezer, unfreeze } from "./freezer.ts";
import { newInstance, Refusal, runEnded, statusOf, type ContainerStatus, type Instance, type Leftover, type StartOptions, type StopOptions, type WindowSize } from "./instance.ts";
import { StateJournal, type StateSink } from "./journal.ts";
import { ContainerNotFound, type LxcPath } from "../containers/lxcpath.ts";
import { Reaper } from "./reaper.ts";
import { recoverLeftover } from "./recovery.ts";
import { restart, start } from "./start.ts";
import { abort, killNow, reboot, REBOOT_TIMEOUT_MS, stop } from "./stop.ts";

export { Refusal, type ContainerStatus, type Leftover, type StartOptions, type StopOptions, type WindowSize } from "./instance.ts";
export { NotStored, type StateChange, type StateSink } from "./journal.ts";

export class Runtime {
  private readonly instances = new Map<string, Instance>();
  private readonly consoleListeners = new Set<(name: string, data: Buffer) => void>();
  private readonly ctx: RuntimeContext;
  readonly hierarchies: Hierarchy[];

  constructor(
    private readonly sys: Syscalls,
    host: Host,
    readonly lxcpath: LxcPath,
    sink: StateSink,
    hierarchies?: Hierarchy[],
  ) {
    this.hierarchies = hierarchies ?? detectHierarchies(host.files);
    const ctx: RuntimeContext = {
      sys,
      host,
      lxcpath,
      hierarchies: this.hierarchies,
      journal: new StateJournal(sink),
      reaper: new Reaper(sys),
      appArmor: hostHasAppArmor(host.files),
      consoleOutput: (name, data) => this.consoleListeners.forEach((l) => l(name, data)),
      initExited: (inst, status) => initExited(ctx, inst, status),
      restart: (inst, cause) => restart(ctx, inst, cause),
    };
    this.ctx = ctx;
  }

  close(): void {
    this.ctx.reaper.close();
    this.ctx.journal.close();
  }

  // ---- queries ----

  status(name: string): ContainerStatus {
    const inst = this.instances.get(name);
    if (!inst && !this.lxcpath.exists(name)) throw new ContainerNotFound(name);
    return statusOf(name, inst);
  }

  state(name: string): StateName {
    return this.instances.get(name)?.state ?? "STOPPED";
  }

  initPid(name: string): number | undefined {
    return this.instances.get(name)?.pid;
  }

  cgroupOf(name: string): ContainerCgroup | undefined {
    return this.instances.get(name)?.cgroup;
  }

  /**
   * Every container with a cgroup of its run (running, frozen or ending), for the sampler
   * (src/metrics). `run` tells one run from the next: a restart may reuse the cgroup's name, never
   * its counters or its veths.
   */
  sampleTargets(): Array<{ name: string; run: string; cgroup: ContainerCgroup; veths: string[] }> {
    const out: Array<{ name: string; run: string; cgroup: ContainerCgroup; veths: string[] }> = [];
    for (const inst of this.instances.values()) {
      if (!inst.cgroup || inst.state === "STOPPED" || inst.state === "STARTING" || inst.state === "ABORTING") continue;
      out.push({ name: inst.name, run: `${inst.cgroup.name}@${inst.startedAt ?? 0}`, cgroup: inst.cgroup, veths: inst.veths.map((v) => v.hostName) });
    }
    return out;
  }

  /** The config a container that is not STOPPED runs with (loaded at its start); else undefined. */
  runningConfig(name: string): ContainerConfig | undefined {
    const inst = this.instances.get(name);
    return inst?.config && inst.state !== "STOPPED" ? inst.config : undefined;
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

  /** Resolves with the raw wait status when the current run ends (-1 for a failed start). */
  waitForExit(name: string): Promise<number> {
    const inst = this.instances.get(name);
    return inst ? runEnded(inst) : Promise.resolve(0);
  }

  // ---- the console and the ttys ----

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
      return tty && { ttynum: tty.ttynum, fd: tty.master, afterSend: () => {}, release: () => tty.release() };
    }
    const console = inst?.console;
    if (!console) return undefined;
    const { master, slave } = this.sys.openpty();
    try {
      this.sys.makeRaw(slave);
      const proxy = new ConsoleProxy(this.ctx.host.files, console, slave);
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

  // ---- verbs ----

  /** Start a container; resolves once it is RUNNING, rejects (after ABORTING, STOPPED) if it fails. */
  async start(name: string, opts: StartOptions): Promise<ContainerStatus> {
    await start(this.ctx, this.guard("start", name), opts);
    return this.status(name);
  }

  /** Forward a signal to the init, as lxc-start does for the signals it receives. */
  signal(name: string, signal: number): void {
    const pid = this.instances.get(name)?.pid;
    if (pid === undefined) throw new Refusal(`${name} is not running`);
    this.sys.kill(pid, signal);
  }

  stop(name: string, opts: StopOptions): Promise<void> {
    return stop(this.ctx, this.guard("stop", name), opts);
  }

  killNow(name: string, cause: EventCause): Promise<void> {
    const inst = this.instances.get(name);
    const stopping = inst && killNow(this.ctx, inst, cause);
    if (!stopping) throw new Refusal(`${name} is not stopping`);
    return stopping;
  }

  abort(name: string, cause: EventCause): Promise<void> {
    return abort(this.ctx, this.guard("abort", name), cause);
  }

  reboot(name: string, cause: EventCause, timeoutMs = REBOOT_TIMEOUT_MS): void {
    reboot(this.ctx, this.guard("reboot", name), cause, timeoutMs);
  }

  freeze(name: string, cause: EventCause): Promise<void> {
    return freeze(this.ctx, this.guard("freeze", name), cause);
  }

  unfreeze(name: string, cause: EventCause): void {
    unfreeze(this.ctx, this.guard("unfreeze", name), cause);
  }

  /** What an LXC tool says it did to the freezer; recorded once the cgroup agrees (freezer.ts). */
  noteFreezer(name: string, state: StateName, cause: EventCause): void {
    const inst = this.instances.get(name);
    if (inst) noteFreezer(this.ctx, inst, state, cause);
  }

  /** After an agent restart: remove what a container that died with the last agent left (recovery.ts). */
  recoverLeftover(name: string, left: Leftover, cause: EventCause): Promise<void> {
    return recoverLeftover(this.ctx, this.instance(name), left, cause);
  }

  // ---- guards ----

  private instance(name: string): Instance {
    let inst = this.instances.get(name);
    if (!inst) {
      inst = newInstance(name);
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
}
