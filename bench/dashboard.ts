// The `dashboard` section (issue 15): a real Chromium on the dashboard's production server with ten
// agents and 200 containers (20 each), under a steady 20 operations a second (a start or a stop of
// a container, through each agent's own API, as other clients would), for a window. Measured:
// event → row latency, from the agent's event time (`at`) to the moment the container's row in the
// page shows that state (a MutationObserver in the page stamps each change); the events the page
// never got (the page's timeline against each agent's own, at the end); the rows that never showed
// a RUNNING or STOPPED they should have; and the browser's live connections (one, whatever the
// number of agents). Reported, never asserted.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { chromium, type Page } from "@playwright/test";
import type { StateEvent } from "@corral/core";
import { createContainer } from "../apps/agent/src/containers/create.ts";
import { LxcPath } from "../apps/agent/src/containers/lxcpath.ts";
import { AgentUnderTest, freePort } from "./agent.ts";
import { AgentSocket } from "./agent-socket.ts";
import { percentile } from "./stats.ts";

const REPO = join(import.meta.dirname, "..");
const WEB_DIR = join(REPO, "apps/web");

/** Event → row, as both dashboard sections report it. */
export interface RowFigures {
  /** rows wholly in the list's view at the start, whose changes are measured (the list draws only those and a margin) */
  rows_in_view: number;
  /** agent event → the row shows that state, for RUNNING and STOPPED */
  row_p50_ms: number;
  row_p99_ms: number;
  rows_measured: number;
  /** agent event → its message reaches the page (before the page renders it): the agent, the dashboard's server, the stream */
  arrival_p50_ms: number;
  arrival_p99_ms: number;
  /** RUNNING and STOPPED events whose row never showed them before the container's next change */
  rows_not_shown: number;
}

export interface DashboardResults extends RowFigures {
  agents: number;
  containers: number;
  ops_per_s: number;
  window_s: number;
  operations: number;
  /** events the agents recorded during the window (each op makes two or three) */
  events: number;
  /** events in the agents' timelines the page's timeline does not hold */
  missed_events: number;
  /** every agent's timeline and the page's hold the same events (count, first, last, sum of seqs) */
  timelines_equal: boolean;
  /** EventSources open in the page at the end */
  browser_streams: number;
  /** the machine's 1-minute load average before and after the window (other work shares the cores) */
  load_avg: [number, number];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round3 = (x: number) => Math.round(x * 1000) / 1000;
const round2 = (x: number) => Math.round(x * 100) / 100;

function waitForUrl(url: string, proc: ChildProcess, ms = 60_000): Promise<void> {
  const until = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (proc.exitCode !== null) {
        reject(new Error(`the dashboard exited with ${proc.exitCode}`));
        return;
      }
      if (Date.now() > until) {
        reject(new Error(`the dashboard did not answer at ${url}`));
        return;
      }
      fetch(url, { redirect: "manual" }).then((r) => (r.status < 500 ? resolve() : setTimeout(attempt, 200)), () => setTimeout(attempt, 200));
    };
    attempt();
  });
}

/**
 * Records, in the page, each time a container's row changes state: [name, state, ms since the
 * epoch]. Only the rows a mutation touched are read, so the observer costs the page little.
 */
export function observeRows(): void {
  const seen = new Map<string, string>();
  const log: Array<[string, string, number]> = [];
  (window as unknown as { __rowLog: typeof log }).__rowLog = log;
  const look = (row: HTMLElement, t: number) => {
    const name = row.dataset.testid!.slice(4);
    const state = row.querySelector("[data-testid='state']")?.textContent ?? "";
    if (seen.get(name) === state) return;
    seen.set(name, state);
    log.push([name, state, t]);
  };
  const rowOf = (node: Node | null) => (node instanceof Element ? node : node?.parentElement)?.closest<HTMLElement>("[data-testid^='row-']") ?? null;
  new MutationObserver((records) => {
    const t = performance.timeOrigin + performance.now();
    const rows = new Set<HTMLElement>();
    for (const r of records) {
      const row = rowOf(r.target);
      if (row) rows.add(row);
      else for (const n of r.addedNodes) if (n instanceof HTMLElement) n.querySelectorAll<HTMLElement>("[data-testid^='row-']").forEach((x) => rows.add(x));
    }
    for (const row of rows) look(row, t);
  }).observe(document.body, { subtree: true, childList: true, characterData: true });
  document.querySelectorAll<HTMLElement>("[data-testid^='row-']").forEach((row) => look(row, performance.timeOrigin + performance.now()));
}

/** The dashboard's production server and a Chromium signed in to it, on the containers page. */
export interface DashboardUnderTest {
  page: Page;
  webUrl: string;
  close(): Promise<void>;
}

