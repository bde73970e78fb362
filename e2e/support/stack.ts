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

function freePort(): Promise<number> {
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

function stopProcess(p: ChildProcess | undefined, ms = 15_000): Promise<void> {
  if (!p || p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => p.kill("SIGKILL"), ms);
    p.once("exit", () => {
      clearTimeout(t);
      resolve();
    });
    p.kill("SIGTERM");
  });
}

function logTo(name: string) {
  const dir = join(ARTIFACTS, "logs");
  mkdirSync(dir, { recursive: true });
  return createWriteStream(join(dir, `${name}.log`), { flags: "a" });
}

export async function startStack(opts: { seed?: (lxcpath: string) => void | Promise<void>; /** keep the agents in a registry file the Agents dialog can change, not in CORRAL_WEB_AGENTS */ registryFile?: boolean; /** more of the dashboard server's environment */ webEnv?: Record<string, string> } = {}): Promise<Stack & { close(): Promise<void> }> {
  const lxcpath = mkdtempSync(join(tmpdir(), "corral-e2e-"));
  await opts.seed?.(lxcpath);
  const token = randomBytes(24).toString("hex");
  const agentPort = await freePort();
  const agentUrl = `http://127.0.0.1:${agentPort}`;
  const agentLog = logTo("agent");
  let agentProc: ChildProcess | undefined;

  const startAgent = async () => {
    agentProc = spawn(process.execPath, ["--import", "tsx", "apps/agent/src/cli/main.ts", "agent", "--lxcpath", lxcpath, "--listen", `127.0.0.1:${agentPort}`], {
      cwd: ROOT,
      env: { ...process.env, CORRAL_TOKEN: token },
      stdio: ["ignore", "pipe", "pipe"],
    });
    agentProc.stdout!.pipe(agentLog, { end: false });
    agentProc.stderr!.pipe(agentLog, { end: false });
    await waitFor(`${agentUrl}/healthz`, "the agent", agentProc);
  };
  const stopAgent = () => stopProcess(agentProc);
  await startAgent();

  const webPort = await freePort();
  const webUrl = `http://127.0.0.1:${webPort}`;
  const password = randomBytes(9).toString("base64url");
  const webLog = logTo("web");
  const agents = JSON.stringify([{ name: "local", url: agentUrl, token }]);
  const registry = opts.registryFile ? join(lxcpath, "web-agents.json") : undefined;
  if (registry) writeFileSync(registry, agents, { mode: 0o600 });
  const web = spawn(process.execPath, [join(WEB_DIR, "server.mjs"), "-p", String(webPort), "-H", "127.0.0.1"], {
    cwd: WEB_DIR,
    env: {
      ...process.env,
      NODE_ENV: "production",
      NEXT_TELEMETRY_DISABLED: "1",
      ...(registry ? { CORRAL_WEB_AGENTS_FILE: registry, CORRAL_WEB_AGENTS: "" } : { CORRAL_WEB_AGENTS: agents }),
      CORRAL_WEB_PASSWORD: password,
      CORRAL_WEB_USER: "admin",
      ...opts.webEnv,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  web.stdout.pipe(webLog);
  web.stderr.pipe(webLog);
  await waitFor(`${webUrl}/login`, "the dashboard", web);

  const agent = createTRPCClient<AppRouter>({
    links: [httpLink({ url: `${agentUrl}/trpc`, headers: { authorization: `Bearer ${token}`, "x-corral-actor": "e2e:setup" } })],
  });

  return {
    agentUrl, token, lxcpath, webUrl, user: "admin", password, agent, stopAgent, startAgent,
    async close() {
      await stopProcess(web);
      await stopAgent();
      rmSync(lxcpath, { recursive: true, force: true });
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

export async function signIn(page: Page, stack: Stack): Promise<void> {
  await page.goto("/login");
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
