// The `dashboard-scale` section (issue 14, item 3): one agent with 1,000 containers (host template,
// as the scale section makes them), all started at once through the agent's API while a real
// Chromium shows the dashboard's list; then the Timeline page with its 1,000 lanes, panned and
// zoomed; then all stopped. Measured in the page: the frame times (requestAnimationFrame deltas)
// during the burst and while panning, event → row for the rows in view, the rows whose RUNNING
// never showed, and the timeline's draw times.
// Reported, never asserted. Run it under `nice -n -15` to keep other work on the cores out of it;
// the results say the niceness and the load average.
import { mkdirSync } from "node:fs";
import { getPriority, loadavg } from "node:os";
import { join } from "node:path";
import type { Page } from "@playwright/test";
import type { StateEvent } from "@corral/core";
import { createContainer } from "../apps/agent/src/containers/create.ts";
import { LxcPath } from "../apps/agent/src/containers/lxcpath.ts";
import { AgentUnderTest, freePort, Watcher } from "./agent.ts";
import { AgentSocket } from "./agent-socket.ts";
import { observeRows, openDashboard, profiled, readRowLog, rowLatencies, rowsInView, type DashboardUnderTest, type RowFigures, type RowLog } from "./dashboard.ts";
import { percentile } from "./stats.ts";

export interface FrameTimes {
  frames: number;
  p50_ms: number;
  p95_ms: number;
  max_ms: number;
  /** frames longer than 50 ms (a long task: input would wait) */
  long: number;
}

export interface PageWork {
  script_ms: number;
  style_ms: number;
  layout_ms: number;
  task_ms: number;
}

