// Memory back after a burst. V8 keeps the heap it grew to for a burst and gives it back only
// when a full GC runs with little left alive, which its own memory reducer rarely starts in an
// agent that mostly waits on sockets: 50 subscribers replaying 15,000 events each took the
// heap from 30 to 110 MB with 22 MB live, and RSS stayed 80 MB up for good. So once the agent
// has been quiet for a while and its heap holds far more than it uses, it asks for a full GC
// itself (RSS then went back to where it was before the burst). Never while busy: the pause
// would land on requests.
import { getHeapStatistics, setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { performance, type EventLoopUtilization } from "node:perf_hooks";

/** How often the heap is looked at. */
const CHECK_MS = 10_000;
/** The event loop was busy less than this share of the last check's interval. */
const QUIET_UTILIZATION = 0.05;
/** Heap held beyond what is used that is worth a full GC (a few ms for a heap of this size). */
const SLACK_BYTES = 16 * 1024 * 1024;

/**
 * Whether a full GC is due: the loop was quiet, the heap holds much more than it uses, and it
 * has grown since the last GC asked for (one that could not shrink it is not asked for again).
 */
export function gcDue(utilization: number, heapTotal: number, heapUsed: number, totalAfterLastGc: number): boolean {
  return utilization < QUIET_UTILIZATION && heapTotal - heapUsed > SLACK_BYTES && heapTotal > totalAfterLastGc;
}

/**
 * Starts the watch; returns what stops it. `onCollect` hears of each GC it asked for; `trim`, if
 * given, runs after it (malloc_trim: the native memory the GC freed goes back to the kernel too).
 */
export function reclaimMemoryWhenQuiet(onCollect?: (before: number, after: number) => void, trim?: () => void): () => void {
  // The one way to reach V8's full GC from a running process: gc() is defined in contexts made
  // after the flag is set.
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  let last: EventLoopUtilization = performance.eventLoopUtilization();
  let totalAfterLastGc = 0;
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    const { utilization } = performance.eventLoopUtilization(now, last);
    last = now;
    const before = getHeapStatistics();
    if (!gcDue(utilization, before.total_heap_size, before.used_heap_size, totalAfterLastGc)) return;
    gc();
    trim?.();
    totalAfterLastGc = getHeapStatistics().total_heap_size;
    onCollect?.(before.total_heap_size, totalAfterLastGc);
  }, CHECK_MS);
  timer.unref();
  return () => clearInterval(timer);
}
