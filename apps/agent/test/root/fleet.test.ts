// Root test of a fleet: ten agents, each in a network namespace of its own (a separate host, as
// far as the network goes), listening beyond loopback and so speaking TLS only. The corral command
// reaches each through a remote whose certificate it pinned; a remote pointed at another agent's
// certificate, plain HTTP to an agent and a pinned remote turned to http:// are all refused with
// words; a client certificate the agent trusts needs no token; an agent killed and started again
// (same lxcpath, same certificate) is reached again through the same pin. Needs root.
//
// The namespaces are entered with `nsenter --net=...`: `ip netns exec` would mount a /sys of its
// own, without the host's cgroups, which the agents need.
import assert from "node:assert/strict";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import Database from "better-sqlite3";
import { requireRoot } from "./harness.ts";

const REPO = join(import.meta.dirname, "../../../..");
const CORRAL = join(REPO, "apps/agent/bin/corral.mjs");
const AGENTS = 10;
const PORT = 7690;
/** unique per run: namespaces, veths (at most 15 characters) and a /16 of its own */
const TAG = `cft${process.pid % 100000}`;
const NET = `10.${100 + (process.pid % 100)}`;

interface Host {
  index: number;
  ns: string;
  veth: string;
  ip: string;
  lxcpath: string;
  url: string;
  agent?: ChildProcess;
  log: string;
  fingerprint: string;
}

const hosts: Host[] = [];
let configDir: string;

function ip(...args: string[]): void {
  execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"] });
}

function makeHost(index: number): Host {
  const h: Host = { index, ns: `${TAG}-${index}`, veth: `${TAG}${index}`, ip: `${NET}.${index}.2`, lxcpath: mkdtempSync(join(tmpdir(), "corral-fleet-")), url: "", log: "", fingerprint: "" };
  h.url = `https://${h.ip}:${PORT}`;
  ip("netns", "add", h.ns);
  ip("link", "add", `${h.veth}h`, "type", "veth", "peer", "name", `${h.veth}n`);
  ip("link", "set", `${h.veth}n`, "netns", h.ns);
  ip("addr", "add", `${NET}.${index}.1/24`, "dev", `${h.veth}h`);
  ip("link", "set", `${h.veth}h`, "up");
  ip("-n", h.ns, "addr", "add", `${h.ip}/24`, "dev", `${h.veth}n`);
  ip("-n", h.ns, "link", "set", `${h.veth}n`, "up");
  ip("-n", h.ns, "link", "set", "lo", "up");
  return h;
}

/** The agent in its host's namespace; resolves once it listens, with the fingerprint it printed. */
async function startAgent(h: Host, extra: string[] = [], listen = h.ip): Promise<void> {
  h.log = "";
  const child = spawn("nsenter", [`--net=/run/netns/${h.ns}`, process.execPath, CORRAL, "agent", "--lxcpath", h.lxcpath, "--listen", `${listen}:${PORT}`, ...extra], { stdio: ["ignore", "pipe", "pipe"] });
  h.agent = child;
  child.stdout.on("data", (d) => (h.log += d));
  child.stderr.on("data", (d) => (h.log += d));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`agent ${h.index} did not start: ${h.log}`)), 60_000);
    const check = () => {
      const line = h.log.split("\n").find((l) => l.includes('"agent listening"'));
      if (!line) return;
      clearTimeout(timer);
      const logged = JSON.parse(line) as { url: string; fingerprint?: string };
      assert.equal(logged.url, `https://${listen}:${PORT}`, "beyond loopback the agent serves https");
      assert.match(logged.fingerprint ?? "", /^[0-9a-f]{64}$/, "it prints its certificate's fingerprint");
      h.fingerprint = logged.fingerprint!;
      resolve();
    };
    child.stdout.on("data", check);
    child.on("exit", (code) => reject(new Error(`agent ${h.index} exited with ${code}: ${h.log}`)));
  });
}

async function stopAgent(h: Host, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  const child = h.agent;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill(signal);
  await exited;
}

/** The command as an operator runs it, with this test's remotes; no terminal. */
function corral(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CORRAL, ...args], {
      cwd: tmpdir(), env: { ...process.env, CORRAL_CONFIG_DIR: configDir, CORRAL_AGENT: "", CORRAL_TOKEN: "", ...env }, stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("exit", (code) => resolve({ code, out, err }));
  });
}

const token = (h: Host) => readFileSync(join(h.lxcpath, "agent.token"), "utf8").trim();
const remotesFile = () => join(configDir, "remotes.json");

before(async () => {
  requireRoot();
  // a directory the command makes itself
  configDir = join(mkdtempSync(join(tmpdir(), "corral-fleet-config-")), "corral");
  for (let i = 0; i < AGENTS; i++) hosts.push(makeHost(i));
  // two at a time: ten agents starting at once would only queue on this machine's two cores
  for (let i = 0; i < AGENTS; i += 2) await Promise.all(hosts.slice(i, i + 2).map((h) => startAgent(h)));
});

