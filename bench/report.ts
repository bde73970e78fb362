// The bench's table, as markdown, and its place in the README (between two marker comments).
import type { SoakResults } from "./soak.ts";
import type { SamplesResults } from "./samples.ts";
import type { DashboardResults } from "./dashboard.ts";
import type { DashboardScaleResults, FrameTimes } from "./dashboard-scale.ts";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import type { Stat } from "./stats.ts";
import { SYSTEM_MEASURES, type MeasureResult, type SystemMeasure, type SystemResults } from "./system.ts";
import type { CliResults } from "./cli.ts";
import type { UnprivilegedResults } from "./unprivileged.ts";

interface Results {
  date: string;
  quick: boolean;
  machine: { cpus: number; kernel: string; cpu?: string };
  /** when each section's figures were measured (a run with --only keeps the others' last ones) */
  sections?: Record<string, { date: string; quick: boolean; kernel?: string }>;
  ratios?: Record<string, number | null>;
  lifecycle?: Record<string, Stat | number | null>;
  start_to_running?: Stat;
  start_phases_median_ms?: Record<string, number>;
  scale?: Record<string, unknown> & { containers: number; all_running_ms: number; p99_start_ms: number; agent_rss_mb: number; agent_cpu_s: number; per_container_kb: number; left_behind: { cgroups: number; processes: number } };
  fanout?: { subscribers: number; events: number; p50_ms: number; p99_ms: number; missed: number; resyncs: number };
  soak?: SoakResults;
  samples?: SamplesResults;
  /** results from before rows_in_view lack it */
  dashboard?: Omit<DashboardResults, "rows_in_view"> & { rows_in_view?: number };
  dashboard_scale?: DashboardScaleResults;
  skipped?: Array<{ peer: string; reason: string }>;
  system?: SystemResults | { error: string };
  cli?: CliResults;
  unprivileged?: UnprivilegedResults;
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
  lines.push(`Measured ${res.date.slice(0, 10)} on ${res.machine.cpus} cores, Linux ${res.machine.kernel}${res.quick ? " (quick run)" : ""}.`);
  const older = Object.entries(res.sections ?? {}).filter(([, s]) => s.date !== res.date);
  if (older.length) lines.push(`Kept from earlier runs (not chosen by --only): ${older.map(([k, s]) => `${k} ${s.date.slice(0, 10)}${s.quick ? " (quick)" : ""}${s.kernel && s.kernel !== res.machine.kernel ? ` on Linux ${s.kernel}` : ""}`).join(", ")}.`);
  lines.push("");
  if (res.ratios && res.lifecycle) {
    lines.push("| ratio | median | p95 |", "|---|---|---|");
    lines.push(`| corral_agent / lxc_start | ${r(res.ratios.corral_agent_over_lxc_start)} | ${r(res.ratios.corral_agent_over_lxc_start_p95)} |`);
    lines.push(`| corral_agent / floor | ${r(res.ratios.corral_agent_over_floor)} | ${r(res.ratios.corral_agent_over_floor_p95)} |`);
    lines.push(`| corral_agent / runc | ${r(res.ratios.corral_agent_over_runc)} | |`, "");
    lines.push("| lifecycle of /bin/true, start to STOPPED | median ms | p95 ms | runs |", "|---|---|---|---|");
    for (const [key, label] of Object.entries(LABELS)) {
      const s = res.lifecycle[key] as Stat | undefined;
      if (s && typeof s === "object") lines.push(`| ${label} | ${r(s.median_ms)} | ${r(s.p95_ms)} | ${s.n} |`);
    }
    lines.push("");
  }
  const other: string[] = [];
  if (res.start_to_running) other.push(`| start request to RUNNING at a WebSocket subscriber | median ${r(res.start_to_running.median_ms)} ms, p95 ${r(res.start_to_running.p95_ms)} ms |`);
  if (res.start_phases_median_ms) {
    const phases = Object.entries(res.start_phases_median_ms).map(([k, v]) => `${k} ${r(v)}`).join(", ");
    other.push(`| a start's phases in the agent (median ms) | ${phases} |`);
  }
  const u = res.unprivileged;
  if (u) {
    const l = u.lifecycle;
    const ms = (x?: Stat) => (x ? `${r(x.median_ms)} ms` : "n/a");
    other.push(`| unprivileged /bin/true lifecycle (lxc.idmap, empty network): corral through the agent / lxc-start -F of the same config (target ≤ ${u.ratios.target}) | rootfs chowned by the map ${r(u.ratios.corral_shifted_over_lxc_start)} (${ms(l.corral_agent_shifted)} vs ${ms(l.lxc_start)}); rootfs idmapped at start ${r(u.ratios.corral_idmapped_over_lxc_start)} (${ms(l.corral_agent_idmapped)}) |`);
  }
  const s = res.scale;
  if (s) {
    other.push(`| ${s.containers} containers started at once: all RUNNING | ${s.all_running_ms} ms (p99 start ${s.p99_start_ms} ms) |`);
    other.push(`| agent RSS with ${s.containers} running | ${s.agent_rss_mb} MB (${s.per_container_kb} KB per container), CPU ${s.agent_cpu_s} s |`);
    other.push(`| left after stopping them all | ${s.left_behind.cgroups} cgroups, ${s.left_behind.processes} processes |`);
  }
  const f = res.fanout;
  if (f) other.push(`| fan-out to ${f.subscribers} subscribers, ${f.events} events | p50 ${r(f.p50_ms)} ms, p99 ${r(f.p99_ms)} ms, ${f.missed} missed, ${f.resyncs} resyncs |`);
  const k = res.soak;
  if (k) other.push(`| soak: ${k.cycles} start/stop cycles through the API (${k.seconds} s, ${k.failed} failed) | agent RSS ${k.rss_mb.before} → ${k.rss_mb.warm !== undefined ? `${k.rss_mb.warm} at 1,000 → ` : ""}${k.rss_mb.after} MB, ${k.rss_mb.quiet ?? "?"} MB once quiet; fds ${k.fds.before} → ${k.fds.after}; left: ${k.left_behind.cgroups} cgroups, ${k.left_behind.processes} processes |`);
  const m = res.samples;
  if (m) {
    const met = (ok: boolean) => (ok ? "met" : "missed");
    other.push(`| sampling ${m.containers} running containers every 2 s: what it costs the agent (${m.rounds} rounds of ${m.window_s} s, on vs CORRAL_SAMPLING=0) | CPU ${m.cost.cpu_pct >= 0 ? "+" : ""}${r(m.cost.cpu_pct)} % of a core (${r(m.off.cpu_pct)} → ${r(m.on.cpu_pct)} %, target ≤ ${m.targets.cpu_pct}: ${met(m.meets_target.cpu)}); RSS ${m.cost.rss_mb >= 0 ? "+" : ""}${r(m.cost.rss_mb)} MB (${r(m.off.rss_mb)} → ${r(m.on.rss_mb)} MB, target ≤ ${m.targets.rss_mb}: ${met(m.meets_target.rss)}) |`);
  }
  const d = res.dashboard;
  if (d) other.push(`| dashboard in Chromium: ${d.agents} agents, ${d.containers} containers, ${d.ops_per_s} operations/s for ${d.window_s} s (${d.events} events) | event → row p50 ${r(d.row_p50_ms)} ms, p99 ${r(d.row_p99_ms)} ms (${d.rows_in_view === undefined ? `${d.rows_measured} rows` : `${d.rows_measured} changes of the ${d.rows_in_view} rows in view`}; ${d.rows_not_shown} never shown), of which event → page p50 ${r(d.arrival_p50_ms)} ms, p99 ${r(d.arrival_p99_ms)} ms; ${d.missed_events} missed events${d.timelines_equal ? ", timelines equal" : ", timelines differ"}; ${d.browser_streams} browser stream${d.browser_streams === 1 ? "" : "s"}; load average ${d.load_avg[0]} → ${d.load_avg[1]} |`);
  const ds = res.dashboard_scale;
  if (ds) {
    const frames = (f: FrameTimes) => `frame p50 ${r(f.p50_ms)} ms, p95 ${r(f.p95_ms)} ms, max ${r(f.max_ms)} ms (${f.frames} frames, ${f.long} over 50 ms)`;
    const load = `load average ${ds.load_avg[0]} → ${ds.load_avg[1]}, nice ${ds.nice}`;
    const w = ds.list_work;
    other.push(`| dashboard in Chromium, one agent starting ${ds.containers} containers at once (all RUNNING in ${ds.all_running_ms} ms): the list | ${frames(ds.list_frames)}; the page's main thread ${w.task_ms} ms (scripts ${w.script_ms}, style ${w.style_ms}, layout ${w.layout_ms}; ${ds.panel_draws} redraws of the panel's timeline); event → row p50 ${r(ds.row_p50_ms)} ms, p99 ${r(ds.row_p99_ms)} ms (${ds.rows_measured} changes of the ${ds.rows_in_view} rows in view, of which event → page p50 ${r(ds.arrival_p50_ms)} ms, p99 ${r(ds.arrival_p99_ms)} ms; ${ds.rows_not_shown} never shown, ${ds.final_not_shown} rows without their final RUNNING); ${load} |`);
    const t = ds.timeline;
    other.push(`| the Timeline page with ${t.lanes} lanes, dragged, zoomed and scrolled | draw p50 ${r(t.draw_p50_ms)} ms, p95 ${r(t.draw_p95_ms)} ms, max ${r(t.draw_max_ms)} ms (${t.draws} draws); ${frames(t.frames)} |`);
  }
  for (const sk of res.skipped ?? []) other.push(`| skipped: ${sk.peer} | ${cell(sk.reason)} |`);
  if (other.length) lines.push("| other | figure |", "|---|---|", ...other);
  if (res.system) lines.push("", ...renderSystem(res.system));
  if (res.cli) lines.push("", ...renderCli(res.cli));
  return `${lines.join("\n")}\n`;
}

