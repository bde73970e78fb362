// GET /metrics's text (metrics/prometheus.ts): what it holds for a running and a stopped
// container, and Prometheus's own linter, promtool (Debian's prometheus package, installed by
// setup), passes it.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { describe, it } from "node:test";
import { AgentMetrics } from "../../src/metrics/prometheus.ts";

function metrics(): AgentMetrics {
  const m = new AgentMetrics({
    containers: () => [
      { name: "web", state: "RUNNING", usage: { cpuUsec: 1_500_000, memBytes: 40 << 20, memLimit: 64 << 20, rssBytes: 12 << 20, pids: 3, procs: 3, oomKills: 1, netRx: 100, netTx: 50 } },
      { name: "idle", state: "STOPPED" },
    ],
    lastSeq: () => 42,
    subscribers: () => 2,
  });
  m.onState({ seq: 1, container: "web", state: "RUNNING", at: 0, cause: { actor: "t" }, detail: { phases: [{ name: "clone", ms: 1.2 }, { name: "exec", ms: 0.3 }] } });
  return m;
}

const sample = (text: string, series: string): number | undefined => {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe("/metrics", () => {
  it("holds each container's state, a running one's usage, starts and their phases", async () => {
    const text = await metrics().text();
    assert.equal(sample(text, 'corral_container_state{container="web",state="RUNNING"}'), 1);
    assert.equal(sample(text, 'corral_container_state{container="idle",state="STOPPED"}'), 1);
    assert.equal(sample(text, 'corral_container_state{container="idle",state="RUNNING"}'), 0);
    assert.equal(sample(text, 'corral_container_memory_bytes{container="web"}'), 40 << 20);
    assert.equal(sample(text, 'corral_container_memory_limit_bytes{container="web"}'), 64 << 20);
    assert.equal(sample(text, 'corral_container_cpu_seconds_total{container="web"}'), 1.5);
    assert.equal(sample(text, 'corral_container_oom_kills_total{container="web"}'), 1);
    assert.equal(sample(text, 'corral_container_network_receive_bytes_total{container="web"}'), 100);
    assert.equal(sample(text, 'corral_container_io_read_bytes_total{container="web"}'), undefined, "no io cgroup: no io series");
    assert.equal(sample(text, 'corral_container_memory_bytes{container="idle"}'), undefined, "a stopped container uses nothing");
    assert.equal(sample(text, 'corral_container_starts_total{container="web"}'), 1);
    assert.equal(sample(text, 'corral_container_start_seconds_count{phase="total"}'), 1);
    assert.equal(sample(text, 'corral_container_start_seconds_sum{phase="total"}'), 0.0015);
    assert.equal(sample(text, "corral_events_total"), 42);
    assert.equal(sample(text, "corral_event_subscribers"), 2);
    assert.ok(sample(text, "corral_agent_process_resident_memory_bytes")! > 0);
  });

  it("passes promtool check metrics", async () => {
    const text = await metrics().text();
    // promtool exits 1 and names each problem on a lint failure
    execFileSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
  });
});
