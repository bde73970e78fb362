// The `samples` section: what resource sampling (apps/agent/src/metrics) costs the agent. The same
// agent, once with CORRAL_SAMPLING=0 and once with sampling on, each in rounds that alternate:
// 200 sleeping containers started through the API, a settling pause, then the agent's CPU time and
// RSS over a window of quiet. The cost is on minus off; the issue's targets are 2 % of one core
// and 20 MB. With sampling on, the host-wide sample must count every container (no figure for a
// sampler that sampled nothing).
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Sample } from "@corral/core";
import { createContainer } from "../apps/agent/src/containers/create.ts";
import { LxcPath } from "../apps/agent/src/containers/lxcpath.ts";
import { AgentUnderTest, freePort } from "./agent.ts";
import { AgentSocket } from "./agent-socket.ts";
import { cpuSeconds, leftovers, rssMb } from "./proc.ts";

export interface SamplesResults {
  containers: number;
  window_s: number;
  rounds: number;
  /** the agent's CPU over the window, in % of one core, and its RSS (median of a reading every 2 s), per mode */
  off: { cpu_pct: number; rss_mb: number };
  on: { cpu_pct: number; rss_mb: number };
  cost: { cpu_pct: number; rss_mb: number };
  targets: { cpu_pct: number; rss_mb: number };
  meets_target: { cpu: boolean; rss: boolean };
  /** with sampling on: how many containers the last host-wide sample counted */
  sampled: number;
  left_behind: { cgroups: number; processes: number };
}

const SETTLE_MS = 12_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round2 = (n: number) => Math.round(n * 100) / 100;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] ?? 0;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

async function measureOnce(work: string, n: number, sampling: boolean, windowSeconds: number, round: number) {
  const lxcpath = join(work, `samples-${sampling ? "on" : "off"}-${round}`);
  mkdirSync(lxcpath, { recursive: true });
  const store = new LxcPath(lxcpath);
  const prefix = `m${round}${sampling ? "n" : "f"}`;
  for (let i = 0; i < n; i++) createContainer(store, { name: `${prefix}${i}`, template: "host" });
  const agent = new AgentUnderTest(lxcpath, await freePort(), { CORRAL_SAMPLING: sampling ? "1" : "0" });
  await agent.start();
  let socket: AgentSocket | undefined;
  try {
    const url = `http://127.0.0.1:${agent.port}`;
    socket = await AgentSocket.open(url, agent.token);
    const s = socket;
    await Promise.all(Array.from({ length: n }, (_, i) => s.call("mutation", "containers.start", { name: `${prefix}${i}`, command: ["sleep", "3600"] })));
    await sleep(SETTLE_MS);
    const rss: number[] = [];
    const cpu0 = cpuSeconds(agent.pid);
    const t0 = performance.now();
    while (performance.now() - t0 < windowSeconds * 1000) {
      rss.push(rssMb(agent.pid));
      await sleep(2000);
    }
    const cpuPct = ((cpuSeconds(agent.pid) - cpu0) / ((performance.now() - t0) / 1000)) * 100;
    let sampled = 0;
    if (sampling) {
      const now = Date.now();
      const host = await s.call<{ samples: Sample[] }>("query", "metrics.range", { from: now - 10_000, to: now + 1000 });
      sampled = host.samples.at(-1)?.running ?? 0;
    }
    await Promise.all(Array.from({ length: n }, (_, i) => s.call("mutation", "containers.stop", { name: `${prefix}${i}`, kill: true })));
    process.stderr.write(`bench: samples ${sampling ? "on " : "off"} round ${round}: CPU ${cpuPct.toFixed(2)} % of a core, RSS ${median(rss)} MB${sampling ? `, ${sampled} sampled` : ""}\n`);
    return { cpuPct, rss: median(rss), sampled };
  } finally {
    socket?.close();
    await agent.stop();
  }
}

export async function samplesSection(opts: { work: string; containers: number; windowSeconds: number; rounds?: number }): Promise<SamplesResults> {
  const rounds = opts.rounds ?? 2;
  const off: Array<{ cpuPct: number; rss: number }> = [];
  const on: Array<{ cpuPct: number; rss: number; sampled: number }> = [];
  for (let round = 0; round < rounds; round++) {
    off.push(await measureOnce(opts.work, opts.containers, false, opts.windowSeconds, round));
    on.push(await measureOnce(opts.work, opts.containers, true, opts.windowSeconds, round));
  }
  const sampled = Math.min(...on.map((x) => x.sampled));
  if (sampled < opts.containers) throw new Error(`sampling on counted ${sampled} of ${opts.containers} running containers`);
  const mode = (xs: Array<{ cpuPct: number; rss: number }>) => ({ cpu_pct: round2(mean(xs.map((x) => x.cpuPct))), rss_mb: round2(mean(xs.map((x) => x.rss))) });
  const offM = mode(off);
  const onM = mode(on);
  const cost = { cpu_pct: round2(onM.cpu_pct - offM.cpu_pct), rss_mb: round2(onM.rss_mb - offM.rss_mb) };
  const targets = { cpu_pct: 2, rss_mb: 20 };
  const results: SamplesResults = {
    containers: opts.containers, window_s: opts.windowSeconds, rounds, off: offM, on: onM, cost, targets,
    meets_target: { cpu: cost.cpu_pct <= targets.cpu_pct, rss: cost.rss_mb <= targets.rss_mb },
    sampled, left_behind: leftovers("m"),
  };
  process.stderr.write(`bench: samples ${JSON.stringify(results)}\n`);
  return results;
}
