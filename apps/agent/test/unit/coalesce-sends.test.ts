// Frames sent to a WebSocket in one turn leave in one write, but a frame is not held longer than
// MAX_CORK_MS while more are sent (api/server.ts coalesceSends).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Duplex } from "node:stream";
import type { WebSocket } from "ws";
import { coalesceSends, MAX_CORK_MS } from "../../src/api/server.ts";

/** A socket that records its writes (what one uncork lets out), and a ws that sends into it. */
function corkedPair(now: () => number) {
  const writes: string[][] = [];
  let held: string[] | undefined;
  const socket = {
    cork: () => {
      held = [];
    },
    uncork: () => {
      if (held?.length) writes.push(held);
      held = undefined;
    },
  } as unknown as Duplex;
  const ws = {
    send: (frame: string) => {
      if (held) held.push(frame);
      else writes.push([frame]);
    },
  } as unknown as WebSocket;
  coalesceSends(ws, socket, now);
  return { ws, writes };
}

const tick = () => new Promise((r) => process.nextTick(r));

describe("coalesced WebSocket sends", () => {
  it("sends the frames of one turn in one write, once the code that sent has run", async () => {
    const { ws, writes } = corkedPair(() => 0);
    ws.send("a");
    ws.send("b");
    assert.deepEqual(writes, []);
    await tick();
    assert.deepEqual(writes, [["a", "b"]]);
    ws.send("c");
    await tick();
    assert.deepEqual(writes, [["a", "b"], ["c"]]);
  });

  it("lets held frames go once they have waited MAX_CORK_MS, in a long turn", async () => {
    let now = 0;
    const { ws, writes } = corkedPair(() => now);
    ws.send("a");
    now = MAX_CORK_MS / 2;
    ws.send("b");
    assert.deepEqual(writes, [], "held for less than MAX_CORK_MS");
    now = MAX_CORK_MS;
    ws.send("c");
    assert.deepEqual(writes, [["a", "b"]], "a and b left when c came");
    await tick();
    assert.deepEqual(writes, [["a", "b"], ["c"]]);
  });
});
