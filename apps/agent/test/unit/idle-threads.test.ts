// V8's background threads under SCHED_IDLE (src/idle-threads.ts): the pure parts, and the real
// thing in this test's own process, with libuv's pool found by a means of its own.
import assert from "node:assert/strict";
import { read, readFileSync, writeSync } from "node:fs";
import { readlink } from "node:fs/promises";
import { describe, it } from "node:test";
import { blockedOn, idleV8Threads, threadpoolSize } from "../../src/idle-threads.ts";
import { nativeSyscalls } from "../../src/sys/native.ts";

const SCHED_OTHER = 0;
const SCHED_IDLE = 5;

/** A thread's scheduling policy: field 41 of /proc/self/task/TID/stat. */
function policy(tid: number): number {
  const stat = readFileSync(`/proc/self/task/${tid}/stat`, "latin1");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[38]);
}

/** The pool's threads as they show themselves: /proc/thread-self read on each of them. */
async function poolSeenByReadlink(): Promise<Set<number>> {
  const seen = new Set<number>();
  for (let round = 0; round < 30; round++) {
    const links = await Promise.all(Array.from({ length: 16 }, () => readlink("/proc/thread-self")));
    for (const link of links) seen.add(Number(link.split("/").pop()));
  }
  return seen;
}

function quietLog() {
  const lines: string[] = [];
  return { lines, info: (msg: string) => lines.push(msg), error: (msg: string) => lines.push(msg) };
}

describe("V8's threads under SCHED_IDLE", () => {
  it("reads the pool's size as libuv does", () => {
    assert.equal(threadpoolSize(undefined), 4);
    assert.equal(threadpoolSize(""), 4);
    assert.equal(threadpoolSize("8"), 8);
    assert.equal(threadpoolSize("0"), 1);
    assert.equal(threadpoolSize("junk"), 1);
    assert.equal(threadpoolSize("5000"), 1024);
  });

  it("knows a thread blocked on one of the sockets from /proc/self/task/TID/syscall", () => {
    const fds = new Set([23, 24]);
    assert.equal(blockedOn("0 0x17 0x7f3a2c000b70 0x1 0x0 0x0 0x0 0x7f3a31ffec28 0x7f3a32b1a7e2\n", fds), true);
    assert.equal(blockedOn("0 0x18 0x7f3a2c000b70 0x1 0x0 0x0 0x0 0x7f3a31ffec28 0x7f3a32b1a7e2", fds), true);
    assert.equal(blockedOn("0 0x19 0x7f3a2c000b70 0x1 0x0 0x0 0x0 0x7f3a31ffec28 0x7f3a32b1a7e2", fds), false);
    assert.equal(blockedOn("202 0x5581f3c0 0x80 0x0 0x0 0x0 0x0 0x7ffd6b3fd8a0 0x7f3a32a9b3a6", fds), false);
    assert.equal(blockedOn("running", fds), false);
    assert.equal(blockedOn("-1 0x7ffd6b3fd8a0 0x7f3a32a9b3a6", fds), false);
  });

  it("gives up, changing nothing, when a thread of the pool is held elsewhere", async () => {
    const [reader, writer] = nativeSyscalls.socketpair();
    const held = new Promise((resolve) => read(reader, Buffer.alloc(1), 0, 1, null, resolve));
    const log = quietLog();
    try {
      assert.deepEqual(await idleV8Threads(nativeSyscalls, log), []);
      assert.match(log.lines.join("\n"), /could not be told apart/);
    } finally {
      writeSync(writer, "x");
      await held;
      nativeSyscalls.close(reader);
      nativeSyscalls.close(writer);
    }
  });

  it("lowers every thread but the main one and libuv's pool, which keep SCHED_OTHER and work", async () => {
    const idle = await idleV8Threads(nativeSyscalls, quietLog());
    assert.ok(idle.length >= 1, "no thread was lowered");
    for (const tid of idle) assert.equal(policy(tid), SCHED_IDLE, `thread ${tid} is not under SCHED_IDLE`);
    assert.ok(!idle.includes(process.pid), "the main thread was lowered");
    assert.equal(policy(process.pid), SCHED_OTHER);
    const pool = await poolSeenByReadlink();
    assert.ok(pool.size >= 1);
    for (const tid of pool) {
      assert.ok(!idle.includes(tid), `thread ${tid} of libuv's pool was lowered`);
      assert.equal(policy(tid), SCHED_OTHER);
    }
  });
});