export interface DashboardScaleResults extends RowFigures {
  containers: number;
  /** the first start request → the agent's last RUNNING */
  all_running_ms: number;
  /** the list page during the burst: from the first start until every row in view shows RUNNING, and a second more */
  list_frames: FrameTimes;
  /** the page's main thread during the burst, from Chromium's own counters (ms): scripts (React included), style, layout, and all its tasks */
  list_work: PageWork;
  /** redraws of the selected container's timeline (its panel, beside the list) during the burst */
  panel_draws: number;
  /** rows in view whose final state (RUNNING) never showed */
  final_not_shown: number;
  /** the Timeline page with every lane, dragged, zoomed and scrolled */
  timeline: { lanes: number; draws: number; draw_p50_ms: number; draw_p95_ms: number; draw_max_ms: number; frames: FrameTimes };
  /** the bench's niceness (children inherit it) and the 1-minute load average before and after */
  nice: number;
  load_avg: [number, number];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round2 = (x: number) => Math.round(x * 100) / 100;
const name = (i: number) => `c${String(i).padStart(4, "0")}`;

/** In the page: every requestAnimationFrame delta from now on, in window.__frames (a frame each at 60 Hz when idle). */
function recordFrames(): void {
  const w = window as unknown as { __frames: number[] };
  const deltas: number[] = [];
  w.__frames = deltas;
  let last = 0;
  const tick = (t: number) => {
    if (last) deltas.push(t - last);
    last = t;
    if (w.__frames === deltas) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}

/** Starts counting the page's main-thread time; the function returned says how much went since, by kind. */
async function pageWork(page: Page): Promise<() => Promise<PageWork>> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Performance.enable");
  const read = async () => new Map((await cdp.send("Performance.getMetrics")).metrics.map((m) => [m.name, m.value]));
  const before = await read();
  return async () => {
    const after = await read();
    const ms = (k: string) => Math.round(((after.get(k) ?? 0) - (before.get(k) ?? 0)) * 1000);
    await cdp.detach();
    return { script_ms: ms("ScriptDuration"), style_ms: ms("RecalcStyleDuration"), layout_ms: ms("LayoutDuration"), task_ms: ms("TaskDuration") };
  };
}

async function frameTimes(page: Page): Promise<FrameTimes> {
  const deltas = await page.evaluate(() => {
    const w = window as unknown as { __frames: number[] };
    const d = w.__frames;
    w.__frames = []; // stops the recorder
    return d;
  });
  const s = deltas.slice().sort((a, b) => a - b);
  return { frames: s.length, p50_ms: round2(percentile(s, 50)), p95_ms: round2(percentile(s, 95)), max_ms: round2(s.at(-1) ?? NaN), long: s.filter((x) => x > 50).length };
}

export async function dashboardScaleSection(opts: { work: string; containers: number }): Promise<DashboardScaleResults> {
  const lxcpath = join(opts.work, "dash-scale");
  mkdirSync(lxcpath, { recursive: true });
  const store = new LxcPath(lxcpath);
  for (let i = 0; i < opts.containers; i++) createContainer(store, { name: name(i), template: "host" });
  const agent = new AgentUnderTest(lxcpath, await freePort());
  let socket: AgentSocket | undefined;
  let watcher: Watcher | undefined;
  let dashboard: DashboardUnderTest | undefined;
  const running = new Set<string>();
  try {
    await agent.start();
    socket = await AgentSocket.open(`http://127.0.0.1:${agent.port}`, agent.token);
    const info = await socket.call<{ storeId: string; lastSeq: number }>("query", "agent.info");
    watcher = new Watcher(socket, `${info.storeId}:${info.lastSeq}`);
    dashboard = await openDashboard([agent], { traceArrivals: true });
    const { page } = dashboard;
    await page.locator(`[data-testid='row-${name(0)}']`).waitFor();
    await page.getByTestId("group-h0").filter({ hasText: `${opts.containers.toLocaleString("en")} containers` }).waitFor({ timeout: 60_000 }).catch(() => undefined);
    await sleep(1000); // the page settles after its first load
    const inView = await rowsInView(page);
    await page.evaluate(observeRows);

    const loadBefore = loadavg()[0]!;
    const t0 = Date.now();
    const burst = await profiled(page, async () => {
      await page.evaluate(recordFrames);
      const work = await pageWork(page);
      await page.evaluate(() => (window as unknown as DrawLog).__corralTimelineDraws?.["container-timeline"]?.splice(0));
      const calls = await Promise.allSettled(Array.from({ length: opts.containers }, (_, i) =>
        socket!.call("mutation", "containers.start", { name: name(i), command: ["sleep", "3600"] }).then(() => running.add(name(i)))));
      const failed = calls.filter((c) => c.status === "rejected");
      if (failed.length) process.stderr.write(`bench: dashboard-scale: ${failed.length} of ${opts.containers} starts failed: ${(failed[0] as PromiseRejectedResult).reason}\n`);
      const lastRunning = await allRunning(watcher!, running.size);
      // every row in view shows RUNNING (or 20 s pass), and one more second of frames
      await page.waitForFunction((names) => names.every((n) => document.querySelector(`[data-testid='row-${n}']`)?.getAttribute("data-state") === "RUNNING"), [...inView].filter((n) => running.has(n)), { timeout: 20_000 }).catch(() => undefined);
      await sleep(1000);
      const panelDraws = await page.evaluate(() => (window as unknown as DrawLog).__corralTimelineDraws?.["container-timeline"]?.length ?? 0);
      return { allRunningMs: lastRunning - t0, frames: await frameTimes(page), work: await work(), panelDraws };
    });
    const rowLog = await readRowLog(page);
    const events = watcher.arrivals.map((a) => a.event).filter((e) => e.seq > info.lastSeq);
    const { latencies, notShown } = rowLatencies(rowLog, events, inView);
    const arrivals = await arrivalTimes(page, events.filter((e) => inView.has(e.container) && (e.state === "RUNNING" || e.state === "STOPPED")));
    explainSlowest(rowLog, events, inView);
    const lastShown = new Map<string, string>();
    for (const [n, state] of rowLog) lastShown.set(n, state);
    const finalNotShown = [...inView].filter((n) => running.has(n) && lastShown.get(n) !== "RUNNING").length;

    const timeline = await panTimeline(page, opts.containers);
    const results: DashboardScaleResults = {
      containers: opts.containers,
      all_running_ms: Math.round(burst.allRunningMs),
      list_frames: burst.frames,
      list_work: burst.work,
      panel_draws: burst.panelDraws,
      rows_in_view: inView.size,
      row_p50_ms: round2(percentile(latencies, 50)),
      row_p99_ms: round2(percentile(latencies, 99)),
      rows_measured: latencies.length,
      arrival_p50_ms: round2(percentile(arrivals, 50)),
      arrival_p99_ms: round2(percentile(arrivals, 99)),
      rows_not_shown: notShown,
      final_not_shown: finalNotShown,
      timeline,
      nice: getPriority(),
      load_avg: [round2(loadBefore), round2(loadavg()[0]!)],
    };
    process.stderr.write(`bench: dashboard-scale ${JSON.stringify(results)}\n`);
    return results;
  } finally {
    await dashboard?.close();
    if (socket) await Promise.allSettled([...running].map((n) => socket!.call("mutation", "containers.stop", { name: n, kill: true })));
    watcher?.close();
    socket?.close();
    await agent.stop();
  }
}

/** When the agent's last RUNNING of this burst arrived (ms since the epoch), once `count` have. */
function allRunning(watcher: Watcher, count: number): Promise<number> {
  return new Promise((resolve) => {
    const tick = () => {
      const runs = watcher.arrivals.filter((a) => a.event.state === "RUNNING");
      if (runs.length >= count) resolve(Math.max(...runs.map((a) => a.event.at)));
      else setTimeout(tick, 20);
    };
    tick();
  });
}

/** On stderr: the rows in view whose RUNNING showed last, with what each showed when (ms after its RUNNING event). */
function explainSlowest(rowLog: RowLog, events: readonly StateEvent[], inView: ReadonlySet<string>): void {
  const running = events.filter((e) => e.state === "RUNNING" && inView.has(e.container));
  const shownAt = (e: StateEvent) => rowLog.find(([n, state, t]) => n === e.container && state === "RUNNING" && t >= e.at)?.[2] ?? Infinity;
  const slowest = running.map((e) => ({ e, late: shownAt(e) - e.at })).sort((a, b) => b.late - a.late).slice(0, 3);
  for (const { e, late } of slowest) {
    const seen = rowLog.filter(([n]) => n === e.container).map(([, state, t]) => `${state}@${Math.round(t - e.at)}`).join(" ");
    process.stderr.write(`bench: dashboard-scale: ${e.container} RUNNING (seq ${e.seq}) shown ${Math.round(late)} ms later; its row showed ${seen}\n`);
  }
}

/** For each of these events, its arrival in the page (window.__arrived) less its time at the agent; sorted. */
async function arrivalTimes(page: Page, events: readonly StateEvent[]): Promise<number[]> {
  const arrived = await page.evaluate(() => (window as unknown as { __arrived: Array<[string, string, number]> }).__arrived);
  const at = new Map(arrived.map(([c, seq, t]) => [`${c}:${seq}`, t]));
  return events.flatMap((e) => {
    const t = at.get(`${e.container}:${e.seq}`);
    return t === undefined ? [] : [t - e.at];
  }).sort((x, y) => x - y);
}

type DrawLog = { __corralTimelineDraws?: Record<string, number[]> };

/** The Timeline page with every lane: dragged, zoomed with ctrl + wheel, and its lanes scrolled, as the e2e test does. */
async function panTimeline(page: Page, lanes: number): Promise<DashboardScaleResults["timeline"]> {
  await page.getByTestId("nav-timeline").click();
  await page.getByTestId("timeline-stats").and(page.locator(`[data-lanes='${lanes}']`)).waitFor({ timeout: 60_000 });
  await page.getByTestId("timeline-all").click();
  await sleep(500);
  const canvas = page.getByTestId("host-timeline-canvas");
  const box = (await canvas.boundingBox())!;
  await page.evaluate(() => (window as unknown as DrawLog).__corralTimelineDraws?.["host-timeline"]?.splice(0));
  await page.evaluate(recordFrames);
  await page.mouse.move(box.x + box.width * 0.7, box.y + 200);
  await page.mouse.down();
  for (let i = 0; i < 60; i++) await page.mouse.move(box.x + box.width * 0.7 - i * 8, box.y + 200);
  await page.mouse.up();
  await page.keyboard.down("Control");
  for (let i = 0; i < 20; i++) await page.mouse.wheel(0, i < 10 ? -120 : 120);
  await page.keyboard.up("Control");
  for (let i = 0; i < 30; i++) await page.mouse.wheel(0, 300);
  await sleep(200);
  const frames = await frameTimes(page);
  const draws = (await page.evaluate(() => (window as unknown as DrawLog).__corralTimelineDraws?.["host-timeline"] ?? [])).sort((a, b) => a - b);
  return { lanes, draws: draws.length, draw_p50_ms: round2(percentile(draws, 50)), draw_p95_ms: round2(percentile(draws, 95)), draw_max_ms: round2(draws.at(-1) ?? NaN), frames };
}

