// WAL checkpoints off the agent's thread. SQLite runs its automatic checkpoint inside the commit
// that takes the WAL past 1,000 pages: the pages are copied into the database and both files are
// fsynced, 5 to 20 ms on a disk, during which the agent does nothing else. With 1,000 containers
// starting that came every 230 events or so, and each event stamped just before such a commit
// reached its subscribers 8 to 10 ms late (the fan-out's p99). The agent's connection turns the
// automatic checkpoint off and a thread of its own (checkpoint-worker.mjs) checkpoints instead.
// Should that thread fail, the automatic checkpoint comes back: the WAL never grows unchecked.
// A worker thread, with the same better-sqlite3 and so the same SQLite: a second copy of SQLite in
// the process (a native thread linked with the system's) would lose the agent's locks on the file,
// POSIX locks being per process and only one copy's bookkeeping keeping them straight. It costs
// about 11 MB of RSS (a V8 isolate and the connection's page cache).
import type Database from "better-sqlite3";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { unexpected } from "../errors.ts";

/** How often the thread checkpoints: the WAL holds about this long of writes (4 MB in a burst). */
export const CHECKPOINT_INTERVAL_MS = 100;
/** SQLite's own default, restored if the thread fails. */
const AUTOMATIC_CHECKPOINT_PAGES = 1000;

/** The worker's module: beside this one in the sources, a file of its own in the bundle (bin/bundle.mjs). */
const WORKER = ["./checkpoint-worker.mjs", "./corral-checkpoint.mjs"]
  .map((rel) => new URL(rel, import.meta.url))
  .find((url) => existsSync(fileURLToPath(url)));

export class Checkpointer {
  private readonly worker: Worker;
  private stopped = false;
  private lastFailure: string | undefined;

  /** Takes over `db`'s checkpoints (path: its file, for the thread's own connection). */
  constructor(private readonly db: Database.Database, path: string, intervalMs = CHECKPOINT_INTERVAL_MS) {
    if (!WORKER) throw new Error("the store's checkpoint worker is missing from the agent's files");
    db.pragma("wal_autocheckpoint = 0");
    this.worker = new Worker(WORKER, { workerData: { path, intervalMs } });
    // It must not hold the agent up at exit: the agent's own close checkpoints what is left.
    this.worker.unref();
    this.worker.on("error", (e) => this.failed(e));
    this.worker.on("message", (m: { failed: string; code?: string }) => this.checkpointFailed(m));
    this.worker.on("exit", (code) => {
      if (!this.stopped) this.failed(new Error(`the checkpoint thread exited (${code})`));
    });
  }

  /** A checkpoint failed (it is tried again): logged once for each different reason. */
  private checkpointFailed(m: { failed: string; code?: string }): void {
    if (m.failed === this.lastFailure) return;
    this.lastFailure = m.failed;
    unexpected("checkpointing the store (tried again every interval)", Object.assign(new Error(m.failed), { code: m.code }));
  }

  /** The thread failed: the agent's connection checkpoints again, inside its commits. */
  private failed(e: unknown): void {
    if (this.stopped) return;
    this.stopped = true;
    unexpected("in the store's checkpoint thread (checkpoints are back on the agent's thread)", e);
    if (this.db.open) this.db.pragma(`wal_autocheckpoint = ${AUTOMATIC_CHECKPOINT_PAGES}`);
  }

  /** Before the agent's connection closes (which checkpoints what is left itself). */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.worker.postMessage("stop");
  }
}
