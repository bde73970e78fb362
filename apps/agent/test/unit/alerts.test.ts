// Alerts in the agent: stored, listed and acknowledged in a real SQLite store; delivered to a real
// local HTTP receiver, signed, and retried until it takes them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingMessage } from "node:http";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import type { Alert, StateEvent } from "@corral/core";
import { AlertEngine } from "../../src/alerts/engine.ts";
import { loadWebhooks, parseWebhooks, SIGNATURE_HEADER, verifySignature, WebhookConfigError, Webhooks, type AlertDelivery } from "../../src/alerts/webhooks.ts";
import Database from "better-sqlite3";
import { Store } from "../../src/store/store.ts";
import { AlertLog } from "../../src/store/alerts.ts";
import type { Logger } from "../../src/log.ts";
import { tempDir } from "./temp-dir.ts";

const quiet: Logger = { info: () => undefined, error: () => undefined };

interface Received { body: string; signature: string | undefined }

/** A receiver that answers each POST with the next status of `statuses` (200 once they run out). */
async function receiver(statuses: number[] = []) {
  const received: Received[] = [];
  let notify: (() => void) | undefined;
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const header = req.headers[SIGNATURE_HEADER];
      received.push({ body: Buffer.concat(chunks).toString("utf8"), signature: Array.isArray(header) ? header[0] : header });
      res.statusCode = statuses.shift() ?? 200;
      res.end();
      notify?.();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return {
    url, received,
    /** resolves once `n` requests have come */
    async until(n: number): Promise<void> {
      while (received.length < n) await new Promise<void>((r) => (notify = r));
    },
    async [Symbol.asyncDispose]() {
      await new Promise((r) => server.close(r));
    },
  };
}

function stopped(seq: number, container: string, detail: StateEvent["detail"]): StateEvent {
  return { seq, container, state: "STOPPED", at: Date.now(), cause: { actor: "kernel" }, detail };
}

test("an OOM kill is stored, listed, counted, acknowledged once, and heard live", () => {
  using dir = tempDir("alerts");
  const store = new Store(join(dir.path, "corral.db"));
  const engine = new AlertEngine(store.alerts, undefined, quiet);
  const heard: Alert[] = [];
  const off = engine.onAlert((a) => heard.push(a));
  engine.onState(stopped(1, "web", { stop: { reason: "exited", code: 0 } }));
  engine.onState(stopped(2, "web", { stop: { reason: "oom-killed", oomKills: 1, signal: "SIGKILL" } }));
  engine.onState(stopped(3, "db", { stop: { reason: "killed-outside", signal: "SIGKILL" } }));
  assert.deepEqual(heard.map((a) => [a.kind, a.container]), [["oom-killed", "web"], ["abnormal-stop", "db"]]);
  const listed = engine.list({});
  assert.equal(listed.unacknowledged, 2);
  assert.deepEqual(listed.alerts.map((a) => a.kind), ["abnormal-stop", "oom-killed"]);
  const oom = listed.alerts[1]!;
  assert.equal(oom.seq, 2);
  assert.deepEqual(oom.detail.stop, { reason: "oom-killed", oomKills: 1, signal: "SIGKILL" });

  const acked = engine.acknowledge(oom.id, "alice");
  assert.equal(acked?.acknowledgedBy, "alice");
  assert.equal(engine.acknowledge(oom.id, "bob")?.acknowledgedBy, "alice");
  assert.equal(engine.acknowledge(999, "bob"), undefined);
  assert.deepEqual(engine.list({ unacknowledged: true }).alerts.map((a) => a.kind), ["abnormal-stop"]);
  assert.equal(engine.list({}).unacknowledged, 1);
  assert.deepEqual(engine.since(oom.id).map((a) => a.container), ["db"]);
  off();
  store.close();

  // they survive the agent: a new store on the same file lists them
  const again = new Store(join(dir.path, "corral.db"));
  assert.equal(again.alerts.list().length, 2);
  assert.equal(again.alerts.unacknowledgedCount(), 1);
  again.close();
});

test("the alert log keeps its newest rows past its bound", () => {
  const db = new Database(":memory:");
  const log = new AlertLog(db, 10);
  for (let i = 0; i < 30; i++) log.add({ kind: "abnormal-stop", severity: "warning", container: `c${i}`, at: i, message: "m", detail: {} });
  assert.equal(log.prune(), 20);
  assert.deepEqual(log.list({ limit: 3 }).map((a) => a.container), ["c29", "c28", "c27"]);
  assert.equal(log.list({ limit: 1000 }).length, 10);
  db.close();
});