function cell(text: string, max = 200): string {
  const t = text.replace(/\|/g, "/").replace(/\s+/g, " ");
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

const SYSTEM_LABELS: Record<SystemMeasure, string> = {
  boot: "boot: start request to `running`",
  stop: "clean stop (30 s timeout) to STOPPED",
  reboot: "`systemctl reboot` inside to `running` again",
  poweroff: "`systemctl poweroff` inside to STOPPED",
};

/** One runtime's figure for one measure: the median, how the stops ended, the failures and why. */
function systemCell(m: MeasureResult): string {
  const parts: string[] = [];
  const tries = m.samples.length + m.failures.length;
  if (m.median_ms !== null) parts.push(`${(m.median_ms / 1000).toFixed(2)} s${m.failures.length ? ` (${m.n} of ${tries})` : ""}`);
  const ended = new Map<string, number>();
  for (const s of m.samples) if (s.ended_by) ended.set(s.ended_by, (ended.get(s.ended_by) ?? 0) + 1);
  if (ended.size) parts.push([...ended].map(([how, n]) => `${how} ${n}/${m.samples.length}`).join(", "));
  if (m.failures.length) parts.push(`failed ${m.failures.length}×: ${cell(m.failures[0]!.reason, 140)}`);
  if (parts.length === 0) parts.push(m.not_retried ? `not retried (${m.not_retried})` : "not measured");
  return parts.join("; ");
}

function renderSystem(sys: SystemResults | { error: string }): string[] {
  if ("error" in sys) return ["| system container | figure |", "|---|---|", `| not measured | ${cell(sys.error)} |`];
  const lines = [
    `System container: ${sys.rootfs}, median of ${sys.rounds} round${sys.rounds > 1 ? "s" : ""} (2 boots a round), each wait bounded at ${sys.wait_limit_s} s.`,
    "",
    "| system container | LXC 5.0.2 | corral | corral / LXC | target |",
    "|---|---|---|---|---|",
  ];
  for (const m of SYSTEM_MEASURES) {
    const met = sys.meets_target[m];
    lines.push(`| ${SYSTEM_LABELS[m]} | ${systemCell(sys.lxc[m])} | ${systemCell(sys.corral[m])} | ${r(sys.ratios[m])}${met === null ? "" : met ? " (met)" : " (missed)"} | ≤ ${sys.targets[m].toFixed(1)} |`);
  }
  const notes: string[] = [];
  const counted = (["boot", "reboot"] as const).filter((m) => sys.lxc[m].systemd_median_ms !== undefined || sys.corral[m].systemd_median_ms !== undefined);
  const secs = (ms?: number) => (ms === undefined ? "n/a" : `${(ms / 1000).toFixed(2)} s`);
  const afterExit = sys.corral.poweroff.samples.flatMap((x) => (x.after_exit_ms === undefined ? [] : [x.after_exit_ms])).sort((a, b) => a - b);
  if (afterExit.length) notes.push(`corral's poweroff, from the init's end (STOPPING) to STOPPED, post-stop hooks included: median ${afterExit[Math.ceil(afterExit.length / 2) - 1]} ms`);
  if (counted.length) notes.push(`systemd's own count of its boot (systemd-analyze, userspace; median), LXC / corral: ${counted.map((m) => `${m} ${secs(sys.lxc[m].systemd_median_ms)} / ${secs(sys.corral[m].systemd_median_ms)}`).join("; ")}`);
  for (const [who, why] of Object.entries(sys.given_up)) notes.push(`${who} given up: ${cell(why, 300)}`);
  if (sys.config_changes.length) notes.push(`config changed for both: ${sys.config_changes.join("; ")}`);
  notes.push(`lxc-create took ${(sys.create_ms / 1000).toFixed(1)} s${sys.built_lxc_cache ? " (it built LXC's Debian cache)" : " (from LXC's cache)"}; warm-up: ${sys.warmup}; section ${sys.duration_s} s; ${sys.left_behind_cgroups} cgroups left${sys.load_average ? `; load average ${sys.load_average.before} before the rounds, ${sys.load_average.after} after` : ""}`);
  lines.push("", ...notes.map((n) => `- ${n}`));
  return lines;
}

/** The corral command beside LXC's tools and Node's own start-up, as ratios to `node -e 0`. */
function renderCli(c: CliResults): string[] {
  const overNode = (x?: Stat) => (x ? r(x.median_ms / c.node.median_ms) : "n/a");
  const target = (ratio: number | null, t: number) => `≤ ${t}${ratio === null ? "" : ratio <= t ? " (met)" : " (missed)"}`;
  const row = (label: string, x: Stat | undefined, t?: string) => (x ? `| ${label} | ${r(x.median_ms)} | ${r(x.p95_ms)} | ${overNode(x)} | ${t ?? ""} |` : undefined);
  const rows = [
    row("`node -e 0` (Node's own start-up)", c.node),
    row(`\`corral ls\` (${c.containers} containers, 1 running)`, c.corral_ls, target(c.ratios.ls_over_node, c.targets.ls)),
    row("`lxc-ls -f` (LXC 5.0.2, the same)", c.lxc_ls),
    row("`corral info NAME` (running)", c.corral_info, target(c.ratios.info_over_node, c.targets.info)),
    row("`lxc-info -n NAME` (running)", c.lxc_info),
    row("`corral start NAME` to RUNNING", c.corral_start, target(c.ratios.start_over_node, c.targets.start)),
  ].filter((x): x is string => x !== undefined);
  const notes = [`corral ls / lxc-ls -f: ${r(c.ratios.ls_over_lxc_ls)}; corral info / lxc-info: ${r(c.ratios.info_over_lxc_info)} (medians, ${c.rounds} interleaved rounds)${c.load_average ? `; load average ${c.load_average.before} before the rounds, ${c.load_average.after} after` : ""}`];
  if (c.skipped) notes.push(`skipped: ${cell(c.skipped)}`);
  return ["| the command line, against a running agent | median ms | p95 ms | × node -e 0 | target |", "|---|---|---|---|---|", ...rows, "", ...notes.map((n) => `- ${n}`)];
}

export function updateReadme(path: string, markdown: string): void {
  if (!existsSync(path)) return;
  const text = readFileSync(path, "utf8");
  const a = text.indexOf(START);
  const b = text.indexOf(END);
  if (a < 0 || b < a) return;
  writeFileSync(path, `${text.slice(0, a + START.length)}\n${markdown}${text.slice(b)}`);
}
