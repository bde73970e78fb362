// lxc_poll's SIGCHLD: the inits are the agent's direct children, which libuv does not know, so
// they are reaped here by pid (waitpid on each, never on -1: libuv reaps its own children).
// The kernel is asked which child has ended (waitid WNOWAIT, which reaps nothing) rather than each
// of ours being asked in turn: with a thousand running, asking each on every SIGCHLD and every
// start cost the agent half a second of CPU per hundred starts. Its status is handed on at once
// and the reap itself comes a turn later: reaping the init of a PID namespace frees the namespace
// (some 0.2 to 0.5 ms in the kernel here), which need not stand between an exit and its STOPPED.
import type { Syscalls } from "../sys/syscalls.ts";
import { expected } from "../errors.ts";

export class Reaper {
  /** pid -> who wants its raw wait status */
  private readonly children = new Map<number, (status: number) => void>();
  /** a child whose status was handed on, to be reaped in the next turn */
  private unreaped: number | undefined;
  private readonly onSigchld = () => this.reapExited();
  /** Signal listeners do not keep Node's event loop alive; this does while a child lives. */
  private keepAlive: NodeJS.Timeout | undefined;

  constructor(private readonly sys: Syscalls) {
    process.on("SIGCHLD", this.onSigchld);
  }

  /** Start watching a child we cloned; resolves with its raw wait status once it has ended. */
  watch(pid: number): Promise<number> {
    this.keepAlive ??= setInterval(() => this.reapEach(), 60_000);
    const exited = new Promise<number>((resolve) => this.children.set(pid, resolve));
    // It may have exited before we listened.
    this.reapOne(pid);
    return exited;
  }

  close(): void {
    clearInterval(this.keepAlive);
    process.off("SIGCHLD", this.onSigchld);
  }

  /**
   * On SIGCHLD, and after each deferred reap: the ended child the kernel names first. Until it is
   * reaped the kernel names it again, so one at a time: the next is looked for once it is.
   */
  private reapExited(): void {
    if (this.unreaped !== undefined) return;
    const ended = this.sys.exitedChild();
    if (ended === null) {
      this.idle();
      return;
    }
    const resolve = this.children.get(ended.pid);
    // One of libuv's, which its own handler reaps: it would be named again and hide ours behind
    // it, so ours are asked one by one this time.
    if (!resolve) {
      this.reapEach();
      return;
    }
    this.children.delete(ended.pid);
    this.unreaped = ended.pid;
    // Each exit is handled in a turn of its own, so that when many inits end at once the events
    // of the first reach subscribers before the cleanup of the next runs; the reap follows it.
    setImmediate(resolve, ended.status);
    setImmediate(() => this.reapDeferred());
  }

  private reapDeferred(): void {
    const pid = this.unreaped!;
    this.unreaped = undefined;
    try {
      this.sys.reap(pid);
    } catch (e) {
      expected(e, ["ECHILD"], `reaping ${pid}`); // reaped by someone else meanwhile
    }
    this.reapExited();
  }

  /** Every child of ours asked in turn: a foreign child stands first in the kernel's list, or the
   * minute's check that nothing was missed. */
  private reapEach(): void {
    for (const pid of [...this.children.keys()]) this.reapOne(pid);
    this.idle();
  }

  /** Reap `pid` now if it has ended, and hand its status on. */
  private reapOne(pid: number): void {
    const resolve = this.children.get(pid);
    if (!resolve) return;
    let status: number | null;
    try {
      status = this.sys.reap(pid);
    } catch (e) {
      expected(e, ["ECHILD"], `reaping ${pid}`);
      // ECHILD: someone else reaped it. There is no status to report, and nothing to wait for.
      status = 0;
    }
    if (status === null) return;
    this.children.delete(pid);
    setImmediate(resolve, status);
  }

  private idle(): void {
    if (this.children.size === 0 && this.unreaped === undefined && this.keepAlive) {
      clearInterval(this.keepAlive);
      this.keepAlive = undefined;
    }
  }
}
