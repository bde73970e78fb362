// Starts waiting for their turn are let go one a turn of the event loop, in order, with I/O read in
// between (runtime/turns.ts): a burst of starts must not clone back to back with no I/O.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { stat } from "node:fs";
import { TurnQueue } from "../../src/runtime/turns.ts";

function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

describe("the spawn turn queue", () => {
  it("lets waiters go in the order they came", async () => {
    const turns = new TurnQueue();
    const order: number[] = [];
    await Promise.all([1, 2, 3, 4].map((i) => turns.next().then(() => order.push(i))));
    assert.deepEqual(order, [1, 2, 3, 4]);
    assert.equal(turns.length, 0);
  });

  it("reads I/O between two waiters, where setImmediate alone ran them all first", async () => {
    const log: string[] = [];
    // An I/O completion asked for by the first waiter, and waiters that each take a millisecond:
    // under plain setImmediate all 30 ran in one check phase and the I/O came after the last.
    const run = async (wait: () => Promise<void>) => {
      log.length = 0;
      await Promise.all(Array.from({ length: 30 }, (_, i) => wait().then(() => {
        if (i === 0) stat(import.meta.filename, () => log.push("io"));
        busy(1);
        log.push(`w${i}`);
      })));
      await new Promise((r) => setTimeout(r, 20));
      return log.indexOf("io");
    };
    assert.equal(await run(() => new Promise((r) => setImmediate(r))), 30, "the premise: setImmediate runs them all first");
    const turns = new TurnQueue();
    const io = await run(() => turns.next());
    // well before the last: a loaded machine may take a few turns to finish the stat
    assert.ok(io > 0 && io < 25, `the I/O came after waiter ${io - 1} of 30`);
  });
});
