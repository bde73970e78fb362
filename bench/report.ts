// The bench's table, as markdown, and its place in the README (between two marker comments).
import { existsSync, readFileSync, writeFileSync } from "node:fs";

interface Stat {
  n: number;
  median_ms: number;
  p95_ms: number;
}

interface Results {
  date: string;
  quick: boolean;
  machine: { cpus: number; kernel: string; cpu?: string };
  ratios: Record<string, number | null>;
  lifecycle: Record<string, Stat | number | null>;
  start_to_running: Stat;
  start_phases_median_ms: Record<string, number>;
  scale: Record<string, unknown> & { containers: number; all_running_ms: number; p99_start_ms: number; agent_rss_mb: number; agent_cpu_s: number; per_container_kb: number; left_behind: { cgroups: number; processes: number } };
  fanout: { subscribers: number; events: number; p50_ms: number; p99_ms: number; missed: number; resyncs: number };
  skipped: Array<{ peer: string; reason: string }>;
}

const START = "<!-- bench:start -->";
const END = "<!-- bench:end -->";

const LABELS: Record<string, string> = {
  corral_agent: "corral, through the agent's API",
  corral_inprocess: "corral's runtime, in-process",
  lxc_start: "lxc-start -F (LXC 5.0.2)",
  runc: "runc run",
  floor: "unshare -fpmuin --mount-proc (floor)",
};

function r(x: number | null | undefined): string {
  return x === null || x === undefined ? "n/a" : x.toFixed(2);
}

export function renderMarkdown(res: Results): string {
  const lines: string[] = [];
  lines.push(`Measured ${res.date.slice(0, 10)} on ${res.machine.cpus} cores, Linux ${res.machine.kernel}${res.quick ? " (quick run)" : ""}.`, "");
  lines.push("| ratio | median | p95 |", "|---|---|---|");
  lines.push(`| corral_agent / lxc_start | ${r(res.ratios.corral_agent_over_lxc_start)} | ${r(res.ratios.corral_agent_over_lxc_start_p95)} |`);
  lines.push(`| corral_agent / floor | ${r(res.ratios.corral_agent_over_floor)} | ${r(res.ratios.corral_agent_over_floor_p95)} |`);
  lines.push(`| corral_agent / runc | ${r(res.ratios.corral_agent_over_runc)} | |`, "");
  lines.push("| lifecycle of /bin/true, start to STOPPED | median ms | p95 ms | runs |", "|---|---|---|---|");
  for (const [key, label] of Object.entries(LABELS)) {
    const s = res.lifecycle[key] as Stat | undefined;
    if (s && typeof s === "object") lines.push(`| ${label} | ${r(s.median_ms)} | ${r(s.p95_ms)} | ${s.n} |`);
  }
  lines.push("", "| other | figure |", "|---|---|");
  lines.push(`| start request to RUNNING at a WebSocket subscriber | median ${r(res.start_to_running.median_ms)} ms, p95 ${r(res.start_to_running.p95_ms)} ms |`);
  const phases = Object.entries(res.start_phases_median_ms).map(([k, v]) => `${k} ${r(v)}`).join(", ");
  lines.push(`| a start's phases in the agent (median ms) | ${phases} |`);
  const s = res.scale;
  lines.push(`| ${s.containers} containers started at once: all RUNNING | ${s.all_running_ms} ms (p99 start ${s.p99_start_ms} ms) |`);
  lines.push(`| agent RSS with ${s.containers} running | ${s.agent_rss_mb} MB (${s.per_container_kb} KB per container), CPU ${s.agent_cpu_s} s |`);
  lines.push(`| left after stopping them all | ${s.left_behind.cgroups} cgroups, ${s.left_behind.processes} processes |`);
  const f = res.fanout;
  lines.push(`| fan-out to ${f.subscribers} subscribers, ${f.events} events | p50 ${r(f.p50_ms)} ms, p99 ${r(f.p99_ms)} ms, ${f.missed} missed, ${f.resyncs} resyncs |`);
  for (const sk of res.skipped) lines.push(`| skipped: ${sk.peer} | ${sk.reason.replace(/\|/g, "/").slice(0, 200)} |`);
  return `${lines.join("\n")}\n`;
}

export function updateReadme(path: string, markdown: string): void {
  if (!existsSync(path)) return;
  const text = readFileSync(path, "utf8");
  const a = text.indexOf(START);
  const b = text.indexOf(END);
  if (a < 0 || b < a) return;
  writeFileSync(path, `${text.slice(0, a + START.length)}\n${markdown}${text.slice(b)}`);
}