after(async () => {
  await Promise.all(hosts.map((h) => stopAgent(h)));
  for (const h of hosts) {
    try { ip("netns", "del", h.ns); } catch (e) { assert.ok(e instanceof Error); }
    try { ip("link", "del", `${h.veth}h`); } catch (e) { assert.ok(e instanceof Error); }
    rmSync(h.lxcpath, { recursive: true, force: true });
  }
  rmSync(dirname(configDir), { recursive: true, force: true });
});

describe("ten agents in network namespaces, over TLS, through pinned remotes", () => {
  it("adds each agent as a remote, pinning the fingerprint it printed, and runs a container on each", async () => {
    for (const h of hosts) {
      const added = await corral(["remote", "add", `a${h.index}`, h.url, "--token", token(h), "--accept-certificate"]);
      assert.equal(added.code, 0, added.err);
      assert.match(added.err, new RegExp(`Certificate fingerprint: ${h.fingerprint}`));
      assert.match(added.out, new RegExp(`remote a${h.index} added: ${h.url.replace(/\./g, "\\.")}.*${h.fingerprint} pinned`));
    }
    const listed = await corral(["remote", "list", "--json"]);
    assert.deepEqual((JSON.parse(listed.out) as { name: string; fingerprint: string }[]).map((r) => [r.name, r.fingerprint]), hosts.map((h) => [`a${h.index}`, h.fingerprint]));
    for (const h of hosts) {
      assert.equal((await corral(["create", `web${h.index}`, "--template", "busybox", "--agent", `a${h.index}`])).code, 0);
      const started = await corral(["start", `web${h.index}`, "--", "sleep", "300"], { CORRAL_AGENT: `a${h.index}` });
      assert.equal(started.out, `web${h.index}: RUNNING\n`, started.err);
    }
    for (const h of hosts) {
      const ls = await corral(["ls", "--names", "--agent", `a${h.index}`]);
      assert.equal(ls.out, `web${h.index}\n`, `each agent has its own container: ${ls.err}`);
    }
  });

  it("the remotes file is root's only: it holds the tokens", () => {
    assert.equal(statSync(remotesFile()).mode & 0o777, 0o600);
    assert.equal(statSync(configDir).mode & 0o777, 0o700, "the directory the command made is not open to others");
  });

  it("follows a stream over WSS with the same pin", async () => {
    const child = spawn(process.execPath, [CORRAL, "events", "--since", "0", "--agent", "a3"], { env: { ...process.env, CORRAL_CONFIG_DIR: configDir }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    await new Promise<void>((resolve, reject) => {
      child.stdout.on("data", (d) => {
        out += d;
        if (/'web3' changed state to \[RUNNING\]/.test(out)) resolve();
      });
      child.on("exit", (code) => reject(new Error(`events exited ${code}: ${out}`)));
    });
    child.kill("SIGTERM");
  });

  it("refuses an agent whose certificate is not the pinned one, and sends it nothing", async () => {
    const remotes = JSON.parse(readFileSync(remotesFile(), "utf8")) as { remotes: Record<string, { url: string }> };
    // a0's pin, and another agent answering at its address
    writeFileSync(remotesFile(), JSON.stringify({ remotes: { ...remotes.remotes, impostor: { ...remotes.remotes.a0, url: hosts[1]!.url } } }), { mode: 0o600 });
    const auditBefore = auditCount(hosts[1]!);
    const r = await corral(["ls", "--agent", "impostor"]);
    assert.equal(r.code, 1);
    assert.match(r.err, /Refused: agent "impostor" \(https:\/\/.*\) presented a certificate other than the one pinned for it, so nothing was sent\..*corral agent --fingerprint/);
    assert.equal(auditCount(hosts[1]!), auditBefore, "the other agent saw no request from it");
  });

  it("refuses plain HTTP: the agent answers no call over it, and a pinned remote is never downgraded", async () => {
    const h = hosts[2]!;
    const plain = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`http://${h.ip}:${PORT}/trpc/containers.list`, { headers: { authorization: `Bearer ${token(h)}` } }, (res) => {
        let body = "";
        res.on("data", (c) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on("error", reject);
      req.end();
    });
    assert.equal(plain.status, 400);
    assert.match(plain.body, /this agent speaks HTTPS only: use https:\/\//);
    const byUrl = await corral(["ls", "--agent", `http://${h.ip}:${PORT}`], { CORRAL_TOKEN: token(h) });
    assert.equal(byUrl.code, 1);
    assert.match(byUrl.err, /speaks HTTPS only beyond loopback, and plain HTTP was asked/);
    const remotes = JSON.parse(readFileSync(remotesFile(), "utf8")) as { remotes: Record<string, { url: string }> };
    writeFileSync(remotesFile(), JSON.stringify({ remotes: { ...remotes.remotes, downgraded: { ...remotes.remotes.a2, url: `http://${h.ip}:${PORT}` } } }), { mode: 0o600 });
    const downgraded = await corral(["ls", "--agent", "downgraded"]);
    assert.equal(downgraded.code, 1);
    assert.match(downgraded.err, /was pinned over HTTPS but its URL is now http:.*refused/);
    const unpinned = await corral(["ls", "--agent", `https://${h.ip}:${PORT}/`]);
    assert.equal(unpinned.code, 0, `an https URL of a pinned remote is checked against its pin: ${unpinned.err}`);
  });

  it("a client certificate the agent trusts needs no token (mutual TLS)", async () => {
    const h = hosts[5]!;
    const refused = await corral(["remote", "add", "mtls5", h.url, "--accept-certificate"]);
    assert.equal(refused.code, 1);
    assert.match(refused.err, /does not trust this client yet: copy .*client\.crt to the agent's host and run corral agent trust add FILE there/);
    const trusted = await corral(["agent", "--lxcpath", h.lxcpath, "trust", "add", join(configDir, "client.crt"), "--name", "fleet-test"]);
    assert.equal(trusted.code, 0, trusted.err);
    const added = await corral(["remote", "add", "mtls5", h.url, "--accept-certificate"]);
    assert.equal(added.code, 0, added.err);
    assert.equal((await corral(["ls", "--names", "--agent", "mtls5"])).out, "web5\n");
    assert.equal((await corral(["stop", "web5", "--kill", "--agent", "mtls5"])).out, "web5: STOPPED\n");
    assert.match(auditQuery(h, "select actor from audit where action like '%stop%' order by rowid desc limit 1")?.actor ?? "", /^cli:/, "the call is audited as the client's");
    assert.equal((await corral(["agent", "--lxcpath", h.lxcpath, "trust", "remove", "fleet-test"])).code, 0);
    const removed = await corral(["ls", "--agent", "mtls5"]);
    assert.equal(removed.code, 1);
    assert.match(removed.err, /did not accept the token \(or client certificate\)/);
  });

  it("an agent killed and started again keeps its certificate, and its remote works again", async () => {
    const h = hosts[7]!;
    const before = h.fingerprint;
    await stopAgent(h, "SIGKILL");
    const down = await corral(["ls", "--agent", "a7"]);
    assert.equal(down.code, 1);
    assert.match(down.err, /Unreachable: agent "a7" \(https:\/\/.*\) cannot be reached \(ECONNREFUSED\)\. Check that the agent runs there/);
    await startAgent(h);
    assert.equal(h.fingerprint, before, "the certificate made on first start is kept in the lxcpath");
    const ls = await corral(["ls", "--agent", "a7"]);
    assert.equal(ls.code, 0, ls.err);
    assert.match(ls.out, /^web7\s+STOPPED/m, "its container died with it, and says so");
  });

  it("an agent told --insecure-plain-http answers plain HTTP beside HTTPS", async () => {
    const h = hosts[8]!;
    await stopAgent(h);
    await startAgent(h, ["--insecure-plain-http"]);
    const plain = await corral(["ls", "--names", "--agent", `http://${h.ip}:${PORT}`], { CORRAL_TOKEN: token(h) });
    assert.equal(plain.out, "web8\n", plain.err);
    assert.equal((await corral(["ls", "--names", "--agent", "a8"])).out, "web8\n", "and HTTPS with its pin still");
  });

  it("an agent on every address answers plain HTTP over loopback only: its own host's CLI needs no certificate", async () => {
    const h = hosts[9]!;
    await stopAgent(h);
    await startAgent(h, [], "0.0.0.0");
    const local = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn("nsenter", [`--net=/run/netns/${h.ns}`, process.execPath, CORRAL, "ls", "--names", "--agent", `http://127.0.0.1:${PORT}`], { env: { ...process.env, CORRAL_TOKEN: token(h) }, stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      child.stdout.on("data", (d) => (out += d));
      child.on("exit", (code) => resolve({ code, out }));
    });
    assert.deepEqual(local, { code: 0, out: "web9\n" });
    const fromAfar = await corral(["ls", "--agent", `http://${h.ip}:${PORT}`], { CORRAL_TOKEN: token(h) });
    assert.match(fromAfar.err, /speaks HTTPS only beyond loopback/);
    assert.equal((await corral(["ls", "--names", "--agent", "a9"])).out, "web9\n", "over https, with its pin");
  });

  it("removes a remote", async () => {
    assert.equal((await corral(["remote", "remove", "a9"])).out, "remote a9 removed\n");
    const gone = await corral(["ls", "--agent", "a9"]);
    assert.match(gone.err, /no remote named "a9": add it with corral remote add a9 URL/);
  });
});

function auditQuery(h: Host, sql: string): Record<string, string> | undefined {
  const db = new Database(join(h.lxcpath, "corral.db"), { readonly: true });
  try {
    return db.prepare(sql).get() as Record<string, string> | undefined;
  } finally {
    db.close();
  }
}

/** How many rows the agent's audit log has (refusals included). */
function auditCount(h: Host): number {
  return Number(auditQuery(h, "select count(*) as n from audit")?.n);
}
