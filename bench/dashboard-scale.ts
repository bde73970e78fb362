// The `dashboard-scale` section (issue 14, item 3): one agent with 1,000 containers (host template,
// as the scale section makes them), all started at once through the agent's API while a real
// Chromium shows the dashboard's list; then the Timeline page with its 1,000 lanes, panned and
// zoomed; then all stopped. Measured in the page: the frame times (requestAnimationFrame deltas)
// during the burst and while panning, event → row for the rows drawn (those in view and the
// margin the list draws), the rows whose RUNNING never showed, and the timeline's draw times.
// Reported, never asserted. Run it under `nice -n -15` to keep other work on the cores out of it;
// the results say the niceness and the load average.
import { mkdirSync } from "node:fs";
import { getPriority, loadavg } from "node:os";
import { join } from "node:path";
import type { Page } from "@playwright/test";
import { createContainer } from "../apps/agent/src/containers/create.ts";
import { LxcPath } from "../apps/agent/src/containers/lxcpath.ts";
import { AgentUnderTest, freePort, Watcher } from "./agent.ts";
import { AgentSocket } from "./agent-socket.ts";
import { observeRows, openDashboard, profiled, readRowLog, rowLatencies, type DashboardUnderTest } from "./dashboard.ts";
import { percentile } from "./stats.ts";

export interface FrameTimes {
  frames: number;
  p50_ms: number;
  p95_ms: number;
  max_ms: number;
  /** frames longer than 50 ms (a long task: input would wait) */
  long: number;
}

export interface DashboardScaleResults {
  containers: number;
  /** the first start request → the agent's last RUNNING */
  all_running_ms: number;
  /** the list page during the burst: from the first start until every drawn row shows RUNNING, and a second more */
  list_frames: FrameTimes;
  /** rows the list draws (in view and its margin), whose changes are measured */
  rows_drawn: number;
  row_p50_ms: number;
  row_p99_ms: number;
  rows_measured: number;
  /** RUNNING and STOPPED events of drawn rows that their row never showed */
  rows_not_shown: number;
  /** drawn rows whose final state (RUNNING) never showed */
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
    dashboard = await openDashboard([agent]);
    const { page } = dashboard;
    await page.locator(`[data-testid='row-${name(0)}']`).waitFor();
    await page.getByTestId("group-h0").filter({ hasText: `${opts.containers.toLocaleString("en")} containers` }).waitFor({ timeout: 60_000 }).catch(() => undefined);
    await sleep(1000); // the page settles after its first load
    const drawn = new Set(await page.evaluate(() => [...document.querySelectorAll<HTMLElement>("[data-testid^='row-']")].map((r) => r.dataset.testid!.slice(4))));
    await page.evaluate(observeRows);

    const loadBefore = loadavg()[0]!;
    const t0 = Date.now();
    const burst = await profiled(page, async () => {
      await page.evaluate(recordFrames);
      const calls = await Promise.allSettled(Array.from({ length: opts.containers }, (_, i) =>
        socket!.call("mutation", "containers.start", { name: name(i), command: ["sleep", "3600"] }).then(() => running.add(name(i)))));
      const failed = calls.filter((c) => c.status === "rejected");
      if (failed.length) process.stderr.write(`bench: dashboard-scale: ${failed.length} of ${opts.containers} starts failed: ${(failed[0] as PromiseRejectedResult).reason}\n`);
      const lastRunning = await allRunning(watcher!, running.size);
      // every drawn row shows RUNNING (or 20 s pass), and one more second of frames
      await page.waitForFunction((names) => names.every((n) => document.querySelector(`[data-testid='row-${n}']`)?.getAttribute("data-state") === "RUNNING"), [...drawn].filter((n) => running.has(n)), { timeout: 20_000 }).catch(() => undefined);
      await sleep(1000);
      return { allRunningMs: lastRunning - t0, frames: await frameTimes(page) };
    });
    const rowLog = await readRowLog(page);
    const events = watcher.arrivals.map((a) => a.event).filter((e) => e.seq > info.lastSeq);
    const { latencies, notShown } = rowLatencies(rowLog, events, drawn);
    const lastShown = new Map<string, string>();
    for (const [n, state] of rowLog) lastShown.set(n, state);
    const finalNotShown = [...drawn].filter((n) => running.has(n) && lastShown.get(n) !== "RUNNING").length;

    const timeline = await panTimeline(page, opts.containers);
    const results: DashboardScaleResults = {
      containers: opts.containers,
      all_running_ms: Math.round(burst.allRunningMs),
      list_frames: burst.frames,
      rows_drawn: drawn.size,
      row_p50_ms: round2(percentile(latencies, 50)),
      row_p99_ms: round2(percentile(latencies, 99)),
      rows_measured: latencies.length,
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

