// Alerts against a real agent: a container that outgrows its memory limit raises an oom-killed
// alert, heard live over alerts.onAlert, listed, acknowledged, and delivered to a webhook receiver
// (configured in the lxcpath's webhooks.json) with a valid signature. Needs root.
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Alert } from "@corral/core";
import { SIGNATURE_HEADER, verifySignature, type AlertDelivery } from "../../src/alerts/webhooks.ts";
import { AgentProcess, freePort } from "./agent-process.ts";
import { requireRoot } from "./harness.ts";

const SECRET = "root-test-webhook-secret";
let agent: AgentProcess;
let lxcpath: string;
let receiver: Server;
const received: Array<{ body: string; signature: string | undefined }> = [];
let heard: (() => void) | undefined;

before(async () => {
  requireRoot();
  lxcpath = mkdtempSync(join(tmpdir(), "corral-alerts-"));
  receiver = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const sig = req.headers[SIGNATURE_HEADER];
      received.push({ body: Buffer.concat(chunks).toString("utf8"), signature: Array.isArray(sig) ? sig[0] : sig });
      res.end("ok");
      heard?.();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/corral`;
  writeFileSync(join(lxcpath, "webhooks.json"), JSON.stringify([{ url, secret: SECRET }]));
  agent = new AgentProcess(lxcpath, await freePort(), "test-token-0123456789");
  await agent.start();
});

after(async () => {
  await agent.stop();
  await new Promise((r) => receiver.close(r));
  rmSync(lxcpath, { recursive: true, force: true });
});

async function until(what: string, done: () => boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) assert.fail(`${what} did not happen within ${ms / 1000} s; agent log: ${agent.log.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("alerts", () => {
  it("an OOM kill raises an oom-killed alert: live, listed, acknowledged, and POSTed signed to the webhook", async () => {
    const { http } = agent.client();
    const conn = agent.client("watcher");
    const live: Alert[] = [];
    const sub = conn.streams().alerts.onAlert.subscribe(undefined, { onData: (d) => live.push(d.data) });
    const before = await http.alerts.list.query({ unacknowledged: true });

    await http.containers.create.mutate({ name: "hog", template: "busybox", config: "lxc.cgroup2.memory.max = 32M\n" });
    await http.containers.start.mutate({ name: "hog", command: ["sh", "-c", "x=aaaaaaaaaaaaaaaa; while :; do x=$x$x; done"] });

    await until("the live oom-killed alert", () => live.some((a) => a.kind === "oom-killed"));
    const alert = live.find((a) => a.kind === "oom-killed")!;
    assert.equal(alert.container, "hog");
    assert.equal(alert.severity, "critical");
    assert.match(alert.message, /OOM/);
    assert.equal((alert.detail.stop as { reason: string }).reason, "oom-killed");
    sub.unsubscribe();
    conn.close();

    const listed = await http.alerts.list.query({ unacknowledged: true });
    assert.equal(listed.unacknowledged, before.unacknowledged + 1);
    assert.deepEqual(listed.alerts.map((a) => a.id), [alert.id]);

    await until("the webhook's delivery", () => received.some((r) => (JSON.parse(r.body) as AlertDelivery).alert.id === alert.id));
    const delivery = received.find((r) => (JSON.parse(r.body) as AlertDelivery).alert.id === alert.id)!;
    assert.ok(verifySignature(delivery.body, SECRET, delivery.signature), `the signature ${delivery.signature} does not verify`);
    assert.ok(!verifySignature(delivery.body, "another secret", delivery.signature));
    const body = JSON.parse(delivery.body) as AlertDelivery;
    assert.equal(body.type, "alert");
    assert.equal(body.alert.kind, "oom-killed");
    assert.equal(body.alert.container, "hog");

    const acked = await http.alerts.acknowledge.mutate({ id: alert.id });
    assert.equal(acked.acknowledgedBy, "test");
    assert.ok(acked.acknowledgedAt !== null);
    const after = await http.alerts.list.query({ unacknowledged: true });
    assert.equal(after.unacknowledged, before.unacknowledged);
    assert.ok(!after.alerts.some((a) => a.id === alert.id));
    const all = await http.alerts.list.query({});
    assert.equal(all.alerts.find((a) => a.id === alert.id)?.acknowledgedBy, "test");
    await assert.rejects(http.alerts.acknowledge.mutate({ id: 999_999 }), /no alert 999999/);
    const audit = await http.audit.list.query({ limit: 20 });
    assert.ok(audit.some((r) => r.action === "alerts.acknowledge" && r.actor === "test"), "the acknowledgement was not audited");
  });

  it("a subscriber back with lastEventId gets the alerts it missed", async () => {
    const { http } = agent.client();
    const newest = (await http.alerts.list.query({ limit: 1 })).alerts[0]!;
    await http.containers.start.mutate({ name: "hog", command: ["sh", "-c", "exit 3"] });
    await until("the abnormal stop's alert", () => received.some((r) => (JSON.parse(r.body) as AlertDelivery).alert.kind === "abnormal-stop"));
    const conn = agent.client("late");
    const replayed: Alert[] = [];
    const sub = conn.streams().alerts.onAlert.subscribe({ lastEventId: String(newest.id) }, { onData: (d) => replayed.push(d.data) });
    await until("the replay", () => replayed.length > 0);
    sub.unsubscribe();
    conn.close();
    const first = replayed.at(0);
    assert.ok(first);
    assert.equal(first.kind, "abnormal-stop");
    assert.match(first.message, /exited with code 3/);
  });
});
