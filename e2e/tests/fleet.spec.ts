// Ten agents in one dashboard (issue 15): the browser keeps one live connection for all of them,
// so every agent goes live and the page still answers (Chromium allows 6 HTTP/1.1 connections a
// host: a stream per agent used to take them all); an agent killed and started again is caught up
// with nothing missing. And sign-out: two dashboard servers with one key serve one browser in
// turn, and a signed-out cookie is refused by both.
// The agents are real (temp lxcpaths, loopback ports, each its own token); TLS between dashboard
// and agent is another spec's.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test, type Page } from "@playwright/test";
// the plain test: this spec's agents and dashboards are its own, not the worker's stack
import { expect, hydrated, signIn, spawnAgent, spawnDashboard, type AgentProcess } from "../support/stack.ts";
import { seqDigest } from "../support/timeline.ts";
import { rowState, screenshot } from "../support/ui.ts";

const AGENTS = 10;
const PER_AGENT = 2;
const name = (a: number, c: number) => `f${a}-c${c}`;
const password = randomBytes(9).toString("base64url");
const secret = randomBytes(32).toString("hex");
const revokedDir = mkdtempSync(join(tmpdir(), "corral-e2e-revoked-"));
const LOOP = 'lxc.init.cmd = sh -c "while :; do echo tick; sleep 1; done"\n';

let agents: AgentProcess[] = [];
let web: { url: string; close(): Promise<void> };
let web2: { url: string; close(): Promise<void> };

test.describe.configure({ mode: "serial" });

test.beforeAll(async () => {
  test.setTimeout(240_000);
  agents = await Promise.all(Array.from({ length: AGENTS }, (_, i) => spawnAgent({ logName: `fleet-agent-${i}` })));
  for (const [i, a] of agents.entries()) {
    for (let c = 0; c < PER_AGENT; c++) await a.api.containers.create.mutate({ name: name(i, c), template: "host", config: LOOP });
    await a.api.containers.start.mutate({ name: name(i, 0) });
  }
  const list = agents.map((a, i) => ({ name: `a${i}`, url: a.url, token: a.token }));
  // two servers with one key and one revocation list, as behind a load balancer
  const env = { CORRAL_WEB_SECRET: secret, CORRAL_WEB_REVOKED_DIR: revokedDir };
  [web, web2] = await Promise.all([
    spawnDashboard(list, { password, env, logName: "fleet-web" }),
    spawnDashboard(list, { password, env, logName: "fleet-web-2" }),
  ]);
});

test.afterAll(async () => {
  await Promise.all([web.close(), web2.close()]);
  await Promise.all(agents.map((a) => a.close()));
  rmSync(revokedDir, { recursive: true, force: true });
});

/** Counts the page's EventSources that are open (not closed), across client-side navigation. */
async function countStreams(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const Real = window.EventSource;
    const made: EventSource[] = [];
    (window as unknown as { __openStreams: () => number }).__openStreams = () => made.filter((e) => e.readyState !== Real.CLOSED).length;
    (window as unknown as { __streamsMade: () => number }).__streamsMade = () => made.length;
    window.EventSource = class extends Real {
      constructor(url: string | URL, init?: EventSourceInit) {
        super(url, init);
        made.push(this);
      }
    };
  });
}

const openStreams = (page: Page) => page.evaluate(() => (window as unknown as { __openStreams: () => number }).__openStreams());
const streamsMade = (page: Page) => page.evaluate(() => (window as unknown as { __streamsMade: () => number }).__streamsMade());

/** TCP connections from the browser to the dashboard's port, open now (ss, on this host). */
function browserConnections(url: string): number {
  const port = new URL(url).port;
  const out = execFileSync("ss", ["-Htn", "state", "established", `( dport = :${port} )`], { encoding: "utf8" });
  return out.split("\n").filter(Boolean).length;
}

/** What the page holds of an agent's events (count, first, last, sum of seqs), as the timeline's stats say it. */
async function agentDigest(agent: AgentProcess, label: string): Promise<RegExp> {
  const { events } = await agent.api.events.list.query({ before: Number.MAX_SAFE_INTEGER, limit: 100_000 });
  return seqDigest(label, events.map((e) => e.seq));
}

