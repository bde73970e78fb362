// Why a container died, and what it uses, against a real agent: a container that outgrows its
// memory limit ends OOM-killed (caused by the kernel), a kill -9 from the host ends
// killed-outside (never blamed on the init), and GET /metrics (with the token) has a running
// container's memory. Needs root.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { AgentProcess, freePort } from "./agent-process.ts";
import { requireRoot } from "./harness.ts";

let agent: AgentProcess;
let lxcpath: string;

before(async () => {
  requireRoot();
  lxcpath = mkdtempSync(join(tmpdir(), "corral-observability-"));
  agent = new AgentProcess(lxcpath, await freePort(), "test-token-0123456789");
  await agent.start();
});

after(async () => {
  await agent.stop();
  rmSync(lxcpath, { recursive: true, force: true });
});

const http = () => agent.client().http;

/** The container once it is STOPPED (30 s at most). */
async function stoppedLast(name: string) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const c = await http().containers.get.query({ name });
    if (c.state === "STOPPED" || Date.now() > deadline) return c;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("why a container died", () => {
  it("one that outgrows its memory limit is OOM-killed, by the kernel", async () => {
    await http().containers.create.mutate({ name: "hog", template: "busybox", config: "lxc.cgroup2.memory.max = 32M\n" });
    await http().containers.start.mutate({ name: "hog", command: ["sh", "-c", "x=aaaaaaaaaaaaaaaa; while :; do x=$x$x; done"] });
    const c = await stoppedLast("hog");
    assert.equal(c.lastStop?.reason, "oom-killed", JSON.stringify(c.lastStop));
    const last = (await http().events.list.query({ container: "hog" })).events.at(-1)!;
    assert.equal(last.cause.actor, "kernel");
  });

  it("one killed with kill -9 from the host is killed-outside, not the init's doing", async () => {
    await http().containers.create.mutate({ name: "victim", template: "busybox" });
    await http().containers.start.mutate({ name: "victim", command: ["sleep", "300"] });
    const { pid } = await http().containers.get.query({ name: "victim" });
    process.kill(pid!, "SIGKILL");
    const c = await stoppedLast("victim");
    assert.deepEqual(c.lastStop, { reason: "killed-outside", signal: "SIGKILL" });
    const last = (await http().events.list.query({ container: "victim" })).events.at(-1)!;
    assert.deepEqual(last.cause, { actor: "outside corral", request: "killed by SIGKILL" });
  });

  it("one stopped through corral is stopped, with who asked", async () => {
    await http().containers.start.mutate({ name: "victim", command: ["sleep", "300"] });
    await http().containers.stop.mutate({ name: "victim", kill: true });
    const c = await stoppedLast("victim");
    assert.deepEqual(c.lastStop && { reason: c.lastStop.reason, actor: "actor" in c.lastStop ? c.lastStop.actor : undefined }, { reason: "stopped", actor: "test" });
  });
});

describe("restart policy", () => {
  it("an on-failure container that keeps failing is restarted with a doubling wait up to its limit, and marked flapping", async () => {
    await http().containers.create.mutate({ name: "flap", template: "busybox" });
    await http().containers.setRestartPolicy.mutate({ name: "flap", policy: "on-failure", maxRestarts: 3, backoffMs: 100 });
    await http().containers.start.mutate({ name: "flap", command: ["sh", "-c", "exit 3"] });
    const deadline = Date.now() + 30_000;
    let c = await http().containers.get.query({ name: "flap" });
    while (!(c.restart?.gaveUp && c.state === "STOPPED") && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      c = await http().containers.get.query({ name: "flap" });
    }
    assert.deepEqual([c.state, c.restart?.policy, c.restart?.restarts, c.restart?.flapping, c.restart?.gaveUp], ["STOPPED", "on-failure", 3, true, true]);
    const events = (await http().events.list.query({ container: "flap" })).events;
    const starts = events.filter((e) => e.state === "STARTING");
    assert.deepEqual(starts.map((e) => e.cause.actor), ["test", "restart policy", "restart policy", "restart policy"]);
    assert.deepEqual(starts.slice(1).map((e) => e.cause.request), ["on-failure: restart 1 of 3", "on-failure: restart 2 of 3", "on-failure: restart 3 of 3"]);
    const stops = events.filter((e) => e.state === "STOPPED");
    assert.deepEqual(stops.map((e) => (e.detail.restart as { delayMs?: number } | undefined)?.delayMs), [100, 200, 400, undefined]);
    assert.deepEqual(stops.map((e) => e.detail.flapping === true), [false, false, true, true]);
    assert.equal(stops.at(-1)!.detail.restarts, 3);
    // the first two failures are abnormal stops; from the third it is flapping, raised once
    const { alerts } = await http().alerts.list.query({});
    assert.deepEqual(alerts.filter((a) => a.container === "flap").map((a) => a.kind).sort(), ["abnormal-stop", "abnormal-stop", "flapping"]);
  });
});

describe("GET /metrics", () => {
  it("answers 401 without the token, and with it has a running container's memory and state", async () => {
    assert.equal((await fetch(`${agent.url}/metrics`)).status, 401);
    await http().containers.create.mutate({ name: "busy", template: "busybox" });
    await http().containers.start.mutate({ name: "busy", command: ["sleep", "300"] });
    const res = await fetch(`${agent.url}/metrics`, { headers: { authorization: `Bearer ${agent.token}` } });
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.match(text, /^corral_container_state\{container="busy",state="RUNNING"\} 1$/m);
    const rss = /^corral_container_memory_rss_bytes\{container="busy"\} (\d+)$/m.exec(text);
    assert.ok(rss && Number(rss[1]) > 0, "no resident memory for the running container");
    await http().containers.stop.mutate({ name: "busy", kill: true });
  });
});
