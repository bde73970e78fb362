// Root tests of the debian template and the managed bridge: the cached base (built when
// missing: about a minute from the machine's mirror), creates through the CLI and the API, the
// config as LXC's tools read it, and an agent that makes corralbr0 when it is missing and starts
// a Debian container whose eth0 has its address before its command runs. Needs root and the
// machine's Debian mirror; fails (never skips) without them.
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { AgentProcess, freePort } from "./agent-process.ts";
import { requireRoot, until } from "./harness.ts";
import { baseRelease, ensureDebianBase } from "../../src/containers/debian.ts";
import { MANAGED_BRIDGE } from "../../src/runtime/bridge.ts";

const REPO = join(import.meta.dirname, "../../../..");
const BRIDGE = MANAGED_BRIDGE.name;
const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE1aCGYx4x7o0Y0n2o1Rk9zKQ3hB0p5bD2q8mN7sXyZa test@corral";

let agent: AgentProcess;
let lxcpath: string;
let work: string;

/** Run the corral CLI (its TypeScript, as the agent under test runs); resolves with its output. */
function corral(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", join(REPO, "apps/agent/src/cli/main.ts"), ...args], {
      cwd: REPO,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.on("close", (code) => resolve({ code: code ?? -1, out, ms: Date.now() - started }));
  });
}

const lxcInfo = (name: string, key: string) => execFileSync("lxc-info", ["-P", lxcpath, "-n", name, "-c", key], { encoding: "utf8" }).trim();

/** The bridge's ports: a bridge with none may be deleted to see the agent make it again. */
function bridgePorts(): string[] | undefined {
  const dir = `/sys/class/net/${BRIDGE}/brif`;
  return existsSync(`/sys/class/net/${BRIDGE}`) ? readdirSync(dir) : undefined;
}

before(async () => {
  requireRoot();
  lxcpath = mkdtempSync(join(tmpdir(), "corral-debian-test-"));
  work = mkdtempSync(join(tmpdir(), "corral-debian-work-"));
  agent = new AgentProcess(lxcpath, await freePort(), "test-token-debian-0123456789");
  await agent.start();
});

