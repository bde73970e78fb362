// V8's background threads under SCHED_IDLE. Before any of the agent's code runs, Node has started
// V8's platform threads (the optimizing compiler, the parallel and concurrent parts of the GC and
// the timer of their delayed tasks) and libuv's threadpool (the agent's file work: templates,
// rootfs shifts, deletes). In a burst of 1,000 starts the platform threads took a fifth to a third
// of the second core, TurboFan compiling the start path as it grew hot, at the same priority as
// the containers' setup and the clients the agent's events wake: a subscriber woken by an event
// waited for a core behind them (the fan-out's p99, issue 14). Under SCHED_IDLE any thread of
// another policy that wakes preempts them at once, and they run on the core time left over. V8
// copes with helpers that do not run: the thread that runs JavaScript does a scavenge's or a
// mark's work itself, and an optimized function only arrives later. libuv's pool keeps its policy:
// the agent's file work must not stall on a loaded host.
//
// Node does not name its threads, so the pool's are found by what they do: each is handed a read
// of an empty socket, and the threads seen blocked on those sockets are the pool's.
import { read, readdirSync, readFileSync, writeSync } from "node:fs";
import type { Syscalls } from "./sys/syscalls.ts";
import type { Logger } from "./log.ts";
import { expected } from "./errors.ts";

type ThreadSyscalls = Pick<Syscalls, "socketpair" | "close" | "idleScheduling">;

/** How long the pool's threads have to pick up the blocking reads before the search gives up. */
const FIND_POOL_MS = 1000;

/** libuv's threadpool size: UV_THREADPOOL_SIZE as libuv reads it (atoi, then 1 to 1024), else 4. */
export function threadpoolSize(value: string | undefined): number {
  if (value === undefined || value === "") return 4;
  const n = Number.parseInt(value, 10);
  return Math.min(1024, Math.max(1, Number.isNaN(n) ? 0 : n));
}

/**
 * Whether /proc/self/task/TID/syscall says the thread is blocked in a syscall whose first
 * argument is one of `fds` ("NR 0xFD ..."; "running" or "-1 SP PC" otherwise). Only the pool's
 * reads use those sockets, so the syscall's number need not be known.
 */
export function blockedOn(syscallLine: string, fds: ReadonlySet<number>): boolean {
  const [nr, arg0] = syscallLine.trim().split(" ");
  if (nr === undefined || nr === "running" || nr === "-1" || arg0 === undefined) return false;
  return fds.has(Number.parseInt(arg0, 16));
}

function threads(): number[] {
  return readdirSync("/proc/self/task").map(Number);
}

function syscallOf(tid: number): string {
  try {
    return readFileSync(`/proc/self/task/${tid}/syscall`, "latin1");
  } catch (e) {
    expected(e, ["ENOENT", "ESRCH"], `reading thread ${tid}'s syscall`); // it has ended
    return "running";
  }
}

/**
 * The threads of libuv's pool: `size` reads of empty sockets hold every one of them; the threads
 * blocked on those sockets are the pool. Undefined if they were not all seen in time.
 */
async function poolThreads(sys: ThreadSyscalls, size: number): Promise<Set<number> | undefined> {
  const pairs = Array.from({ length: size }, () => sys.socketpair());
  const fds = new Set(pairs.map(([reader]) => reader));
  const reads = pairs.map(([reader]) => new Promise<void>((resolve) => read(reader, Buffer.alloc(1), 0, 1, null, () => resolve())));
  const found = new Set<number>();
  const deadline = Date.now() + FIND_POOL_MS;
  while (found.size < size && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 1));
    for (const tid of threads()) if (blockedOn(syscallOf(tid), fds)) found.add(tid);
  }
  for (const [, writer] of pairs) writeSync(writer, "x");
  await Promise.all(reads);
  for (const [reader, writer] of pairs) {
    sys.close(reader);
    sys.close(writer);
  }
  return found.size === size ? found : undefined;
}

/**
 * Puts every thread of this process but the one that runs JavaScript and libuv's pool under
 * SCHED_IDLE; returns their tids. To be called first thing, before the agent starts threads of
 * its own (the store's checkpointer): the ones there are then Node's and V8's.
 */
export async function idleV8Threads(sys: ThreadSyscalls, log: Logger): Promise<number[]> {
  const size = threadpoolSize(process.env.UV_THREADPOOL_SIZE);
  const pool = await poolThreads(sys, size);
  if (!pool) {
    log.info("V8's threads keep their priority: libuv's threadpool could not be told apart", { threadpoolSize: size });
    return [];
  }
  const idle: number[] = [];
  for (const tid of threads().filter((t) => t !== process.pid && !pool.has(t))) {
    try {
      sys.idleScheduling(tid);
      idle.push(tid);
    } catch (e) {
      log.info("a thread keeps its priority", { tid, problem: e instanceof Error ? e.message : String(e) });
    }
  }
  return idle;
}