test("webhooks: from CORRAL_WEBHOOKS or the lxcpath's file; a bad one says what is wrong", () => {
  using dir = tempDir("alerts");
  const file = join(dir.path, "webhooks.json");
  assert.deepEqual(loadWebhooks(undefined, file), []);
  writeFileSync(file, JSON.stringify([{ url: "http://127.0.0.1:1/x", secret: "s" }]));
  assert.deepEqual(loadWebhooks(undefined, file), [{ url: "http://127.0.0.1:1/x", secret: "s" }]);
  assert.deepEqual(loadWebhooks('[{"url":"https://example.org/h","secret":"k"}]', file), [{ url: "https://example.org/h", secret: "k" }]);
  assert.throws(() => parseWebhooks('[{"url":"ftp://x/y","secret":"k"}]', "CORRAL_WEBHOOKS"), WebhookConfigError);
  assert.throws(() => parseWebhooks('[{"url":"http://x/y"}]', "CORRAL_WEBHOOKS"), /0\.secret/);
  assert.throws(() => parseWebhooks("{", "CORRAL_WEBHOOKS"), /CORRAL_WEBHOOKS are not valid/);
});

test("a raised alert reaches the receiver as JSON signed with HMAC-SHA256 of its body", async () => {
  await using rx = await receiver();
  using dir = tempDir("alerts");
  const store = new Store(join(dir.path, "corral.db"));
  const hooks = new Webhooks([{ url: rx.url, secret: "s3cret" }], "host-a", quiet);
  const engine = new AlertEngine(store.alerts, hooks, quiet);
  engine.onState(stopped(7, "web", { stop: { reason: "oom-killed", oomKills: 2 } }));
  await rx.until(1);
  const got = rx.received[0]!;
  assert.ok(verifySignature(got.body, "s3cret", got.signature), `signature ${got.signature} verifies`);
  assert.ok(!verifySignature(got.body, "other", got.signature));
  assert.ok(!verifySignature(`${got.body} `, "s3cret", got.signature));
  const delivery = JSON.parse(got.body) as AlertDelivery;
  assert.equal(delivery.type, "alert");
  assert.equal(delivery.agent, "host-a");
  assert.equal(delivery.alert.kind, "oom-killed");
  assert.equal(delivery.alert.container, "web");
  assert.equal(delivery.alert.id, store.alerts.list()[0]!.id);
  engine.close();
  store.close();
});

test("a receiver that fails twice gets the alert on the third try; one that always fails is given up on", async () => {
  await using rx = await receiver([500, 503]);
  const errors: string[] = [];
  const log: Logger = { info: () => undefined, error: (msg) => errors.push(msg) };
  const hooks = new Webhooks([{ url: rx.url, secret: "k" }], "h", log, { tries: 5, firstDelayMs: 5, timeoutMs: 5000 });
  const alert: Alert = { id: 3, kind: "flapping", severity: "critical", container: "c", at: 1, message: "c is flapping", detail: {}, acknowledgedAt: null, acknowledgedBy: null };
  hooks.deliver(alert);
  const pendingAtOnce: number = hooks.inFlight;
  assert.equal(pendingAtOnce, 1); // deliver returned before any answer
  await rx.until(3);
  while (hooks.inFlight > 0) await new Promise((r) => setImmediate(r));
  assert.equal(rx.received.length, 3);
  for (const r of rx.received) assert.ok(verifySignature(r.body, "k", r.signature));
  assert.deepEqual(errors, ["webhook delivery failed: will retry", "webhook delivery failed: will retry"]);

  await using down = await receiver([500, 500, 500]);
  errors.length = 0;
  const failing = new Webhooks([{ url: down.url, secret: "k" }], "h", log, { tries: 3, firstDelayMs: 5, timeoutMs: 5000 });
  failing.deliver(alert);
  await down.until(3);
  while (failing.inFlight > 0) await new Promise((r) => setImmediate(r));
  assert.equal(down.received.length, 3);
  assert.equal(errors.at(-1), "webhook delivery failed: giving up");
});