/**
 * Starts the dashboard's server over these agents (named h0, h1, ...), opens Chromium on it,
 * signs in and waits until every agent's stream is live. With `traceArrivals`, the page also stamps
 * when each event's message reaches it (window.__arrived), before React sees it.
 */
export async function openDashboard(agents: AgentUnderTest[], opts: { traceArrivals?: boolean } = {}): Promise<DashboardUnderTest> {
  const buildId = join(WEB_DIR, ".next", "BUILD_ID");
  if (!existsSync(buildId)) throw new Error("no dashboard build: run `pnpm --filter @corral/web build` first");
  process.stderr.write(`bench: dashboard build of ${statSync(buildId).mtime.toISOString()}\n`);
  let web: ChildProcess | undefined;
  let browser: Awaited<ReturnType<typeof chromium.launch>> | undefined;
  const close = async () => {
    await browser?.close();
    if (web && web.exitCode === null) {
      const exited = new Promise((r) => web!.once("exit", r));
      web.kill("SIGTERM");
      await exited;
    }
  };
  try {
    const port = await freePort();
    const webUrl = `http://127.0.0.1:${port}`;
    const password = `bench-${process.pid}`;
    web = spawn(process.execPath, [join(WEB_DIR, "server.mjs"), "-p", String(port)], {
      cwd: WEB_DIR,
      env: {
        ...process.env, NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1", CORRAL_WEB_PASSWORD: password,
        CORRAL_WEB_AGENTS: JSON.stringify(agents.map((a, i) => ({ name: `h${i}`, url: `http://127.0.0.1:${a.port}`, token: a.token }))),
      },
      stdio: ["ignore", "ignore", "inherit"],
    });
    await waitForUrl(`${webUrl}/login`, web);

    browser = await chromium.launch({
      executablePath: process.env.CORRAL_E2E_CHROMIUM ?? "/usr/bin/chromium",
      args: ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-gpu"],
    });
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    // tsx names the functions it compiles through a helper (__name) that the page lacks
    await page.addInitScript({ content: "globalThis.__name = (f) => f;" });
    await page.addInitScript(traceStreams, opts.traceArrivals ?? false);
    await page.goto(`${webUrl}/login`);
    await page.getByTestId("login-user").fill("admin");
    await page.getByTestId("login-password").fill(password);
    await page.getByTestId("login-submit").click();
    for (let a = 0; a < agents.length; a++) await page.getByTestId(`agent-h${a}`).filter({ hasText: "live" }).waitFor({ timeout: 60_000 });
    return { page, webUrl, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/** In the page, before its scripts: counts its EventSources (window.__openStreams) and, if asked, stamps each event's arrival. */
function traceStreams(arrivals: boolean): void {
  const Real = window.EventSource;
  const made: EventSource[] = [];
  (window as unknown as { __openStreams: () => number }).__openStreams = () => made.filter((e) => e.readyState !== Real.CLOSED).length;
  // when each event reached the page, before any rendering: "container state" → ms since the epoch
  const arrived: Array<[string, string, number]> = [];
  (window as unknown as { __arrived: typeof arrived }).__arrived = arrived;
  window.EventSource = class extends Real {
    constructor(url: string | URL, init?: EventSourceInit) {
      super(url, init);
      made.push(this);
      if (!arrivals) return;
      this.addEventListener("m", (m) => {
        const t = performance.timeOrigin + performance.now();
        const msg = JSON.parse((m as MessageEvent<string>).data) as { type: string; item?: { kind: string; event?: { container: string; state: string; seq: number } } };
        if (msg.type === "item" && msg.item?.event) arrived.push([msg.item.event.container, `${msg.item.event.seq}`, t]);
      });
    }
  };
}

/** CORRAL_BENCH_PROFILE=FILE: the page's CPU profile while `during` runs (Chrome's .cpuprofile), to see where its time goes. */
export async function profiled<T>(page: Page, during: () => Promise<T>): Promise<T> {
  const file = process.env.CORRAL_BENCH_PROFILE;
  if (!file) return during();
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Profiler.enable");
  await cdp.send("Profiler.start");
  const result = await during();
  writeFileSync(file, JSON.stringify((await cdp.send("Profiler.stop")).profile));
  process.stderr.write(`bench: the page's CPU profile is in ${file}\n`);
  return result;
}

/**
 * The names of the container rows wholly in the list's view: not the margin the list draws beyond
 * it, whose rows come and go as the window moves (a row out of view is not drawn at all).
 */
export async function rowsInView(page: Page): Promise<Set<string>> {
  return new Set(await page.evaluate(() => {
    const view = document.querySelector("[data-testid='list-scroll']")!.getBoundingClientRect();
    return [...document.querySelectorAll<HTMLElement>("[data-testid^='row-']")]
      .filter((r) => r.getBoundingClientRect().bottom <= view.bottom && r.getBoundingClientRect().top >= view.top)
      .map((r) => r.dataset.testid!.slice(4));
  }));
}

export async function dashboardSection(opts: { work: string; agents: number; perAgent: number; opsPerSecond: number; windowSeconds: number }): Promise<DashboardResults> {
  const agents: AgentUnderTest[] = [];
  const sockets: AgentSocket[] = [];
  let dashboard: DashboardUnderTest | undefined;
  const name = (a: number, c: number) => `d${a}x${c}`;
  try {
    for (let a = 0; a < opts.agents; a++) {
      const lxcpath = join(opts.work, `dash-${a}`);
      mkdirSync(lxcpath, { recursive: true });
      const store = new LxcPath(lxcpath);
      for (let c = 0; c < opts.perAgent; c++) createContainer(store, { name: name(a, c), template: "host" });
      agents.push(new AgentUnderTest(lxcpath, await freePort()));
    }
    await Promise.all(agents.map((a) => a.start()));
    for (const a of agents) sockets.push(await AgentSocket.open(`http://127.0.0.1:${a.port}`, a.token));

    dashboard = await openDashboard(agents, { traceArrivals: true });
    const { page } = dashboard;
    // every agent's list is in (the last rows are not drawn: the list draws the rows in view)
    for (let a = 0; a < opts.agents; a++) await page.getByTestId(`group-h${a}`).filter({ hasText: `${opts.perAgent} containers` }).waitFor({ timeout: 60_000 });
    const inView = await rowsInView(page);
    await page.evaluate(observeRows);

    const loadBefore = loadavg()[0]!;
    const firstSeq = await Promise.all(sockets.map(async (s) => (await s.call<{ lastSeq: number }>("query", "agent.info")).lastSeq));
    const operations = await profiled(page, () => steadyLoad(sockets, opts, name));
    await sleep(3000); // the last operations' events reach the page
    const results: DashboardResults = { ...(await collect(page, sockets, firstSeq, operations, opts, inView)), load_avg: [round2(loadBefore), round2(loadavg()[0]!)] };
    process.stderr.write(`bench: dashboard ${JSON.stringify(results)}\n`);
    return results;
  } finally {
    await dashboard?.close();
    for (const s of sockets) s.close();
    await Promise.all(agents.map((a) => a.stop()));
  }
}

/** One operation every 1/opsPerSecond s, on a container no operation is busy with: a start if it is stopped, else a stop (kill). */
async function steadyLoad(sockets: AgentSocket[], opts: { agents: number; perAgent: number; opsPerSecond: number; windowSeconds: number }, name: (a: number, c: number) => string): Promise<number> {
  const running = new Set<string>();
  const busy = new Set<string>();
  const inFlight: Array<Promise<unknown>> = [];
  const total = opts.opsPerSecond * opts.windowSeconds;
  const t0 = performance.now();
  let failed = 0;
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / opts.opsPerSecond;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    let a = 0;
    let c = 0;
    for (let tries = 0; tries < 50; tries++) {
      a = Math.floor(Math.random() * opts.agents);
      c = Math.floor(Math.random() * opts.perAgent);
      if (!busy.has(name(a, c))) break;
    }
    const n = name(a, c);
    busy.add(n);
    const call = running.has(n)
      ? sockets[a]!.call("mutation", "containers.stop", { name: n, kill: true }).then(() => running.delete(n))
      : sockets[a]!.call("mutation", "containers.start", { name: n, command: ["sleep", "3600"] }).then(() => running.add(n));
    inFlight.push(call.catch((e: unknown) => {
      failed++;
      process.stderr.write(`bench: dashboard: ${n}: ${(e as Error).message}\n`);
    }).finally(() => busy.delete(n)));
  }
  await Promise.all(inFlight);
  // leave nothing running
  await Promise.all([...running].map((n) => sockets[Number(/^d(\d+)x/.exec(n)![1])]!.call("mutation", "containers.stop", { name: n, kill: true })));
  if (failed) process.stderr.write(`bench: dashboard: ${failed} of ${total} operations failed\n`);
  return total;
}

async function collect(page: Page, sockets: AgentSocket[], firstSeq: number[], operations: number, opts: { agents: number; perAgent: number; opsPerSecond: number; windowSeconds: number }, inView: ReadonlySet<string>): Promise<Omit<DashboardResults, "load_avg">> {
  const rowLog = await readRowLog(page);
  const arrivedLog = await page.evaluate(() => (window as unknown as { __arrived: Array<[string, string, number]> }).__arrived);
  const arrivedAt = new Map(arrivedLog.map(([c, seq, t]) => [`${c}:${seq}`, t]));
  const browserStreams = await page.evaluate(() => (window as unknown as { __openStreams: () => number }).__openStreams());
  const windowEvents: StateEvent[] = [];
  for (const [a, s] of sockets.entries()) {
    const { events } = await s.call<{ events: StateEvent[] }>("query", "events.list", { after: firstSeq[a], limit: 100_000 });
    windowEvents.push(...events);
  }
  const { latencies, notShown } = rowLatencies(rowLog, windowEvents, inView);
  const arrivals: number[] = [];
  for (const e of windowEvents) {
    if ((e.state !== "RUNNING" && e.state !== "STOPPED") || !inView.has(e.container)) continue;
    const t = arrivedAt.get(`${e.container}:${e.seq}`);
    if (t !== undefined) arrivals.push(t - e.at);
  }
  arrivals.sort((x, y) => x - y);
  const { missed, equal } = await missedEvents(page, sockets, opts.agents);
  const results: Omit<DashboardResults, "load_avg"> = {
    agents: opts.agents, containers: opts.agents * opts.perAgent, ops_per_s: opts.opsPerSecond, window_s: opts.windowSeconds,
    operations, events: windowEvents.length,
    row_p50_ms: round3(percentile(latencies, 50)), row_p99_ms: round3(percentile(latencies, 99)), rows_measured: latencies.length,
    arrival_p50_ms: round3(percentile(arrivals, 50)), arrival_p99_ms: round3(percentile(arrivals, 99)),
    rows_in_view: inView.size, rows_not_shown: notShown, missed_events: missed, timelines_equal: equal, browser_streams: browserStreams,
  };
  return results;
}

/** What observeRows() recorded in the page: [container, state shown, ms since the epoch]. */
export type RowLog = Array<[string, string, number]>;

export function readRowLog(page: Page): Promise<RowLog> {
  return page.evaluate(() => (window as unknown as { __rowLog: RowLog }).__rowLog);
}

/**
 * Event → row, for each RUNNING and STOPPED event of the containers `only` names (all if absent):
 * the first time the row shows the event's state at or after the event, before the container's
 * next event (and a second's grace); sorted. An event whose row never showed it is `notShown`.
 */
export function rowLatencies(rowLog: RowLog, events: readonly StateEvent[], only?: ReadonlySet<string>): { latencies: number[]; notShown: number } {
  const shown = new Map<string, Array<{ state: string; t: number }>>();
  for (const [n, state, t] of rowLog) {
    let list = shown.get(n);
    if (!list) shown.set(n, (list = []));
    list.push({ state, t });
  }
  const byContainer = new Map<string, StateEvent[]>();
  for (const e of events) {
    if (only && !only.has(e.container)) continue;
    let list = byContainer.get(e.container);
    if (!list) byContainer.set(e.container, (list = []));
    list.push(e);
  }
  const latencies: number[] = [];
  let notShown = 0;
  for (const [n, list] of byContainer) {
    const rows = shown.get(n) ?? [];
    list.forEach((e, i) => {
      if (e.state !== "RUNNING" && e.state !== "STOPPED") return;
      const next = list[i + 1]?.at ?? Infinity;
      // the page's clock and the agent's are one clock (one machine), the agent's in whole ms
      const hit = rows.find((r) => r.state === e.state && r.t >= e.at && r.t <= next + 1000);
      if (hit) latencies.push(hit.t - e.at);
      else notShown++;
    });
  }
  return { latencies: latencies.sort((x, y) => x - y), notShown };
}

/** What a timeline holds, as the Timeline page's stats say it: count, first and last seq, sum of seqs. */
function digest(events: readonly StateEvent[]): string {
  return `${events.length}:${events[0]?.seq ?? 0}:${events.at(-1)?.seq ?? 0}:${events.reduce((x, e) => x + e.seq, 0)}`;
}

/**
 * The page's timeline against each agent's, read on the Timeline page (a client-side move: the
 * same store): the events the page lacks, and whether each agent's timeline is the page's, seq for seq.
 */
async function missedEvents(page: Page, sockets: AgentSocket[], agents: number): Promise<{ missed: number; equal: boolean }> {
  await page.getByTestId("nav-timeline").click();
  const stats = page.getByTestId("timeline-stats");
  await stats.waitFor();
  await sleep(1000);
  const held = new Map<string, string>();
  for (const part of ((await stats.getAttribute("data-seqs")) ?? "").split(",")) {
    const at = part.indexOf(":");
    held.set(part.slice(0, at), part.slice(at + 1));
  }
  let missed = 0;
  let equal = true;
  for (let a = 0; a < agents; a++) {
    const { events } = await sockets[a]!.call<{ events: StateEvent[] }>("query", "events.list", { before: Number.MAX_SAFE_INTEGER, limit: 100_000 });
    const pageDigest = held.get(`h${a}`) ?? "0:0:0:0";
    missed += Math.max(0, events.length - Number(pageDigest.split(":")[0]));
    if (pageDigest !== digest(events)) equal = false;
  }
  return { missed, equal };
}
