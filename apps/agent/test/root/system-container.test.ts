// A real distribution under corral: Debian bookworm with systemd, made by the debian template
// (its base is built once on a machine, from the Debian mirror apt uses, and cached). It must
// boot to `running` with no failed unit, take a login on its console, halt itself on a stop,
// reboot and power off from inside, reboot on `corral reboot`, run in the foreground with a
// reboot inside, and leave nothing behind. Timings are the bench's business, not these tests'.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { execFile, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { decodeWaitStatus } from "@corral/core";
import { createContainerAsync } from "../../src/containers/create.ts";
import { assertNothingLeft, consoleLogin, makeHarness, until, type Harness } from "./harness.ts";

const run = promisify(execFile);
const REPO = join(import.meta.dirname, "../../../..");
const NAME = "deb";
const PASSWORD = "corral-test";
/** A first build of the cached base downloads Debian: minutes on a fresh machine. */
const BUILD_MS = 15 * 60_000;
/** Generous bounds for a boot or a shutdown on a busy 2-core machine; the bench measures them. */
const BOOT_MS = 120_000;

let h: Harness;

/** A command inside the container (all its namespaces, its root), as root. */
async function inside(pid: number, ...argv: string[]): Promise<string> {
  const { stdout } = await run("nsenter", ["--all", "-t", String(pid), "--", ...argv], { timeout: BOOT_MS });
  return stdout.trim();
}

function pidOf(): number {
  const pid = h.runtime.initPid(NAME);
  assert.ok(pid, `${NAME} has no init (state ${h.runtime.state(NAME)})`);
  return pid;
}

/** systemd's own word on the boot, once it has settled (is-system-running --wait). */
async function systemState(): Promise<string> {
  const deadline = Date.now() + BOOT_MS;
  for (;;) {
    // right after exec, systemctl may not reach systemd's bus yet: ask again
    const state = await inside(pidOf(), "systemctl", "is-system-running", "--wait").catch((e: unknown) => ((e as { stdout?: string }).stdout ?? "").trim());
    if (["running", "degraded", "maintenance", "stopping"].includes(state) || Date.now() > deadline) return state;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function assertBootedClean(): Promise<void> {
  const state = await systemState();
  const failed = await inside(pidOf(), "systemctl", "--failed", "--no-legend", "--plain").catch(() => "?");
  assert.equal(state, "running", `systemd is ${state}; failed units: ${failed}`);
}

async function startAndBoot(): Promise<void> {
  await h.runtime.start(NAME, { cause: { actor: "test" } });
  await assertBootedClean();
}

function lastStop() {
  const stops = h.changes.filter((c) => c.container === NAME && c.state === "STOPPED");
  return stops.at(-1)!;
}

describe("a Debian system container with systemd", { timeout: BUILD_MS + 10 * BOOT_MS }, () => {
  before(async () => {
    h = makeHarness();
    await createContainerAsync(h.lxcpath, { name: NAME, template: "debian", rootPassword: PASSWORD });
  }, { timeout: BUILD_MS });
  after(() => h.dispose());

  it("starts unchanged, boots to running with no failed unit, with its own boot id and network knobs", async () => {
    await startAndBoot();
    const pid = pidOf();
    assert.notEqual(await inside(pid, "cat", "/proc/sys/kernel/random/boot_id"), readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim());
    // proc:mixed in its own network namespace: net.* writable, the rest of /proc/sys not
    await inside(pid, "sysctl", "-w", "net.ipv4.ip_forward=1");
    await assert.rejects(inside(pid, "sh", "-c", "echo 1 > /proc/sys/kernel/panic"));
    assert.equal(await inside(pid, "journalctl", "-b", "-p", "warning", "--no-pager", "-q"), "", "warnings in this boot's journal");
  });

  it("takes a login on its console", async () => {
    await consoleLogin(h.runtime, NAME, PASSWORD, BOOT_MS, "echo logged-in-as-$(id -un)-$((6*7))", "logged-in-as-root-42");
  });

  it("halts itself on a stop: SIGRTMIN+3, never SIGKILL", async () => {
    await h.runtime.stop(NAME, { cause: { actor: "test" }, timeoutMs: BOOT_MS });
    const stopping = h.changes.filter((c) => c.container === NAME && c.state === "STOPPING").at(-1)!;
    assert.equal(stopping.detail.signal, "SIGRTMIN+3");
    const status = decodeWaitStatus(lastStop().detail.exitStatus!);
    assert.deepEqual(status, { signaled: true, signal: 2, coreDumped: false }, "systemd's halt ends the init with SIGINT");
    assert.equal(lastStop().detail.halt, true);
    assertNothingLeft(NAME);
  });

  it("reboots from inside and comes back running; powers off from inside", async () => {
    await startAndBoot();
    const first = pidOf();
    await inside(first, "systemctl", "reboot").catch(() => undefined);
    await until(() => { const p = h.runtime.initPid(NAME); return p !== undefined && p !== first; }, BOOT_MS);
    assert.equal(lastStop().detail.reboot, true);
    await assertBootedClean();
    await inside(pidOf(), "systemctl", "poweroff").catch(() => undefined);
    await until(() => h.runtime.state(NAME) === "STOPPED", BOOT_MS);
    assert.equal(lastStop().detail.halt, true);
    assertNothingLeft(NAME);
  });

  it("reboots on corral reboot: systemd reboots itself (SIGHUP, not a kill)", async () => {
    await startAndBoot();
    const first = pidOf();
    h.runtime.reboot(NAME, { actor: "test", request: "reboot" });
    await until(() => { const p = h.runtime.initPid(NAME); return p !== undefined && p !== first; }, BOOT_MS);
    assert.deepEqual(decodeWaitStatus(lastStop().detail.exitStatus!), { signaled: true, signal: 1, coreDumped: false });
    await assertBootedClean();
    await h.runtime.stop(NAME, { cause: { actor: "test" }, timeoutMs: BOOT_MS });
    assertNothingLeft(NAME);
  });

  it("corral run on a terminal: boot messages and a login prompt, a reboot inside stays in the run, poweroff ends it with 0", async () => {
    // script(1) gives corral run a terminal, as a user's would be
    const cmd = `node ${join(REPO, "apps/agent/bin/corral.mjs")} run ${NAME} --lxcpath ${h.lxcpath.root}`;
    const child = spawn("script", ["-qec", cmd, "/dev/null"], { stdio: ["pipe", "pipe", "pipe"] });
    let screen = "";
    child.stdout.on("data", (d: Buffer) => (screen += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    const initOf = async () => Number((await run("lxc-info", ["-P", h.lxcpath.root, "-n", NAME, "-p", "-H"])).stdout.trim());
    await until(() => /login: $/.test(screen), BOOT_MS).catch(() => assert.fail(`no login prompt on the terminal:\n${screen.slice(-400)}`));
    assert.match(screen, /Welcome to .*Debian/);
    const first = await initOf();
    await inside(first, "systemctl", "reboot").catch(() => undefined);
    const logins = () => screen.split("login:").length - 1;
    await until(() => logins() >= 2, BOOT_MS).catch(() => assert.fail(`no second boot in the same run:\n${screen.slice(-400)}`));
    const second = await initOf();
    assert.notEqual(second, first);
    await inside(second, "systemctl", "poweroff").catch(() => undefined);
    assert.equal(await exited, 0, screen.slice(-400));
    assertNothingLeft(NAME);
  });
});
