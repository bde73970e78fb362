// Agents managed from the dashboard (issues 13 and 15): a second agent, speaking HTTPS, added from
// the Agents dialog with its certificate's fingerprint shown and pinned; a wrong token refused in
// words with nothing saved; the agent then live beside the first, its containers listed; renamed
// and removed; and an agent that comes back with another certificate refused, in words, by the
// dashboard's server. Then ten agents, each in a network namespace of its own, added through the
// same API and relayed over their pinned HTTPS; one killed is said unreachable, and comes back. The registry is a file (CORRAL_WEB_AGENTS_FILE) that the dialog writes; the
// browser never gets a token.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, freePort, hydrated, signIn, startStack, test as base, type Stack } from "../support/stack.ts";
import { ROOT } from "../support/paths.ts";
import { noSeriousViolations, screenshot } from "../support/ui.ts";
import { seqDigest } from "../support/timeline.ts";
import { startNetnsAgents } from "../support/netns-agents.ts";

interface AgentStatus { name: string; up: boolean; fingerprint?: string; message?: string }

/** The dashboard's own client certificate (CORRAL_WEB_CLIENT_CERT), made for this worker's stack. */
const dashboardCert = { dir: "", cert: "", key: "" };

const test = base.extend<object, { stack: Stack }>({
  stack: [
    async ({}, use) => {
      dashboardCert.dir = mkdtempSync(join(tmpdir(), "corral-e2e-dashboard-cert-"));
      dashboardCert.cert = join(dashboardCert.dir, "client.crt");
      dashboardCert.key = join(dashboardCert.dir, "client.key");
      execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", dashboardCert.key, "-out", dashboardCert.cert, "-days", "1", "-subj", "/CN=e2e-dashboard"], { stdio: "ignore" });
      const stack = await startStack({ registryFile: true, webEnv: { CORRAL_WEB_CLIENT_CERT: dashboardCert.cert, CORRAL_WEB_CLIENT_KEY: dashboardCert.key } });
      try {
        await use(stack);
      } finally {
        await stack.close();
        rmSync(dashboardCert.dir, { recursive: true, force: true });
      }
    },
    { scope: "worker", timeout: 180_000 },
  ],
});


/** A second agent on loopback with --tls (HTTPS, as beyond loopback): resolves with its fingerprint once it listens. */
async function tlsAgent(lxcpath: string, port: number, token: string): Promise<{ proc: ChildProcess; fingerprint: string }> {
  const proc = spawn(process.execPath, ["--import", "tsx", "apps/agent/src/cli/main.ts", "agent", "--lxcpath", lxcpath, "--listen", `127.0.0.1:${port}`, "--tls"], {
    cwd: ROOT, env: { ...process.env, CORRAL_TOKEN: token }, stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  const fingerprint = await new Promise<string>((resolve, reject) => {
    proc.stdout.on("data", (d: Buffer) => {
      log += d.toString();
      const m = /"agent listening".*"fingerprint":"([0-9a-f]{64})"/.exec(log);
      if (m) resolve(m[1]!);
    });
    proc.on("exit", (code) => reject(new Error(`the second agent exited with ${code}: ${log}`)));
  });
  return { proc, fingerprint };
}

function stop(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    proc.once("exit", () => resolve());
    proc.kill("SIGTERM");
  });
}

test("changing the agents needs a session", async ({ request }) => {
  for (const [method, path] of [["POST", "/api/registry"], ["PATCH", "/api/registry/local"], ["DELETE", "/api/registry/local"]] as const) {
    const res = await request.fetch(path, { method, data: { name: "x", url: "https://10.0.0.1:7690", token: "t" } });
    expect(res.status(), `${method} ${path}`).toBe(401);
  }
});

