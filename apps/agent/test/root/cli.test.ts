// Root tests of the corral command as an operator runs it (bin/corral.mjs and its bundle) against
// an agent in its own process: the quick commands over HTTP, a reboot followed to its next run,
// and the usage and agent errors with their exit codes. Needs root (real containers).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { AgentProcess, freePort } from "./agent-process.ts";
import { requireRoot } from "./harness.ts";

const REPO = join(import.meta.dirname, "../../../..");
let agent: AgentProcess;
let lxcpath: string;

before(async () => {
  requireRoot();
  lxcpath = mkdtempSync(join(tmpdir(), "corral-cli-test-"));
  agent = new AgentProcess(lxcpath, await freePort(), "test-token-cli-0123456789");
  await agent.start();
});

after(async () => {
  await agent.stop();
  rmSync(lxcpath, { recursive: true, force: true });
});

/** The command, from another directory, without a terminal: its exit code, stdout and stderr. */
function corral(...args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(REPO, "apps/agent/bin/corral.mjs"), ...args], {
      cwd: tmpdir(), env: { ...process.env, CORRAL_AGENT: agent.url, CORRAL_TOKEN: agent.token, CORRAL_LXCPATH: lxcpath }, stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("exit", (code) => resolve({ code, out, err }));
  });
}

describe("the corral command against an agent", () => {
  it("creates, lists, starts and shows containers; each verb prints the state it leaves", async () => {
    assert.equal((await corral("create", "web", "--template", "host")).code, 0);
    assert.equal((await corral("create", "db", "--template", "host")).code, 0);
    assert.deepEqual((await corral("ls", "--names")).out.split("\n").filter(Boolean).sort(), ["db", "web"]);
    const started = await corral("start", "web", "--", "sleep", "300");
    assert.equal(started.out, "web: RUNNING\n", started.err);
    assert.match((await corral("ls")).out, /^web\s+RUNNING\s+\d+/m);
    assert.match((await corral("info", "web")).out, /^State:\s+RUNNING$/m);
    assert.equal((await corral("abort", "web")).out, "web: STOPPED\n");
  });

  it("follows a reboot to the next run, saying how the init ended", async () => {
    await corral("start", "db", "--", "sh", "-c", "trap 'exit 0' INT; while :; do sleep 0.1; done");
    const before = (await agent.client().http.containers.get.query({ name: "db" })).pid;
    const r = await corral("reboot", "db");
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, "db: RUNNING\n");
    assert.match(r.err, /db: the init exited 0; starting again\n[\s\S]*db: RUNNING again \(pid \d+\)/);
    const after = (await agent.client().http.containers.get.query({ name: "db" })).pid;
    assert.ok(after !== undefined && after !== before, `a new init: ${before} then ${after}`);
    await corral("abort", "db");
  });

  it("stops quietly when its reader goes away (`corral events | head -1`)", async () => {
    const child = spawn(process.execPath, [join(REPO, "apps/agent/bin/corral.mjs"), "events", "--since", "0"], {
      env: { ...process.env, CORRAL_AGENT: agent.url, CORRAL_TOKEN: agent.token }, stdio: ["ignore", "pipe", "pipe"],
    });
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    // the reader takes the first line and leaves, as head -1 does
    await new Promise((resolve) => child.stdout.once("data", resolve));
    child.stdout.destroy();
    await corral("start", "web", "--", "true");
    assert.equal(await exited, 0, err);
    assert.equal(err, "");
  });

  it("a usage error exits 2 before the agent is asked; the agent's refusal exits 1 with its message", async () => {
    const usage = await corral("info");
    assert.equal(usage.code, 2);
    assert.match(usage.err, /info needs a container NAME[\s\S]*usage: corral/);
    const refused = await corral("info", "nosuch");
    assert.equal(refused.code, 1);
    assert.equal(refused.err, 'corral: no container named "nosuch"\n');
    const bad = await corral("start", "web", "--agent", "http://127.0.0.1:1");
    assert.equal(bad.code, 1);
    assert.match(bad.err, /ECONNREFUSED/);
  });
});
