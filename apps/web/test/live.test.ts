// The browser's one live connection (src/client/live.ts) with a fake dashboard server: every topic
// on one stream, each from its reader's cursor; topics added and dropped by a short POST; and a
// stream opened again, with the cursors reached, when the POST lands on a server that does not
// hold it or the connection drops. Also the topics' wire format (src/lib/live-wire.ts).
import assert from "node:assert/strict";
import { afterEach, beforeEach, test } from "node:test";
import type { LiveMessage } from "../src/lib/live-wire.ts";
import { FakeEventSource } from "./fake-event-source.ts";


const posts: Array<{ url: string; body: unknown }> = [];
let postStatus = 204;
const realFetch = globalThis.fetch;
beforeEach(() => {
  FakeEventSource.all = [];
  posts.length = 0;
  postStatus = 204;
  (globalThis as unknown as { EventSource: unknown }).EventSource = FakeEventSource;
  globalThis.fetch = ((url: string, init?: { body?: string }) => {
    posts.push({ url, body: JSON.parse(init!.body!) });
    return Promise.resolve(new Response(postStatus === 204 ? null : "{}", { status: postStatus }));
  }) as typeof fetch;
});
afterEach(() => {
  globalThis.fetch = realFetch;
});

const { LiveConnection } = await import("../src/client/live.ts");
const { parseSubscriptions, parseTopic } = await import("../src/lib/live-wire.ts");

const settle = (ms = 0) => new Promise((r) => setTimeout(r, ms));

/** A reader that keeps its cursor from what it was given. */
function reader(cursor: string | null = null) {
  const got: LiveMessage[] = [];
  const r = {
    cursor,
    got,
    handler: {
      cursor: () => r.cursor,
      onMessage: (m: LiveMessage) => {
        got.push(m);
        if ("id" in m) r.cursor = m.id;
      },
    },
  };
  return r;
}

test("the topics subscribed in one turn share one stream, each from its cursor", async () => {
  const live = new LiveConnection();
  const agents = Array.from({ length: 10 }, (_, i) => reader(`s${i}:5`));
  agents.forEach((a, i) => live.subscribe(`events/a${i}`, a.handler));
  await settle();
  assert.equal(FakeEventSource.all.length, 1, "one connection for ten agents");
  assert.deepEqual(FakeEventSource.all[0]!.subs, agents.map((_, i) => `events/a${i}@s${i}:5`));
  FakeEventSource.all[0]!.emit("m", { topic: "events/a3", type: "status", live: true, state: "live" });
  assert.equal(agents[3]!.got.length, 1);
  assert.equal(agents[2]!.got.length, 0, "each message reaches its topic's reader only");
  live.close();
});

test("a topic added or dropped later is one POST to the stream, not another connection", async () => {
  const live = new LiveConnection();
  live.subscribe("events/a", reader("s:1").handler);
  await settle();
  const es = FakeEventSource.all[0]!;
  es.emit("hello", { stream: "abc" });
  const consoleReader = reader("c7");
  const stop = live.subscribe("console/a/web", consoleReader.handler);
  await settle();
  assert.deepEqual(posts.at(-1), { url: "/api/live/abc", body: { add: [{ topic: "console/a/web", cursor: "c7" }], remove: [] } });
  stop();
  await settle();
  assert.deepEqual(posts.at(-1)?.body, { add: [], remove: ["console/a/web"] });
  assert.equal(FakeEventSource.all.length, 1);
  live.close();
});

test("a POST that reaches a server without the stream opens it again with every topic and its cursor", async () => {
  const live = new LiveConnection();
  const events = reader("s:1");
  live.subscribe("events/a", events.handler);
  await settle();
  const first = FakeEventSource.all[0]!;
  first.emit("hello", { stream: "abc" });
  first.emit("m", { topic: "events/a", type: "item", id: "s:9", item: { kind: "event", event: {} } });
  postStatus = 404;
  live.subscribe("samples/a", reader("1000").handler);
  await settle(50);
  assert.equal(FakeEventSource.all.length, 2);
  assert.equal(first.readyState, FakeEventSource.CLOSED);
  assert.deepEqual(FakeEventSource.all[1]!.subs, ["events/a@s:9", "samples/a@1000"], "resumed from the cursor reached");
  live.close();
});

test("a dropped stream opens again from the cursors reached, and says so to its readers meanwhile", async () => {
  const live = new LiveConnection();
  const events = reader("s:1");
  const dropped: string[] = [];
  live.subscribe("events/a", { ...events.handler, onDisconnected: (m) => dropped.push(m) });
  await settle();
  const first = FakeEventSource.all[0]!;
  first.emit("m", { topic: "events/a", type: "item", id: "s:4", item: { kind: "event", event: {} } });
  first.onerror!();
  assert.equal(dropped.length, 1);
  assert.equal(first.readyState, FakeEventSource.CLOSED, "not EventSource's own retry, whose URL has the old cursors");
  await settle(1100);
  assert.deepEqual(FakeEventSource.all[1]?.subs, ["events/a@s:4"]);
  live.close();
});

test("topics and cursors: what the URL may carry, and a clear refusal of anything else", () => {
  assert.deepEqual(parseTopic("console/a1/web.1"), { kind: "console", agent: "a1", name: "web.1" });
  assert.match(parseTopic("console/a1") as string, /console\/AGENT\/CONTAINER/);
  assert.match(parseTopic("files/a1") as string, /kind must be one of/);
  assert.match(parseTopic("events/../x") as string, /not an agent name/);
  assert.deepEqual(parseSubscriptions(["events/a@s:1", "events/a@s:2", "samples/a@"]), {
    subs: [{ topic: "events/a", cursor: "s:1", parsed: { kind: "events", agent: "a" } }, { topic: "samples/a", cursor: null, parsed: { kind: "samples", agent: "a" } }],
  });
  assert.match((parseSubscriptions(["events/a@s 1"]) as { error: string }).error, /cursor/);
  assert.match((parseSubscriptions(Array.from({ length: 501 }, (_, i) => `events/a${i}@`)) as { error: string }).error, /at most 500/);
});
