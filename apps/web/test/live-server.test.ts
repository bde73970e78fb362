// One browser's live stream on the dashboard's server (src/server/live.ts), with fake agent
// connections: each topic subscribed on its agent from the browser's cursor, its messages written
// to the one stream, a topic dropped unsubscribed, and a subscription the agent ends subscribed
// again from the last cursor written.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { SseWriter } from "../src/server/sse.ts";
import type { LiveMessage } from "../src/lib/live-wire.ts";

interface Handlers {
  onStarted?: () => void;
  onData?: (d: { id: string; data: unknown }) => void;
  onComplete?: () => void;
  onError?: (e: unknown) => void;
}
interface FakeSub {
  path: string;
  input: unknown;
  handlers: Handlers;
  closed: boolean;
}

/** A fake agent connection: its subscriptions are recorded, the test drives their handlers. */
function fakeAgent(name: string, subs: FakeSub[]) {
  const procedure = (path: string) => ({
    subscribe(input: unknown, handlers: Handlers) {
      const sub: FakeSub = { path, input, handlers, closed: false };
      subs.push(sub);
      return { unsubscribe: () => (sub.closed = true) };
    },
  });
  const client = {
    events: { onEvent: procedure("events.onEvent") },
    alerts: { onAlert: procedure("alerts.onAlert") },
    metrics: { onSample: procedure("metrics.onSample") },
    console: { onOutput: procedure("console.onOutput") },
  };
  return { config: { name, url: "http://x", token: "t" }, streams: () => client };
}

const subs: FakeSub[] = [];
// The agents as CORRAL_WEB_AGENTS names them, with the fake's connection already made for "a".
const agentA = fakeAgent("a", subs);
process.env.CORRAL_WEB_AGENTS = JSON.stringify([agentA.config]);
(globalThis as unknown as Record<symbol, unknown>)[Symbol.for("corral.web.agents")] = {
  registry: { agents: [agentA.config], source: "env" },
  agents: new Map([["a", agentA]]),
};
const { LiveStream } = await import("../src/server/live.ts");
const { parseSubscriptions } = await import("../src/lib/live-wire.ts");

function writer() {
  const sent: LiveMessage[] = [];
  const out: SseWriter = { send: (_e, data) => sent.push(data as LiveMessage), comment: () => undefined, close: () => undefined, closed: false };
  return { out, sent };
}
const parsed = (...values: string[]) => {
  const r = parseSubscriptions(values);
  if ("error" in r) throw new Error(r.error);
  return r.subs;
};
const live = (path: string) => subs.filter((s) => s.path === path && !s.closed);

test("each topic is subscribed on its agent from the browser's cursor, its messages on the one stream", () => {
  subs.length = 0;
  const { out, sent } = writer();
  const stream = new LiveStream(out, "sid");
  for (const s of parsed("events/a@s1:5", "samples/a@1000", "console/a/web@c9")) stream.add(s);
  assert.deepEqual(live("events.onEvent").map((s) => s.input), [{ lastEventId: "s1:5" }]);
  assert.deepEqual(live("metrics.onSample").map((s) => s.input), [{ lastEventId: "1000" }]);
  assert.deepEqual(live("console.onOutput").map((s) => s.input), [{ name: "web", lastEventId: "c9" }]);
  assert.equal(live("alerts.onAlert").length, 1, "the agent's alerts ride its events topic");

  const ev = { seq: 6, container: "web", state: "RUNNING", at: 1, cause: { actor: "x" }, detail: {} };
  live("events.onEvent")[0]!.handlers.onStarted?.();
  live("events.onEvent")[0]!.handlers.onData?.({ id: "s1:6", data: { kind: "event", event: ev } });
  live("console.onOutput")[0]!.handlers.onData?.({ id: "c10", data: { reset: false, text: "hi" } });
  assert.deepEqual(sent.filter((m) => m.type !== "status"), [
    { topic: "events/a", type: "item", id: "s1:6", item: { kind: "event", event: ev } },
    { topic: "console/a/web", type: "console", id: "c10", reset: false, text: "hi" },
  ]);
  assert.ok(sent.some((m) => m.topic === "events/a" && m.type === "status" && m.live));

  stream.remove("console/a/web");
  assert.equal(live("console.onOutput").length, 0);
  stream.close();
  assert.equal(subs.filter((s) => !s.closed).length, 0, "closing the stream unsubscribes every topic");
});

test("a topic of an agent not configured says so; nothing is subscribed", () => {
  subs.length = 0;
  const { out, sent } = writer();
  new LiveStream(out, "sid").add(parsed("events/nope@")[0]!);
  assert.equal(subs.length, 0);
  assert.match((sent[0] as { message?: string }).message ?? "", /No agent named "nope"/);
});

test("a subscription the agent ends is made again from the last cursor written", async () => {
  subs.length = 0;
  const { out } = writer();
  const stream = new LiveStream(out, "sid");
  stream.add(parsed("console/a/web@")[0]!);
  const first = live("console.onOutput")[0]!;
  first.handlers.onData?.({ id: "c3", data: { reset: true, text: "ring" } });
  first.handlers.onComplete?.(); // the container stopped
  await new Promise((r) => setTimeout(r, 1100));
  assert.deepEqual(live("console.onOutput").map((s) => s.input), [{ name: "web", lastEventId: "c3" }]);
  stream.close();
});