test("a second agent, over HTTPS, added from the Agents dialog with its certificate pinned; renamed; removed", async ({ page, stack }, testInfo) => {
  const lxcpath = mkdtempSync(join(tmpdir(), "corral-e2e-second-"));
  const other = mkdtempSync(join(tmpdir(), "corral-e2e-impostor-"));
  const token = randomBytes(24).toString("hex");
  const port = await freePort();
  const url = `https://127.0.0.1:${port}`;
  const registry = join(stack.lxcpath, "web-agents.json");
  // a container of its own, written into its lxcpath before it starts (create needs no agent)
  execFileSync(process.execPath, [join(ROOT, "apps/agent/bin/corral.mjs"), "create", "far-web", "--template", "host", "--lxcpath", lxcpath], { env: { ...process.env, CORRAL_AGENT: "" } });
  let second = await tlsAgent(lxcpath, port, token);
  try {

    await signIn(page, stack);
    await page.getByTestId("manage-agents").click();
    const dialog = page.getByTestId("agents-dialog");
    await expect(dialog.getByTestId("agents-status-local")).toContainText("reachable · corral");
    await noSeriousViolations(page, "the Agents dialog");

    // a wrong token: refused in words, nothing saved
    await dialog.getByTestId("agents-add-name").fill("second");
    await dialog.getByTestId("agents-add-url").fill(url);
    await dialog.getByTestId("agents-add-token").fill("not-the-token");
    await dialog.getByTestId("agents-add-submit").click();
    await expect(dialog.getByTestId("agents-fingerprint")).toHaveText(second.fingerprint);
    await dialog.getByTestId("agents-trust").click();
    await expect(dialog.getByTestId("agents-error")).toContainText("did not accept the token");
    expect(readFileSync(registry, "utf8")).not.toContain(url);

    // the right one: the fingerprint shown is the agent's, and once trusted it is pinned
    await dialog.getByTestId("agents-add-token").fill(token);
    await dialog.getByTestId("agents-add-submit").click();
    await expect(dialog.getByTestId("agents-fingerprint")).toHaveText(second.fingerprint);
    await screenshot(page, testInfo, "agents-dialog-fingerprint");
    await Promise.all([page.waitForEvent("load"), dialog.getByTestId("agents-trust").click()]);
    await hydrated(page);
    await expect(page.getByTestId("agent-second")).toHaveAttribute("data-up", "yes");
    // its event stream, over WSS with the same pin, is live
    await expect(page.getByTestId("agent-second")).toContainText("live");
    await expect(page.getByTestId("row-far-web")).toBeVisible();
    const saved = JSON.parse(readFileSync(registry, "utf8")) as { name: string; url: string; fingerprint?: string; token: string }[];
    expect(saved.find((a) => a.name === "second")).toMatchObject({ url, fingerprint: second.fingerprint, token });

    // the browser sees the fingerprint and the version, never a token
    const listed = await page.request.get("/api/agents");
    const text = await listed.text();
    expect(text).not.toContain(token);
    expect(text).not.toContain(stack.token);
    expect(text).toContain(second.fingerprint);

    // rename, then the page shows it under its new name
    await page.getByTestId("manage-agents").click();
    await expect(dialog.getByTestId("agents-status-second")).toContainText("reachable · corral");
    await screenshot(page, testInfo, "agents-dialog");
    await dialog.getByTestId("agents-rename-second").click();
    await dialog.getByTestId("agents-rename-input").fill("edge");
    await Promise.all([page.waitForEvent("load"), dialog.getByTestId("agents-rename-save").click()]);
    await hydrated(page);
    await expect(page.getByTestId("agent-edge")).toHaveAttribute("data-up", "yes");

    // another certificate at the pinned address: refused, in words, by the dashboard's server
    await stop(second.proc);
    second = await tlsAgent(other, port, token);
    expect(second.fingerprint).not.toBe(saved.find((a) => a.name === "second")!.fingerprint);
    await expect(page.getByTestId("agent-unreachable-edge")).toContainText("refused the connection", { timeout: 20_000 });
    await expect(page.getByTestId("agent-edge")).toContainText("refused");
    await expect(page.getByTestId("agent-unreachable-edge")).toContainText("presented a certificate other than the one pinned for it");
    await screenshot(page, testInfo, "agent-certificate-changed");

    // remove it: the dashboard no longer shows it
    await page.getByTestId("manage-agents").click();
    await dialog.getByTestId("agents-remove-edge").click();
    await Promise.all([page.waitForEvent("load"), dialog.getByTestId("agents-remove-confirm").click()]);
    await hydrated(page);
    await expect(page.getByTestId("agent-local")).toBeVisible();
    await expect(page.getByTestId("agent-edge")).toHaveCount(0);
    expect(readFileSync(registry, "utf8")).not.toContain(url);
  } finally {
    await stop(second.proc);
    rmSync(lxcpath, { recursive: true, force: true });
    rmSync(other, { recursive: true, force: true });
  }
});

test("a dashboard whose client certificate the agent trusts adds it without a token (mutual TLS)", async ({ page, stack }) => {
  const lxcpath = mkdtempSync(join(tmpdir(), "corral-e2e-mtls-"));
  const port = await freePort();
  const url = `https://127.0.0.1:${port}`;
  const agent = await tlsAgent(lxcpath, port, randomBytes(24).toString("hex"));
  try {
    await signIn(page, stack);
    const api = page.request;
    const listing = (await (await api.get("/api/agents")).json()) as { clientCertificate?: string };
    expect(listing.clientCertificate).toMatch(/^[0-9a-f]{64}$/);
    const untrusted = await api.post("/api/registry", { data: { name: "mtls", url, token: "", fingerprint: agent.fingerprint } });
    expect(untrusted.status()).toBe(502);
    expect(await untrusted.text()).toContain("did not accept the token (or client certificate)");
    execFileSync(process.execPath, [join(ROOT, "apps/agent/bin/corral.mjs"), "agent", "--lxcpath", lxcpath, "trust", "add", dashboardCert.cert, "--name", "dashboard"]);
    const added = await api.post("/api/registry", { data: { name: "mtls", url, token: "", fingerprint: agent.fingerprint } });
    expect(added.status(), await added.text()).toBe(200);
    const status = ((await (await api.get("/api/agents")).json()) as { agents: AgentStatus[] }).agents.find((a) => a.name === "mtls");
    expect(status?.up).toBe(true);
    await page.goto("/");
    await hydrated(page);
    await page.getByTestId("manage-agents").click();
    await expect(page.getByTestId("agents-client-certificate")).toContainText(listing.clientCertificate!);
    await expect(page.getByTestId("agents-status-mtls")).toContainText("reachable · corral");
  } finally {
    await stop(agent.proc);
    rmSync(lxcpath, { recursive: true, force: true });
  }
});

