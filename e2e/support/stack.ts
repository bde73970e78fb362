// The system under test, started once per Playwright worker: a real agent (temp lxcpath, free port,
// its own token) and the dashboard's production server configured to it. Tests may restart the agent.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test as base, expect, type Page } from "@playwright/test";
import { createTRPCClient, httpLink } from "@trpc/client";
import type { AppRouter } from "@corral/agent/router";
import { ARTIFACTS, ROOT, WEB_DIR } from "./paths.ts";

export type AgentClient = ReturnType<typeof createTRPCClient<AppRouter>>;

export interface Stack {
  agentUrl: string;
  token: string;
  lxcpath: string;
  webUrl: string;
  user: string;
  password: string;
  /** the agent's API, for setting up and for checking what the dashboard shows */
  agent: AgentClient;
  /** SIGTERM the agent and wait until it is gone */
  stopAgent(): Promise<void>;
  /** start it again on the same port and lxcpath */
  startAgent(): Promise<void>;
}

/** A free TCP port on loopback, for a server a test starts. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitFor(url: string, what: string, proc: ChildProcess, ms = 60_000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (proc.exitCode !== null) throw new Error(`${what} exited with ${proc.exitCode} before it was ready (see e2e/artifacts/logs)`);
    try {
      const res = await fetch(url, { redirect: "manual" });
      if (res.status < 500) return;
    } catch {
      // not yet listening
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`${what} did not answer at ${url} within ${ms} ms`);
}

function stopProcess(p: ChildProcess | undefined, ms = 15_000, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (!p || p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => p.kill("SIGKILL"), ms);
    p.once("exit", () => {
      clearTimeout(t);
      resolve();
    });
    p.kill(signal);
  });
}

function logTo(name: string) {
  const dir = join(ARTIFACTS, "logs");
  mkdirSync(dir, { recursive: true });
  return createWriteStream(join(dir, `${name}.log`), { flags: "a" });
}

/** A real agent on a temp lxcpath and a free loopback port, that a test may stop and start again. */
export interface AgentProcess {
  url: string;
  token: string;
  lxcpath: string;
  /** its API, as the e2e setup actor */
  api: AgentClient;
  start(): Promise<void>;
  /** SIGTERM (or the signal given) and wait until it is gone */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** stop it and remove its lxcpath */
  close(): Promise<void>;
}

export async function spawnAgent(opts: { logName?: string; seed?: (lxcpath: string) => void | Promise<void> } = {}): Promise<AgentProcess> {
  const lxcpath = mkdtempSync(join(tmpdir(), "corral-e2e-"));
  await opts.seed?.(lxcpath);
  const token = randomBytes(24).toString("hex");
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const log = logTo(opts.logName ?? "agent");
  let proc: ChildProcess | undefined;
  const start = async () => {
    proc = spawn(process.execPath, ["--import", "tsx", "apps/agent/src/cli/main.ts", "agent", "--lxcpath", lxcpath, "--listen", `127.0.0.1:${port}`], {
      cwd: ROOT,
      env: { ...process.env, CORRAL_TOKEN: token },
      stdio: ["ignore", "pipe", "pipe"],
    });
    proc.stdout!.pipe(log, { end: false });
    proc.stderr!.pipe(log, { end: false });
    await waitFor(`${url}/healthz`, "the agent", proc);
  };
  const stop = (signal: NodeJS.Signals = "SIGTERM") => stopProcess(proc, 15_000, signal);
  await start();
  const api = createTRPCClient<AppRouter>({
    links: [httpLink({ url: `${url}/trpc`, headers: { authorization: `Bearer ${token}`, "x-corral-actor": "e2e:setup" } })],
  });
  return {
    url, token, lxcpath, api, start, stop,
    async close() {
      await stop();
      rmSync(lxcpath, { recursive: true, force: true });
    },
  };
}

/**
 * The dashboard's production server on a free port, relaying to these agents: given in
 * CORRAL_WEB_AGENTS, or written to `registryFile`, a registry the Agents dialog can change.
 */
export async function spawnDashboard(
  agents: ReadonlyArray<{ name: string; url: string; token: string }>,
  opts: { password: string; env?: Record<string, string>; logName?: string; registryFile?: string },
): Promise<{ url: string; close(): Promise<void> }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const log = logTo(opts.logName ?? "web");
  if (opts.registryFile) writeFileSync(opts.registryFile, JSON.stringify(agents), { mode: 0o600 });
  const web = spawn(process.execPath, [join(WEB_DIR, "server.mjs"), "-p", String(port), "-H", "127.0.0.1"], {
    cwd: WEB_DIR,
    env: {
      ...process.env,
      NODE_ENV: "production",
      NEXT_TELEMETRY_DISABLED: "1",
      ...(opts.registryFile ? { CORRAL_WEB_AGENTS_FILE: opts.registryFile, CORRAL_WEB_AGENTS: "" } : { CORRAL_WEB_AGENTS: JSON.stringify(agents) }),
      CORRAL_WEB_PASSWORD: opts.password,
      CORRAL_WEB_USER: "admin",
      ...opts.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  web.stdout.pipe(log);
  web.stderr.pipe(log);
  await waitFor(`${url}/login`, "the dashboard", web);
  return { url, close: () => stopProcess(web) };
}

export async function startStack(opts: {
  seed?: (lxcpath: string) => void | Promise<void>;
  /** keep the agents in a registry file the Agents dialog can change, not in CORRAL_WEB_AGENTS */
  registryFile?: boolean;
  /** more of the dashboard server's environment */
  webEnv?: Record<string, string>;
} = {}): Promise<Stack & { close(): Promise<void> }> {
  const agent = await spawnAgent({ seed: opts.seed });
  const password = randomBytes(9).toString("base64url");
  const web = await spawnDashboard([{ name: "local", url: agent.url, token: agent.token }], {
    password, env: opts.webEnv, registryFile: opts.registryFile ? join(agent.lxcpath, "web-agents.json") : undefined,
  });
  return {
    agentUrl: agent.url, token: agent.token, lxcpath: agent.lxcpath, webUrl: web.url, user: "admin", password, agent: agent.api,
    stopAgent: () => agent.stop(),
    startAgent: () => agent.start(),
    async close() {
      await web.close();
      await agent.close();
    },
  };
}

export const test = base.extend<{ signedIn: Page }, { stack: Stack }>({
  stack: [
    async ({}, use) => {
      const stack = await startStack();
      try {
        await use(stack);
      } finally {
        await stack.close();
      }
    },
    { scope: "worker", timeout: 180_000 },
  ],
  baseURL: async ({ stack }, use) => use(stack.webUrl),
  /** a page signed in through the login form */
  signedIn: async ({ page, stack }, use) => {
    await signIn(page, stack);
    await use(page);
  },
});

export async function signIn(page: Page, stack: Pick<Stack, "user" | "password">, base = ""): Promise<void> {
  await page.goto(`${base}/login`);
  await page.getByTestId("login-user").fill(stack.user);
  await page.getByTestId("login-password").fill(stack.password);
  await page.getByTestId("login-submit").click();
  await expect(page.getByTestId("user")).toHaveText(stack.user);
  await hydrated(page);
}

/** Wait until React has hydrated the page: a click on server-rendered HTML before that is lost. */
export async function hydrated(page: Page): Promise<void> {
  await expect(page.locator("html[data-hydrated]")).toHaveCount(1);
}

export { expect };
