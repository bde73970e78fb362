// The dashboard's alerts (src/client/alerts.ts) with a fake dashboard server: the count from the
// agent's list, alerts arriving on the stream (counted once, toasted), and an acknowledgement.
import assert from "node:assert/strict";
import { afterEach, beforeEach, test } from "node:test";
import type { AlertItem } from "../src/lib/procedures.ts";

const calls: Array<{ path: string; input?: unknown }> = [];
let answer: (body: { path: string; input?: unknown }) => unknown;
const realFetch = globalThis.fetch;
beforeEach(() => {
  calls.length = 0;
  globalThis.fetch = (async (_url: string, init?: { body?: string }) => {
    const body = JSON.parse(init!.body!) as { path: string; input?: unknown };
    calls.push(body);
    return Response.json({ data: await answer(body) });
  }) as typeof fetch;
});
afterEach(() => {
  globalThis.fetch = realFetch;
});

const { AlertsStore, MAX_TOASTS } = await import("../src/client/alerts.ts");

const alert = (id: number, kind: AlertItem["kind"] = "oom-killed", acknowledgedAt: number | null = null): AlertItem => ({
  id, kind, severity: "critical", container: `c${id}`, at: 1000 + id, message: `c${id} was OOM-killed`, detail: {},
  acknowledgedAt, acknowledgedBy: acknowledgedAt === null ? null : "alice",
});

test("the count is the agents' own; an alert on the stream counts once and is toasted", async () => {
  const store = new AlertsStore();
  answer = () => ({ alerts: [alert(2), alert(1, "abnormal-stop", 5)], unacknowledged: 7 });
  await store.reload("a");
  answer = () => ({ alerts: [alert(1)], unacknowledged: 1 });
  await store.reload("b");
  assert.equal(store.unacknowledged(), 8);
  assert.deepEqual(calls.map((c) => c.path), ["alerts.list", "alerts.list"]);

  store.arrived("a", alert(3));
  assert.equal(store.unacknowledged(), 9);
  assert.deepEqual(store.toasts.map((t) => [t.agent, t.id]), [["a", 3]]);
  store.arrived("a", alert(3)); // the same alert again (a reconnection's overlap)
  assert.equal(store.unacknowledged(), 9);
  assert.equal(store.list()[0]?.id, 3);
  for (let id = 4; id < 4 + MAX_TOASTS + 2; id++) store.arrived("b", alert(id));
  assert.equal(store.toasts.length, MAX_TOASTS);
  assert.equal(store.toasts.at(-1)?.id, 3 + MAX_TOASTS + 2);
  for (const t of store.toasts) store.dismiss(`${t.agent}:${t.id}`);
});

test("acknowledging asks the alert's agent, lowers the count once and closes its toast", async () => {
  const store = new AlertsStore();
  answer = () => ({ alerts: [], unacknowledged: 0 });
  await store.reload("a");
  store.arrived("a", alert(9));
  assert.equal(store.unacknowledged(), 1);
  answer = ({ input }) => ({ ...alert((input as { id: number }).id), acknowledgedAt: 2000, acknowledgedBy: "alice" });
  await store.acknowledge("a", 9);
  assert.deepEqual(calls.at(-1), { path: "alerts.acknowledge", input: { id: 9 } });
  assert.equal(store.unacknowledged(), 0);
  assert.equal(store.toasts.length, 0);
  assert.equal(store.list()[0]?.acknowledgedBy, "alice");
  await store.acknowledge("a", 9); // already acknowledged: the count stays
  assert.equal(store.unacknowledged(), 0);
});

test("an agent whose alerts cannot be read says why", async () => {
  const store = new AlertsStore();
  globalThis.fetch = () => Promise.resolve(Response.json({ error: { message: "agent down", code: "AGENT_UNREACHABLE" } }, { status: 502 }));
  await store.reload("a");
  assert.equal(store.errors.get("a"), "agent down");
});
