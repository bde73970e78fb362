// The agent's WebSocket encoder writes what tRPC's JSON encoder writes, serializing an event once
// however many subscribers it goes to.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { StateEvent } from "@corral/core";
import { agentEncoder } from "../../src/api/ws-encoder.ts";

function event(): StateEvent {
  return { seq: 7, container: "web \u0000corral-event\u0000 \"q\"", state: "RUNNING", at: 1.5, cause: { actor: "cli:root", request: "start" }, detail: { pid: 42, phases: [{ name: "clone", ms: 0.8 }] } };
}

/** events.onEvent's message to subscription `id`, as tRPC's ws adapter builds it. */
function message(id: number, e: StateEvent) {
  const cursor = `store:${e.seq}`;
  return { id, jsonrpc: undefined, result: { type: "data", data: { id: cursor, data: { kind: "event", event: e } }, id: cursor } };
}

describe("the agent's WebSocket encoder", () => {
  it("writes an event's message as JSON.stringify does", () => {
    const e = event();
    for (const id of [1, 2, 30]) assert.equal(agentEncoder.encode(message(id, e)), JSON.stringify(message(id, e)));
  });

  it("serializes an event once for all its subscribers", () => {
    let serialized = 0;
    const e = event();
    const detail = e.detail;
    // JSON.stringify reads each field once per serialization
    Object.defineProperty(e, "detail", { enumerable: true, get: () => (serialized++, detail) });
    const first = agentEncoder.encode(message(1, e));
    for (let id = 2; id <= 10; id++) agentEncoder.encode(message(id, e));
    assert.equal(serialized, 1);
    assert.equal(first, JSON.stringify(message(1, event())));
  });

  it("writes every other message as JSON.stringify does", () => {
    const others: unknown[] = [
      { id: 3, result: { type: "data", data: { id: "c:1", data: { kind: "resync", reason: "x", storeId: "s", lastSeq: 1 } } } },
      { id: 4, result: { type: "started" } },
      { id: 5, error: { message: "no", code: -32600 } },
      { id: 6, result: { type: "data", data: [{ name: "web", state: "RUNNING" }] } },
      "PING",
    ];
    for (const m of others) assert.equal(agentEncoder.encode(m), JSON.stringify(m));
  });
});
