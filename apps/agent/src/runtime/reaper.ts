// lxc_poll's SIGCHLD: the inits are the agent's direct children, which libuv does not know, so
// they are reaped here by pid (waitpid on each, never on -1: libuv reaps its own children).
import type { Syscalls } from "../sys/syscalls.ts";
import { expected } from "../errors.ts";

export class Reaper {
  /** pid -> who wants its raw wait status */
  private readonly children = new Map<number, (status: number) => void>();
  private readonly onSigchld = () => this.reapAll();
  /** Signal listeners do not keep Node's event loop alive; this does while a child lives. */
  private keepAlive: NodeJS.Timeout | undefined;

  constructor(private readonly sys: Syscalls) {
    process.on("SIGCHLD", this.onSigchld);
  }

  /** Start watching a child we cloned; resolves with its raw wait status once it is reaped. */
  watch(pid: number): Promise<number> {
    this.keepAlive ??= setInterval(() => this.reapAll(), 60_000);
    const exited = new Promise<number>((resolve) => this.children.set(pid, resolve));
    // It may have exited before we listened.
    this.reapAll();
    return exited;
  }

  close(): void {
    clearInterval(this.keepAlive);
    process.off("SIGCHLD", this.onSigchld);
  }

  private reapAll(): void {
    for (const [pid, resolve] of this.children) {
      let status: number | null;
      try {
        status = this.sys.reap(pid);
      } catch (e) {
        expected(e, ["ECHILD"], `reaping ${pid}`);
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
}