// Last: making and removing ten namespaces' links tells Chromium the network changed, which fails
// a navigation in flight (ERR_NETWORK_CHANGED); this test's browser signs in once they exist.
test("ten agents in network namespaces, over TLS, added and relayed by one dashboard, all live in the page; one killed is said unreachable, then back under the same pin and caught up whole", async ({ page, stack }) => {
  test.setTimeout(240_000);
  const fleet = await startNetnsAgents(10);
  try {
    await signIn(page, stack);
    const api = page.request;
    for (const a of fleet.agents) {
      const shown = await api.post("/api/registry", { data: { name: `host${a.index}`, url: a.url, token: a.token } });
      expect(shown.status()).toBe(200);
      expect(((await shown.json()) as { confirm: { fingerprint: string } }).confirm.fingerprint).toBe(a.fingerprint);
      const added = await api.post("/api/registry", { data: { name: `host${a.index}`, url: a.url, token: a.token, fingerprint: a.fingerprint } });
      expect(added.status(), await added.text()).toBe(200);
    }
    const listed = (await (await api.get("/api/agents")).json()) as { agents: AgentStatus[] };
    const hosts = listed.agents.filter((a) => a.name.startsWith("host"));
    expect(hosts.map((a) => [a.name, a.up, a.fingerprint])).toEqual(fleet.agents.map((a) => [`host${a.index}`, true, a.fingerprint]));
    // every call relayed over each agent's pinned HTTPS
    for (const a of fleet.agents) {
      const created = await api.post(`/api/agents/host${a.index}/call`, { data: { path: "containers.create", input: { name: `c${a.index}`, template: "host" } } });
      expect(created.status(), await created.text()).toBe(200);
      const list = (await (await api.post(`/api/agents/host${a.index}/call`, { data: { path: "containers.list" } })).json()) as { data: { name: string }[] };
      expect(list.data.map((c) => c.name)).toEqual([`c${a.index}`]);
    }

    // all live in the page, over the one stream, through each agent's pinned WSS
    await page.goto("/");
    for (const a of fleet.agents) await expect(page.getByTestId(`agent-host${a.index}`)).toContainText("live", { timeout: 30_000 });

    const killed = fleet.agents[6]!;
    const before = killed.fingerprint;
    await killed.stop("SIGKILL");
    const down = ((await (await api.get("/api/agents")).json()) as { agents: AgentStatus[] }).agents.find((a) => a.name === "host6")!;
    expect(down.up).toBe(false);
    expect(down.message).toMatch(/^Unreachable: agent "host6" \(https:\/\/.*\) cannot be reached \(ECONNREFUSED\)\. Check that the agent runs there/);
    await killed.start();
    expect(killed.fingerprint).toBe(before);
    await expect.poll(async () => ((await (await api.get("/api/agents")).json()) as { agents: AgentStatus[] }).agents.find((a) => a.name === "host6")?.up).toBe(true);
    // caught up, nothing missing: the page's events for it equal its own, a change after it came back included
    await expect(page.getByTestId("agent-host6")).toContainText("live", { timeout: 30_000 });
    const started = await api.post("/api/agents/host6/call", { data: { path: "containers.start", input: { name: "c6", command: ["sleep", "300"] } } });
    expect(started.status(), await started.text()).toBe(200);
    await page.getByTestId("nav-timeline").click();
    const seqsOf = async (host: string) => {
      const listed = (await (await api.post(`/api/agents/${host}/call`, { data: { path: "events.list", input: { before: Number.MAX_SAFE_INTEGER, limit: 100_000 } } })).json()) as { data: { events: { seq: number }[] } };
      return seqDigest(host, listed.data.events.map((e) => e.seq));
    };
    for (const host of ["host6", "host0", "host9"]) await expect(page.getByTestId("timeline-stats")).toHaveAttribute("data-seqs", await seqsOf(host), { timeout: 30_000 });
    await api.post("/api/agents/host6/call", { data: { path: "containers.abort", input: { name: "c6" } } });
  } finally {
    await fleet.close();
  }
});
