// The WebSocket lane of events.onEvent (api/event-lane.ts) answers as tRPC's adapter does, byte for
// byte: the same subscription sent to the agent's server (the lane serves it) and to tRPC's own ws
// adapter over the same router gets the same messages. Of a batch the lane serves its part and
// tRPC the rest. Stops, duplicate ids, bad input and closes are the lane's too.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import type { Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { applyWSSHandler } from "@trpc/server/adapters/ws";
import { WebSocket, WebSocketServer } from "ws";
import { Agent } from "../../src/agent.ts";
import { EventLane } from "../../src/api/event-lane.ts";
import { appRouter } from "../../src/api/root.ts";
import { serve } from "../../src/api/server.ts";
import { agentEncoder } from "../../src/api/ws-encoder.ts";
import { FakeSyscalls } from "../../src/sys/fake.ts";
import { nodeHost } from "../../src/host/node-host.ts";

const TOKEN = "lane-test-token-0123456789";
const quiet = { info: () => {}, error: () => {} };
let dir: string;
let agent: Agent;
let server: Server;
let url: string;
/** tRPC's own ws adapter over the same router and agent: the reference */
let plain: WebSocketServer;
let plainUrl: string;
/** messages the lane took for itself (a spy on EventLane.take) */
let taken = 0;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "corral-lane-"));
  agent = new Agent(new FakeSyscalls(), nodeHost, dir, quiet);
  server = await serve(agent, { host: "127.0.0.1", port: 0, token: TOKEN, allowedOrigins: [] });
  url = `ws://127.0.0.1:${(server.address() as { port: number }).port}/trpc`;
  plain = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  applyWSSHandler({
    wss: plain, router: appRouter, experimental_encoder: agentEncoder,
    createContext: ({ res }) => ({ agent, actor: "test", address: "local", backlog: () => res.bufferedAmount }),
  });
  await new Promise((r) => plain.once("listening", r));
  plainUrl = `ws://127.0.0.1:${(plain.address() as { port: number }).port}`;
  const proto = EventLane.prototype;
  const take = Object.getOwnPropertyDescriptor(proto, "take")!.value as EventLane["take"];
  proto.take = function (this: EventLane, ...args: Parameters<EventLane["take"]>) {
    const mine = take.apply(this, args);
    if (mine) taken++;
    return mine;
  };
});
after(async () => {
  await new Promise((r) => server.close(r));
  await new Promise((r) => plain.close(r));
  agent.runtime.close();
  agent.store.close();
  rmSync(dir, { recursive: true, force: true });
});

function emit(container: string, state: "STARTING" | "RUNNING" | "STOPPING" | "STOPPED"): void {
  agent.bus.publish(agent.store.appendEvent(container, state, { actor: "test" }, {}));
}

/** A raw client: what it sends, and every text message it gets, as sent. */
async function client(to: "agent" | "trpc" = "agent") {
  const ws = to === "agent" ? new WebSocket(url, { headers: { authorization: `Bearer ${TOKEN}` } }) : new WebSocket(plainUrl);
  const got: string[] = [];
  ws.on("message", (data: Buffer) => got.push(data.toString("utf8")));
  await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
  return {
    got,
    send: (msg: unknown) => ws.send(JSON.stringify(msg)),
    /** the messages for subscription `id` once there are `n` of them */
    async messages(id: number, n: number): Promise<string[]> {
      const mine = () => got.filter((m) => m !== "PING" && (JSON.parse(m) as { id: unknown }).id === id);
      for (let i = 0; i < 200 && mine().length < n; i++) await new Promise((r) => setTimeout(r, 10));
      return mine();
    },
    close: () => ws.close(),
  };
}

const subscribe = (id: number, input: unknown, lastEventId?: string) => ({ id, method: "subscription", params: { path: "events.onEvent", input, lastEventId } });

describe("the WebSocket lane of events.onEvent", () => {
  it("sends what tRPC sends: started, the replay, live events, a stopped after a stop", async () => {
    const cursor = `${agent.store.storeId}:${agent.store.lastSeq()}`;
    emit("a", "STARTING");
    emit("b", "STARTING");
    const viaTrpc = await client("trpc");
    const viaLane = await client();
    const before = taken;
    viaTrpc.send(subscribe(1, { container: "a" }, cursor));
    viaLane.send(subscribe(1, { container: "a" }, cursor));
    await viaTrpc.messages(1, 2);
    await viaLane.messages(1, 2);
    assert.equal(taken, before + 1, "the lane served the agent's subscription");
    emit("a", "RUNNING");
    emit("b", "RUNNING");
    const trpcLive = await viaTrpc.messages(1, 3);
    const laneLive = await viaLane.messages(1, 3);
    assert.equal(laneLive.length, 3, "started, one replayed, one live");
    assert.deepEqual(laneLive, trpcLive);
    viaTrpc.send({ id: 1, method: "subscription.stop" });
    viaLane.send({ id: 1, method: "subscription.stop" });
    assert.deepEqual(await viaLane.messages(1, 4), await viaTrpc.messages(1, 4));
    assert.equal(taken, before + 2, "and its stop");
    assert.match(laneLive[0]!, /"type":"started"/);
    assert.match((await viaLane.messages(1, 4))[3]!, /"type":"stopped"/);
    viaTrpc.close();
    viaLane.close();
  });

  it("answers bad input and a cursor from another store as tRPC does", async () => {
    const viaTrpc = await client("trpc");
    const viaLane = await client();
    viaTrpc.send(subscribe(2, { container: 5 }));
    viaLane.send(subscribe(2, { container: 5 }));
    const lane = await viaLane.messages(2, 2);
    assert.deepEqual(lane, await viaTrpc.messages(2, 2));
    assert.match(lane[0]!, /"error".*bad input: container/);
    viaTrpc.send(subscribe(3, {}, "11111111-2222-3333-4444-555555555555:3"));
    viaLane.send(subscribe(3, {}, "11111111-2222-3333-4444-555555555555:3"));
    const resync = await viaLane.messages(3, 2);
    assert.deepEqual(resync, await viaTrpc.messages(3, 2));
    assert.match(resync[1]!, /"kind":"resync"/);
    viaTrpc.close();
    viaLane.close();
  });

  it("serves its part of a batch and hands tRPC the rest", async () => {
    const c = await client();
    const before = taken;
    c.send([subscribe(5, {}), { id: 6, method: "subscription", params: { path: "alerts.onAlert" } }]);
    const [events] = await c.messages(5, 1);
    const [alerts] = await c.messages(6, 1);
    assert.equal(taken, before + 1);
    assert.match(events!, /"type":"started"/);
    assert.match(alerts!, /"type":"started"/, "tRPC answered the alerts subscription");
    emit("d", "STARTING");
    assert.match((await c.messages(5, 2))[1]!, /"container":"d"/);
    c.close();
  });

  it("refuses a second subscription under an id in use, and ends its subscriptions when the client goes", async () => {
    const c = await client();
    c.send(subscribe(4, {}));
    await c.messages(4, 1);
    c.send(subscribe(4, {}));
    const [, duplicate] = await c.messages(4, 2);
    assert.match(duplicate!, /Duplicate id 4/);
    emit("c", "STARTING");
    assert.equal((await c.messages(4, 3)).length, 3, "the first subscription goes on");
    const subscribers = () => (agent.bus as unknown as { size: number }).size;
    const before = subscribers();
    c.close();
    for (let i = 0; i < 100 && subscribers() >= before; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(subscribers(), before - 1);
  });
});
