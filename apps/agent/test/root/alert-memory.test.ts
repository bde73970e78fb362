// The memory alert against a real agent, with its sampler: an agent told to alert at 0.1 % of the
// limit for 2 s raises memory-high for a running container with a 32 MiB limit (its cgroup
// counts some 200 KiB for a sleeping busybox, more than the 33 KiB of 0.1 %: 1 % was too close, as
// its binary's pages are charged to whoever read them first), with the figures from its samples.
// Needs root.
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
  lxcpath = mkdtempSync(join(tmpdir(), "corral-alert-memory-"));
  // read by the agent's env.ts; the agent's process inherits them
  process.env.CORRAL_ALERT_MEMORY_SHARE = "0.001";
  process.env.CORRAL_ALERT_MEMORY_SECONDS = "2";
  agent = new AgentProcess(lxcpath, await freePort(), "test-token-0123456789");
  try {
    await agent.start();
  } finally {
    delete process.env.CORRAL_ALERT_MEMORY_SHARE;
    delete process.env.CORRAL_ALERT_MEMORY_SECONDS;
  }
});

after(async () => {
  await agent.stop();
  rmSync(lxcpath, { recursive: true, force: true });
});

describe("the memory alert", () => {
  it("memory above the configured share of its limit for the configured time raises memory-high with its figures", async () => {
    const { http } = agent.client();
    await http.containers.create.mutate({ name: "full", template: "busybox", config: "lxc.cgroup2.memory.max = 32M\n" });
    await http.containers.start.mutate({ name: "full", command: ["sleep", "300"] });
    const deadline = Date.now() + 30_000;
    let alerts = (await http.alerts.list.query({})).alerts;
    while (!alerts.some((a) => a.kind === "memory-high")) {
      if (Date.now() > deadline) assert.fail(`no memory-high alert within 30 s: ${JSON.stringify(alerts)}; log: ${agent.log.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 250));
      alerts = (await http.alerts.list.query({})).alerts;
    }
    const high = alerts.filter((a) => a.kind === "memory-high");
    assert.equal(high.length, 1);
    const alert = high[0]!;
    assert.equal(alert.container, "full");
    assert.equal(alert.detail.memLimit, 32 * 1024 * 1024);
    assert.ok(typeof alert.detail.mem === "number" && alert.detail.mem > 0.001 * 32 * 1024 * 1024);
    assert.match(alert.message, /of its memory limit for \d+ s/);
    await http.containers.stop.mutate({ name: "full", kill: true });
  });
});