test("ten agents all go live over one stream; the page still answers; a killed agent catches up whole", async ({ page }, testInfo) => {
  test.setTimeout(180_000);
  await countStreams(page);
  await signIn(page, { user: "admin", password }, web.url);
  for (let i = 0; i < AGENTS; i++) await expect(page.getByTestId(`agent-a${i}`)).toContainText("live", { timeout: 30_000 });
  for (let i = 0; i < AGENTS; i++) await expect(rowState(page, name(i, 0))).toHaveText("RUNNING");
  // every agent's events, alerts and samples (the list's sparklines) on one connection
  expect(await openStreams(page)).toBe(1);
  await expect(page.getByTestId(`spark-${name(AGENTS - 1, 0)}`)).toBeVisible({ timeout: 15_000 });

  // more requests at once than the browser has connections for a host: all answer
  const statuses = await page.evaluate(() => Promise.all(Array.from({ length: 12 }, () => fetch("/api/agents", { cache: "no-store" }).then((r) => r.status))));
  expect(statuses).toEqual(Array.from({ length: 12 }, () => 200));
  test.info().annotations.push({ type: "connections", description: `browser → dashboard TCP connections open: ${browserConnections(web.url)}` });
  expect(browserConnections(web.url)).toBeLessThanOrEqual(6);

  // start and stop through the page, on the last agent, while every stream is live
  await page.getByTestId(`row-${name(AGENTS - 1, 1)}`).click();
  await page.getByTestId("action-start").click();
  await expect(rowState(page, name(AGENTS - 1, 1))).toHaveText("RUNNING");
  // its console: a topic added to the same stream (a POST), not another connection
  const made = await streamsMade(page);
  await page.getByTestId("tab-console").click();
  await expect(page.getByTestId("console-status")).toHaveText("attached");
  await expect(page.getByTestId("console")).toContainText("tick");
  expect(await openStreams(page)).toBe(1);
  expect(await streamsMade(page), "the stream was not opened again for the console").toBe(made);
  await page.getByTestId("tab-timeline").click();
  await page.getByTestId("action-stop").click();
  await expect(rowState(page, name(AGENTS - 1, 1))).toHaveText("STOPPED", { timeout: 30_000 });

  // the Timeline page: every lane, the hosts' graphs, still one stream
  await page.getByTestId("nav-timeline").click();
  const stats = page.getByTestId("timeline-stats");
  await expect(stats).toHaveAttribute("data-lanes", String(AGENTS * PER_AGENT));
  await expect(page.getByTestId("metric-host-cpu")).toBeVisible();
  await expect(page.getByTestId("host-graphs")).not.toHaveAttribute("data-points", "0", { timeout: 15_000 });
  await expect(page.getByTestId("metric-host-cpu-note")).toContainText("a9");
  expect(await openStreams(page)).toBe(1);
  await screenshot(page, testInfo, "fleet-timeline");

  // an agent killed (its containers die with it), then started again: caught up, nothing missing
  const victim = agents[4]!;
  await victim.stop("SIGKILL");
  await expect(page.getByTestId("agent-unreachable-a4")).toBeVisible({ timeout: 30_000 });
  await victim.start();
  await expect(page.getByTestId("agent-unreachable-a4")).toHaveCount(0, { timeout: 30_000 });
  await expect(page.getByTestId("agent-a4")).toContainText("live");
  await victim.api.containers.start.mutate({ name: name(4, 1) });
  await expect(stats).toHaveAttribute("data-seqs", await agentDigest(victim, "a4"));
  // and the others lost nothing meanwhile
  for (const i of [0, 9]) await expect(stats).toHaveAttribute("data-seqs", await agentDigest(agents[i]!, `a${i}`));
  expect(await openStreams(page)).toBe(1);
});

test("two dashboard servers with one key serve one browser in turn; a signed-out cookie is refused by both", async ({ page, request }) => {
  await signIn(page, { user: "admin", password }, web.url);
  // the same cookie (cookies are per host, not per port) on the other server
  await page.goto(`${web2.url}/timeline`);
  await hydrated(page);
  await expect(page.getByTestId("user")).toHaveText("admin");
  await expect(page.getByTestId("agent-a0")).toContainText("live", { timeout: 30_000 });
  const cookie = (await page.context().cookies()).find((c) => c.name === "corral_session")!;
  const header = { cookie: `corral_session=${cookie.value}` };
  for (const url of [web.url, web2.url]) expect((await request.get(`${url}/api/agents`, { headers: header })).status()).toBe(200);

  // signed out on the second server, back to the first: refused, the copied cookie too, by both
  await page.getByTestId("sign-out").click();
  await expect(page.getByTestId("login-form")).toBeVisible();
  await page.context().addCookies([cookie]); // as if the cookie had been copied before
  await page.goto(`${web.url}/`);
  await expect(page).toHaveURL(/\/login$/);
  for (const url of [web.url, web2.url]) {
    expect((await request.get(`${url}/api/agents`, { headers: header })).status(), url).toBe(401);
    expect((await request.get(`${url}/api/live?s=events/a0@`, { headers: header })).status(), url).toBe(401);
  }
});

test("a live stream of a session signed out elsewhere ends, and the page goes to sign-in", async ({ page, browser }) => {
  await signIn(page, { user: "admin", password }, web.url);
  await expect(page.getByTestId("agent-a0")).toContainText("live", { timeout: 30_000 });
  // the same session in another window, on the other server, signs out
  const cookie = (await page.context().cookies()).find((c) => c.name === "corral_session")!;
  const other = await browser.newContext();
  await other.addCookies([cookie]);
  const otherPage = await other.newPage();
  await otherPage.goto(`${web2.url}/`);
  await hydrated(otherPage);
  await otherPage.getByTestId("sign-out").click();
  await expect(otherPage.getByTestId("login-form")).toBeVisible();
  await other.close();
  await expect(page).toHaveURL(/\/login/, { timeout: 15_000 });
});
