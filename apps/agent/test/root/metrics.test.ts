// Root test of resource samples on this host's real cgroups and veths, through the agent's API:
// a busy container with a memory limit and a veth shows its CPU, memory against the limit, pids
// and traffic, in metrics.range and live in metrics.onSample. Needs root; fails without.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Sample, SampleTick } from "@corral/core";
import { AgentProcess, freePort } from "./agent-process.ts";
import { requireRoot, until } from "./harness.ts";

let agent: AgentProcess;
let lxcpath: string;

before(async () => {
  requireRoot();
  lxcpath = mkdtempSync(join(tmpdir(), "corral-metrics-test-"));
  agent = new AgentProcess(lxcpath, await freePort(), "test-token-0123456789");
  await agent.start();
});

after(async () => {
  await agent.stop();
  rmSync(lxcpath, { recursive: true, force: true });
});

const MiB = 1024 * 1024;

describe("resource samples", () => {
  it("a busy container with a 64 MiB limit and a veth: CPU, memory against its limit, pids and traffic", async () => {
    const { http } = agent.client();
    await http.containers.create.mutate({
      name: "busy", template: "busybox",
      config: ["lxc.cgroup2.memory.max = 64M", "lxc.cgroup2.pids.max = 100", "lxc.net.0.type = veth", "lxc.net.0.link = corralbr0",
        "lxc.net.0.flags = up", "lxc.net.0.ipv4.address = 10.0.5.237/24", ""].join("\n"),
    });
    const ticks: SampleTick[] = [];
    const conn = agent.client("watcher");
    const sub = conn.streams().metrics.onSample.subscribe({ container: "busy" }, { onData: (d) => ticks.push(d.data) });
    await http.containers.start.mutate({ name: "busy", command: ["sh", "-c", "ping -i 0.2 10.0.5.1 >/dev/null & while :; do :; done"] });

    let last: Sample | undefined;
    await until(() => {
      last = ticks.at(-1)?.containers.busy;
      return (last?.cpu ?? 0) > 50 && (last?.netTx ?? 0) > 0;
    }, 20_000);
    assert.ok(last);
    assert.equal(last.memLimit, 64 * MiB);
    assert.ok((last.mem ?? 0) > 0 && (last.mem ?? 0) < 64 * MiB, `memory ${last.mem}`);
    assert.ok((last.pids ?? 0) >= 2, `pids ${last.pids}`);
    assert.equal(last.oomKills, 0);
    const host = ticks.at(-1)?.host;
    assert.ok(host && (host.cpu ?? 0) >= (last.cpu ?? 0) && host.running !== undefined && host.running >= 1);
    assert.ok(host.memLimit && host.memLimit > 64 * MiB, "the host's memory is its limit");
    sub.unsubscribe();
    conn.close();

    const now = Date.now();
    const range = await http.metrics.range.query({ container: "busy", from: now - 60_000, to: now + 1000 });
    assert.equal(range.step, 2000);
    assert.ok(range.samples.some((s) => (s.cpu ?? 0) > 50));
    const hostRange = await http.metrics.range.query({ from: now - 60_000, to: now + 1000 });
    assert.equal(hostRange.container, null);
    assert.ok(hostRange.samples.length > 0);

    await http.containers.stop.mutate({ name: "busy", kill: true });
    await assert.rejects(http.metrics.range.query({ container: "busy", from: 10, to: 5 }), /to must be after from/);
  });
});