after(async () => {
  await agent.stop();
  rmSync(lxcpath, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

describe("the debian template", { timeout: 20 * 60_000 }, () => {
  it("ensureDebianBase gives the cached bookworm rootfs, building it from the machine's mirror when missing", async () => {
    const lines: string[] = [];
    const base = await ensureDebianBase("bookworm", (l) => lines.push(l));
    assert.equal(base, "/var/cache/corral/debian/bookworm-amd64");
    assert.equal(baseRelease(base), "bookworm");
    for (const f of ["lib/systemd/systemd", "sbin/init", "usr/sbin/sshd", "usr/bin/ip", "usr/bin/ping"]) assert.ok(existsSync(join(base, f)), `${f} in the base`);
    assert.equal(readFileSync(join(base, "etc/machine-id"), "utf8"), "", "no machine id shared by every container");
    assert.deepEqual(readdirSync(join(base, "etc/ssh")).filter((n) => n.startsWith("ssh_host_")), [], "no SSH host keys shared by every container");
    assert.deepEqual(readdirSync(join(base, "usr/share/man")), [], "slim: no manuals");
    assert.deepEqual(readdirSync(join(base, "usr/share/doc/systemd")), ["copyright"], "slim: licences only");
    assert.ok(existsSync(join(base, "etc/dpkg/dpkg.cfg.d/01-corral-slim")));
    // a second call is the cache, at once
    const t = Date.now();
    assert.equal(await ensureDebianBase("bookworm"), base);
    assert.ok(Date.now() - t < 100);
  });

  it("corral create --template debian through the agent: progress printed, a second create from the cache in seconds, configs LXC reads", async (t) => {
    const keyFile = join(work, "id.pub");
    writeFileSync(keyFile, `${KEY}\n`);
    const env = { CORRAL_TOKEN: agent.token };
    const first = await corral(["create", "deb1", "--template", "debian", "--release", "bookworm", "--root-password", "hunter2", "--ssh-key", keyFile, "--agent", agent.url, "--lxcpath", lxcpath], env);
    assert.equal(first.code, 0, first.out);
    assert.match(first.out, /^copying \/var\/cache\/corral\/debian\/bookworm-amd64 to /m);
    assert.match(first.out, /^deb1 gets 10\.0\.5\.2\/24 on the managed bridge$/m);
    assert.match(first.out, /^created deb1 /m);
    assert.doesNotMatch(first.out, /hunter2/);

    const second = await corral(["create", "deb2", "--template", "debian", "--agent", agent.url, "--lxcpath", lxcpath], env);
    assert.equal(second.code, 0, second.out);
    // from the cache: nothing built or downloaded, only a copy (1.6 s on a quiet machine; the bound
    // is loose because other jobs may load this one)
    assert.doesNotMatch(second.out, /building Debian|mmdebstrap/);
    assert.ok(second.ms < 90_000, `a create from the cache took ${second.ms} ms`);
    assert.match(second.out, /deb2 gets 10\.0\.5\.3\/24/);
    t.diagnostic(`creates: ${first.ms} ms and ${second.ms} ms (CLI start included)`);
    assert.match(second.out, /no root password given/);

    // LXC's own tools read the configs
    assert.equal(lxcInfo("deb1", "lxc.net.0.link"), `lxc.net.0.link = ${BRIDGE}`);
    assert.equal(lxcInfo("deb1", "lxc.net.0.type"), "lxc.net.0.type = veth");
    assert.equal(lxcInfo("deb1", "lxc.net.0.ipv4.address"), "lxc.net.0.ipv4.address = 10.0.5.2/24");
    assert.equal(lxcInfo("deb2", "lxc.net.0.ipv4.address"), "lxc.net.0.ipv4.address = 10.0.5.3/24");
    assert.equal(lxcInfo("deb1", "lxc.mount.auto"), "lxc.mount.auto = proc:mixed sys:mixed cgroup:mixed");
    assert.equal(lxcInfo("deb1", "lxc.tty.max"), "lxc.tty.max = 4");
    assert.match(lxcInfo("deb1", "lxc.net.0.hwaddr"), /^lxc\.net\.0\.hwaddr = 00:16:3e(:[0-9a-f]{2}){3}$/);
    assert.equal(lxcInfo("deb1", "lxc.signal.halt"), "lxc.signal.halt = 0", "not set: the runtime picks SIGRTMIN+3 for systemd");
    assert.equal(lxcInfo("deb1", "lxc.init.cmd"), "lxc.init.cmd =", "not set: /sbin/init");

    // each its own identity
    const rootfs = (n: string) => join(lxcpath, n, "rootfs");
    assert.equal(readFileSync(join(rootfs("deb1"), "etc/hostname"), "utf8"), "deb1\n");
    assert.match(readFileSync(join(rootfs("deb1"), "etc/shadow"), "utf8"), /^root:\$6\$[^:]+:/m);
    assert.match(readFileSync(join(rootfs("deb2"), "etc/shadow"), "utf8"), /^root:\*:/m, "no password: root stays locked");
    assert.equal(readFileSync(join(rootfs("deb1"), "root/.ssh/authorized_keys"), "utf8"), `${KEY}\n`);
    assert.notEqual(readFileSync(join(rootfs("deb1"), "etc/machine-id"), "utf8"), readFileSync(join(rootfs("deb2"), "etc/machine-id"), "utf8"));
    const hostKey = (n: string) => readFileSync(join(rootfs(n), "etc/ssh/ssh_host_ed25519_key.pub"), "utf8");
    assert.notEqual(hostKey("deb1"), hostKey("deb2"));

    // the audit log has the create and its outcome, never the password
    const audit = await agent.client().http.audit.list.query({ name: "deb1" });
    const creates = (audit as Array<{ action: string; target: string | null; result: string; detail: string }>).filter((a) => a.target === "deb1");
    assert.deepEqual(creates.map((a) => [a.action, a.result]).sort(), [["containers.create (built)", "ok"], ["containers.create", "ok"]]);
    assert.doesNotMatch(JSON.stringify(audit), /hunter2/);
  });

  it("the API refuses bad options before anything is made, and reports progress and failure of a create", async () => {
    const { http } = agent.client();
    await assert.rejects(http.containers.create.mutate({ name: "bad1", template: "debian", release: "../x" }), /not a Debian release name/);
    await assert.rejects(http.containers.create.mutate({ name: "bad2", template: "host", rootPassword: "x" }), /only the debian template/);
    await assert.rejects(http.containers.create.mutate({ name: "deb1", template: "debian" }), /already exists/);
    assert.equal(existsSync(join(lxcpath, "bad1")), false);
    // a release the mirror does not have: the create starts, then fails, and says why
    const r = await http.containers.create.mutate({ name: "nosuch", template: "debian", release: "nosuchrelease" });
    assert.equal(r.building, true);
    let progress = await http.containers.createProgress.query({ name: "nosuch" });
    for (let i = 0; i < 600 && !progress?.done; i++) {
      await new Promise((res) => setTimeout(res, 200));
      progress = await http.containers.createProgress.query({ name: "nosuch" });
    }
    assert.equal(progress?.done, true);
    assert.match(progress.error ?? "", /mmdebstrap exited with/);
    assert.ok(progress.lines.some((l) => l.startsWith("building Debian nosuchrelease")), progress.lines.join("\n"));
    assert.equal(existsSync(join(lxcpath, "nosuch")), false, "a failed create leaves nothing");
    for (const left of ["nosuchrelease-amd64", "nosuchrelease-amd64.partial", "nosuchrelease-amd64.lock"]) {
      assert.equal(existsSync(`/var/cache/corral/debian/${left}`), false, `${left} left in the cache`);
    }
    assert.equal(await http.containers.createProgress.query({ name: "never" }), null);
  });

  it("an agent start makes corralbr0 when it is missing, and eth0 has its address and reaches the bridge before the command runs", async () => {
    const ports = bridgePorts();
    assert.ok(ports === undefined || ports.length === 0, `${BRIDGE} has ports (${ports?.join(", ")}): stop the containers on it to run this test`);
    if (ports) execFileSync("ip", ["link", "del", BRIDGE]);
    const { http } = agent.client();
    await http.containers.start.mutate({
      name: "deb1",
      command: ["/bin/sh", "-c", "ip -4 -o addr show eth0; ip route show default; ping -c1 -W2 10.0.5.1 >/dev/null && echo PING-OK; sleep 30"],
    });
    assert.match(execFileSync("ip", ["-4", "-o", "addr", "show", BRIDGE], { encoding: "utf8" }), /inet 10\.0\.5\.1\/24 brd 10\.0\.5\.255/);
    let text = "";
    for (let i = 0; i < 100 && !/PING-OK/.test(text); i++) {
      await new Promise((r) => setTimeout(r, 100));
      text = await http.console.history.query({ name: "deb1" });
    }
    assert.match(text, /eth0\s+inet 10\.0\.5\.2\/24/);
    assert.match(text, /default via 10\.0\.5\.1 dev eth0/);
    assert.match(text, /PING-OK/);
    const c = await http.containers.get.query({ name: "deb1" });
    assert.deepEqual(c.ips, ["10.0.5.2"]);
    // a second container on the same bridge: its own address
    await http.containers.start.mutate({ name: "deb2", command: ["/bin/sh", "-c", "ping -c1 -W2 10.0.5.2 >/dev/null && echo PEER-OK; sleep 30"] });
    for (let i = 0; i < 100 && !/PEER-OK/.test(text); i++) {
      await new Promise((r) => setTimeout(r, 100));
      text = await http.console.history.query({ name: "deb2" });
    }
    assert.match(text, /PEER-OK/);
    await http.containers.stop.mutate({ name: "deb1", kill: true });
    await http.containers.stop.mutate({ name: "deb2", kill: true });
    assert.deepEqual(bridgePorts(), [], "the veths went with their containers");
    // the bridge stays (as lxc-net's does), now without ports and without carrier: a start still finds its address
    await http.containers.start.mutate({ name: "deb1", command: ["/bin/sh", "-c", "sleep 30"] });
    await http.containers.stop.mutate({ name: "deb1", kill: true });
    await http.containers.delete.mutate({ name: "deb1" });
    await http.containers.delete.mutate({ name: "deb2" });
  });

  it("an agent killed during a create leaves nothing once it is back: the builder dies with it, the half-made directory is removed", async (tc) => {
    const { http } = agent.client();
    const r = await http.containers.create.mutate({ name: "cut", template: "debian" });
    assert.equal(r.building, true);
    // kill it while it copies (the copy is the create's longest step from the cache)
    for (let i = 0; i < 100 && !((await http.containers.createProgress.query({ name: "cut" }))?.lines.some((l) => l.startsWith("copying"))); i++) {
      await new Promise((res) => setTimeout(res, 20));
    }
    let t = Date.now();
    await agent.stop("SIGKILL");
    assert.ok(existsSync(join(lxcpath, "cut/.creating")), "the create was cut short");
    await until(() => !execFileSync("ps", ["-eo", "args"], { encoding: "utf8" }).includes(`${lxcpath}/cut/rootfs`), 5000);
    const killed = Date.now() - t;
    t = Date.now();
    await agent.start();
    tc.diagnostic(`the builder gone ${killed} ms after the kill; the agent back in ${Date.now() - t} ms`);
    assert.equal(existsSync(join(lxcpath, "cut")), false, "removed when the agent came back");
    assert.match(agent.log, /removed a create cut short by the previous agent/);
    const again = await agent.client().http.containers.create.mutate({ name: "cut", template: "debian" });
    assert.equal(again.building, true, "the name is free again");
    for (let i = 0; i < 300 && !(await agent.client().http.containers.createProgress.query({ name: "cut" }))?.done; i++) await new Promise((res) => setTimeout(res, 200));
    await agent.client().http.containers.delete.mutate({ name: "cut" });
  });

  it("the image boots under LXC itself: lxc-start reads the config as written and systemd reaches running with no failed unit", async () => {
    // A check of the template's image and config, apart from corral's runtime: LXC 5.0.2 boots it.
    const { http } = agent.client();
    const r = await http.containers.create.mutate({ name: "deb3", template: "debian" });
    assert.equal(r.building, true);
    for (let i = 0; i < 300 && !(await http.containers.createProgress.query({ name: "deb3" }))?.done; i++) await new Promise((res) => setTimeout(res, 200));
    assert.equal((await http.containers.createProgress.query({ name: "deb3" }))?.error, undefined);
    const lxc = (tool: string, ...args: string[]) => execFileSync(tool, ["-P", lxcpath, "-n", "deb3", ...args], { encoding: "utf8", timeout: 60_000, stdio: ["ignore", "pipe", "pipe"] }).trim();
    lxc("lxc-start");
    try {
      // systemctl needs systemd's private socket, there a moment after the init starts
      let state = "";
      for (let tries = 0; tries < 100 && !state; tries++) {
        try {
          state = lxc("lxc-attach", "--", "systemctl", "is-system-running", "--wait");
        } catch (e) {
          const err = `${(e as { stderr?: string }).stderr ?? ""}${(e as { stdout?: string }).stdout ?? ""}`;
          if (!/Failed to connect to bus/.test(err)) state = err.trim() || (e as Error).message;
          else await new Promise((r) => setTimeout(r, 100));
        }
      }
      assert.equal(state, "running", lxc("lxc-attach", "--", "systemctl", "--failed", "--no-pager"));
      assert.equal(lxc("lxc-attach", "--", "journalctl", "-b", "-p", "warning", "--no-pager", "-q"), "", "no warning in the journal");
      assert.match(lxc("lxc-attach", "--", "ip", "-4", "-o", "addr", "show", "eth0"), /inet 10\.0\.5\.\d+\/24/);
    } finally {
      lxc("lxc-stop");
    }
    await http.containers.delete.mutate({ name: "deb3" });
  });
});
