// The event stream's contract without root: replay after a cursor then live, no duplicates at the
// seam, a resync for a foreign cursor, and a slow subscriber cut off with a resync, never a gap.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { StreamItem } from "@corral/core";
import { Agent } from "../../src/agent.ts";
import { appRouter } from "../../src/api/root.ts";
import { SUBSCRIBER_QUEUE_LIMIT } from "../../src/bus.ts";
import { FakeSyscalls } from "../../src/sys/fake.ts";
import { nodeHost } from "../../src/host/node-host.ts";

const quiet = { info: () => {}, error: () => {} };
let dir: string;
let agent: Agent;

before(() => {
  dir = mkdtempSync(join(tmpdir(), "corral-stream-"));
  agent = new Agent(new FakeSyscalls(), nodeHost, dir, quiet);
});
after(() => {
  agent.runtime.close();
  agent.store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** What onState does: store, then publish. */
function emit(container: string, state: "STARTING" | "RUNNING" | "STOPPING" | "STOPPED"): number {
  const e = agent.store.appendEvent(container, state, { actor: "test" }, {});
  agent.bus.publish(e);
  return e.seq;
}

async function take(iter: AsyncIterable<unknown>, n: number): Promise<Array<{ id: string; data: StreamItem }>> {
  const out: Array<{ id: string; data: StreamItem }> = [];
  for await (const item of iter) {
    // Called directly, tracked() items are [id, data, marker] envelopes.
    const [id, data] = item as [string, StreamItem];
    out.push({ id, data });
    if (out.length === n) break;
  }
  return out;
}

describe("events.onEvent", () => {
  const caller = () => appRouter.createCaller({ agent, actor: "test", address: "local" });

  it("replays after the cursor, then goes live, each event once and in order", async () => {
    const first = emit("a", "STARTING");
    emit("a", "RUNNING");
    const iter = await caller().events.onEvent({ lastEventId: `${agent.store.storeId}:${first}` });
    const got = take(iter as AsyncIterable<unknown>, 3);
    setTimeout(() => {
      emit("a", "STOPPING");
      emit("a", "STOPPED");
    }, 20);
    const items = await got;
    assert.deepEqual(items.map((i) => i.data.kind === "event" && i.data.event.state), ["RUNNING", "STOPPING", "STOPPED"]);
    assert.deepEqual(items.map((i) => i.id), [first + 1, first + 2, first + 3].map((s) => `${agent.store.storeId}:${s}`));
  });

  it("answers a cursor from another store with a resync", async () => {
    const iter = await caller().events.onEvent({ lastEventId: "11111111-2222-3333-4444-555555555555:3" });
    const [item] = await take(iter as AsyncIterable<unknown>, 1);
    assert.equal(item!.data.kind, "resync");
  });

  it("cuts off a subscriber that falls too far behind with a resync after what it did get", () => {
    const sub = agent.bus.subscribe();
    for (let i = 0; i <= SUBSCRIBER_QUEUE_LIMIT; i++) emit("b", "RUNNING");
    let delivered = 0;
    assert.throws(() => {
      while (sub.take()) delivered++;
    }, /fell too far behind/);
    assert.equal(delivered, SUBSCRIBER_QUEUE_LIMIT);
    assert.ok(sub.closed);
    assert.equal(agent.bus.size, 0);
  });
});
