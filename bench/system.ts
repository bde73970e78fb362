// The bench's `system` section: one Debian bookworm rootfs with systemd, made by LXC's own template
// (`lxc-create -t debian`), booted in turn by LXC 5.0.2 (lxc-start, lxc-stop, lxc-attach) and by a
// corral agent pointed at the same lxcpath (so both run the same container directory: the same
// config, the same rootfs). Never both at once: each turn starts only once the other runtime says
// STOPPED. For each runtime, medians over the rounds of:
//
//   boot      the start request to `systemctl is-system-running --wait` answering `running`
//   stop      a clean stop with a 30 s timeout (lxc-stop -t 30 / containers.stop timeout 30) to
//             STOPPED, and whether it ended by halt or by SIGKILL
//   reboot    `systemctl reboot` inside to `running` in the new boot (a new init pid)
//   poweroff  `systemctl poweroff` inside to STOPPED
//
// A round, for each runtime in turn (who goes first alternates): boot, reboot, poweroff, boot, stop.
// Every wait is bounded (SystemOptions.waitSeconds): a boot that does not reach `running` is a
// failure with its reason, never a number. A measure that ran out of time is not tried again in later rounds, and a
// runtime whose boot fails that way is given up, so the section's duration stays bounded.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { decodeWaitStatus, type EventDetail, type StateEvent } from "@corral/core";
import { AgentUnderTest, freePort, Watcher } from "./agent.ts";
import { AgentSocket } from "./agent-socket.ts";
import { have } from "./peers.ts";
import { now, stat } from "./stats.ts";

export const SYSTEM_MEASURES = ["boot", "stop", "reboot", "poweroff"] as const;
export type SystemMeasure = (typeof SYSTEM_MEASURES)[number];
/** The issue's targets for corral / LXC (reported, never asserted). */
export const SYSTEM_TARGETS: Record<SystemMeasure, number> = { boot: 1.0, stop: 1.0, reboot: 1.5, poweroff: 1.5 };

const NAME = "benchdeb";
const RELEASE = "bookworm";
const STOP_TIMEOUT_S = 30;
const LXC_CACHE = `/var/cache/lxc/debian/rootfs-${RELEASE}-amd64`;

export interface Sample {
  round: number;
  ms: number;
  /** stop and poweroff: how the init ended (halt, SIGKILL, ...) */
  ended_by?: string;
  /** boot and reboot: systemd's own count of its boot (systemd-analyze, userspace), taken after */
  systemd_ms?: number;
  /** corral's poweroff: from the init's end (its STOPPING event) to STOPPED: cleanup and post-stop hooks */
  after_exit_ms?: number;
}

export interface Failure {
  round: number;
  after_ms: number;
  reason: string;
}

export interface MeasureResult {
  /** over the samples that succeeded; null when none did */
  n: number;
  median_ms: number | null;
  p95_ms: number | null;
  samples: Sample[];
  failures: Failure[];
  /** why later rounds did not try it */
  not_retried?: string;
  /** boot and reboot: the median of systemd's own count, to tell its time from the runtime's */
  systemd_median_ms?: number;
}

/** What each figure is, as the results file says it. */
const HOW: Record<SystemMeasure, string> = {
  boot: "start request (lxc-start -P P -n N / containers.start) to `lxc-attach -- systemctl is-system-running --wait` answering running",
  stop: `clean stop (lxc-stop -t ${STOP_TIMEOUT_S} / containers.stop timeout ${STOP_TIMEOUT_S}) to STOPPED; ended_by: halt, or SIGKILL (LXC: took the whole timeout; corral: the STOPPED event's exit status)`,
  reboot: "`lxc-attach -- systemctl reboot` to a new init pid whose systemd answers running",
  poweroff: "`lxc-attach -- systemctl poweroff` to STOPPED (lxc-wait / the STOPPED event)",
};

export interface SystemResults {
  rootfs: string;
  how: Record<SystemMeasure, string>;
  /** what the bench changed in the config lxc-create wrote (both runtimes run the changed one) */
  config_changes: string[];
  rounds: number;
  wait_limit_s: number;
  stop_timeout_s: number;
  create_ms: number;
  built_lxc_cache: boolean;
  warmup: string;
  lxc: Record<SystemMeasure, MeasureResult>;
  corral: Record<SystemMeasure, MeasureResult>;
  /** corral's median over LXC's; null where either has no successful sample */
  ratios: Record<SystemMeasure, number | null>;
  targets: Record<SystemMeasure, number>;
  meets_target: Record<SystemMeasure, boolean | null>;
  given_up: Partial<Record<"lxc" | "corral", string>>;
  /** the host's 1-minute load average as the rounds began and ended (others' work skews the figures) */
  load_average?: { before: number; after: number };
  /** cgroup directories named after the container left in any hierarchy at the end */
  left_behind_cgroups: number;
  duration_s: number;
}

// ---- processes ------------------------------------------------------------------------------

interface Ran {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Run a command to its end or until timeoutMs (then SIGKILL); never rejects. */
function run(cmd: string, args: string[], timeoutMs: number): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, Math.max(1, timeoutMs));
    child.on("error", (e) => {
      clearTimeout(timer);
      resolve({ code: null, signal: null, stdout, stderr: e.message, timedOut });
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
    // Killed at its timeout, lxc-attach can leave its command in the container holding the pipes
    // open: its exit is the end then, not the pipes' close.
    child.on("exit", (code, signal) => {
      if (timedOut) resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}

function lastLine(text: string): string {
  return text.trim().split("\n").pop()?.trim().slice(0, 200) ?? "";
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

class TimedOut extends Error {}

/** A promise, or a TimedOut rejection at the deadline. */
function beforeDeadline<T>(p: Promise<T>, deadline: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimedOut(what)), Math.max(0, deadline - now()));
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

// ---- the two runtimes, behind one shape -------------------------------------------------------

interface SystemRuntime {
  readonly key: "lxc" | "corral";
  /** the start request: resolves once the runtime says it started, rejects with its reason */
  start(deadline: number): Promise<void>;
  initPid(): Promise<number | undefined>;
  isStopped(): Promise<boolean>;
  /** a clean stop with STOP_TIMEOUT_S: resolves once STOPPED, with how the init ended */
  cleanStop(deadline: number): Promise<string>;
  /** armed before a poweroff from inside: resolves when STOPPED, with the time and how it ended */
  whenStopped(deadline: number): Promise<{ t: number; endedBy: string; afterExitMs?: number }>;
  /** SIGKILL, whatever it is doing (cleanup after a failure) */
  kill(): Promise<void>;
}

/** LXC 5.0.2's own tools on the container. */
function lxcRuntime(lxcpath: string): SystemRuntime {
  const at = ["-P", lxcpath, "-n", NAME];
  return {
    key: "lxc",
    async start(deadline) {
      // lxc-start daemonizes and returns once the container runs.
      const r = await run("lxc-start", at, deadline - now());
      if (r.code !== 0) throw new Error(`lxc-start failed (${r.timedOut ? "timed out" : r.signal ?? r.code}): ${lastLine(r.stderr)}`);
    },
    async initPid() {
      const r = await run("lxc-info", [...at, "-p", "-H"], 10_000);
      const pid = Number(r.stdout.trim());
      return r.code === 0 && pid > 0 ? pid : undefined;
    },
    async isStopped() {
      const r = await run("lxc-info", [...at, "-s", "-H"], 10_000);
      return r.stdout.trim() === "STOPPED";
    },
    async cleanStop(deadline) {
      const t0 = now();
      const r = await run("lxc-stop", [...at, "-t", String(STOP_TIMEOUT_S)], deadline - now());
      const ms = now() - t0;
      if (r.code !== 0) throw new Error(`lxc-stop -t ${STOP_TIMEOUT_S} failed (${r.timedOut ? "timed out" : r.signal ?? r.code}): ${lastLine(r.stderr)}`);
      // lxc-stop halts, waits the timeout, then kills: only the time tells which ended it.
      return ms >= STOP_TIMEOUT_S * 1000 ? "SIGKILL" : "halt";
    },
    async whenStopped(deadline) {
      const seconds = Math.max(1, Math.ceil((deadline - now()) / 1000));
      const r = await run("lxc-wait", [...at, "-s", "STOPPED", "-t", String(seconds)], deadline - now() + 5000);
      const t = now();
      if (r.code !== 0) throw new TimedOut(`not STOPPED after ${seconds} s (lxc-wait ${r.code}: ${lastLine(r.stderr)})`);
      return { t, endedBy: "init ended" };
    },
    async kill() {
      await run("lxc-stop", [...at, "-k"], 30_000);
    },
  };
}

/** How a STOPPED event says the init ended. */
function endedBy(detail: EventDetail): string {
  if (detail.exitStatus === undefined) return "unknown";
  const status = decodeWaitStatus(detail.exitStatus);
  if ("exited" in status) return `exit ${status.code}`;
  if (!("signaled" in status)) return `status ${detail.exitStatus}`;
  // Inside a PID namespace the kernel turns the init's reboot(2) into SIGINT (halt, poweroff) or
  // SIGHUP (reboot): the init ended on its own.
  if (status.signal === 2) return "halt";
  if (status.signal === 1) return "reboot";
  if (status.signal === 9) return "SIGKILL";
  return `signal ${status.signal}`;
}

/** A corral agent on the same lxcpath, through its API, as the lifecycle section drives it. */
function corralRuntime(socket: AgentSocket, watcher: Watcher): SystemRuntime {
  const get = () => socket.call<{ state: string; pid?: number }>("query", "containers.get", { name: NAME });
  const stoppedEvent = () => watcher.nextEvent((e: StateEvent) => e.container === NAME && e.state === "STOPPED");
  return {
    key: "corral",
    async start(deadline) {
      await beforeDeadline(socket.call("mutation", "containers.start", { name: NAME }), deadline, "containers.start did not answer");
    },
    async initPid() {
      const c = await get();
      return c.state === "RUNNING" ? c.pid : undefined;
    },
    async isStopped() {
      return (await get()).state === "STOPPED";
    },
    async cleanStop(deadline) {
      const stopped = stoppedEvent();
      await beforeDeadline(socket.call("mutation", "containers.stop", { name: NAME, timeout: STOP_TIMEOUT_S }), deadline, "containers.stop did not answer");
      const { event } = await beforeDeadline(stopped, deadline, "no STOPPED event");
      return endedBy(event.detail);
    },
    async whenStopped(deadline) {
      // The init's end shows as STOPPING (nobody asked for a stop), then the cleanup, then STOPPED.
      let exitAt: number | undefined;
      void watcher.nextEvent((e) => e.container === NAME && e.state === "STOPPING").then(({ event }) => (exitAt ??= event.at));
      const { event, t } = await beforeDeadline(stoppedEvent(), deadline, "no STOPPED event");
      return { t, endedBy: endedBy(event.detail), ...(exitAt === undefined ? {} : { afterExitMs: Math.round(event.at - exitAt) }) };
    },
    async kill() {
      try {
        if ((await get()).state !== "STOPPED") await socket.call("mutation", "containers.stop", { name: NAME, kill: true });
      } catch (e) {
        process.stderr.write(`bench: system: corral kill: ${(e as Error).message}\n`);
      }
    },
  };
}

// ---- inside the container, through lxc-attach (which works on both) -----------------------------

function attach(lxcpath: string, command: string[], timeoutMs: number): Promise<Ran> {
  return run("lxc-attach", ["-P", lxcpath, "-n", NAME, "--", ...command], timeoutMs);
}

/** systemd's answer once it has settled; `offline`, `unknown` or no bus yet: ask again. */
async function systemdSettled(lxcpath: string, rt: SystemRuntime, deadline: number): Promise<{ state: string; t: number; note?: string }> {
  let last = "no answer";
  while (now() < deadline) {
    const r = await attach(lxcpath, ["systemctl", "is-system-running", "--wait"], deadline - now());
    const state = lastLine(r.stdout);
    const t = now();
    if (["running", "degraded", "maintenance", "stopping"].includes(state)) {
      if (state !== "degraded") return { state, t };
      const failed = await attach(lxcpath, ["systemctl", "--failed", "--no-legend", "--plain"], 10_000);
      const units = failed.stdout.trim().split("\n").map((l) => l.trim().split(/\s+/)[0]).filter(Boolean);
      return { state, t, note: `failed units: ${units.slice(0, 5).join(", ") || "?"}` };
    }
    if (r.timedOut) break;
    last = state || lastLine(r.stderr) || `lxc-attach exited ${r.signal ?? r.code}`;
    if (r.code !== 0 && (await rt.isStopped())) throw new Error(`the container stopped while systemd was coming up (last answer: ${last})`);
    await sleep(25);
  }
  throw new TimedOut(`systemd not settled: ${await diagnose(lxcpath, last)}`);
}

/** systemd's own count of the boot it just finished: `Startup finished in 412ms (userspace)`. */
async function systemdCount(lxcpath: string): Promise<number | undefined> {
  const r = await attach(lxcpath, ["systemd-analyze", "time"], 10_000);
  const span = /Startup finished in (.+?) \(userspace\)/.exec(r.stdout)?.[1];
  if (!span) return undefined;
  const unit: Record<string, number> = { min: 60_000, s: 1000, ms: 1, us: 0.001 };
  let ms = 0;
  for (const [, n, u] of span.matchAll(/(\d+(?:\.\d+)?)(min|ms|us|s)\b/g)) ms += Number(n) * unit[u!]!;
  return Math.round(ms);
}

/** What systemd is waiting for, when it did not settle in time: its state and its first jobs. */
async function diagnose(lxcpath: string, last: string): Promise<string> {
  const state = await attach(lxcpath, ["systemctl", "is-system-running"], 5000);
  if (state.timedOut) return `systemctl did not answer within 5 s (last answer before: ${last})`;
  const jobs = await attach(lxcpath, ["systemctl", "list-jobs", "--no-legend", "--plain"], 5000);
  const first = jobs.stdout.trim().split("\n").filter(Boolean).slice(0, 3).map((l) => l.trim().split(/\s+/).slice(1, 4).join(" "));
  return `${lastLine(state.stdout) || lastLine(state.stderr) || last}${first.length ? `; jobs: ${first.join(", ")}` : ""}`;
}

// ---- one round ------------------------------------------------------------------------------

function emptyMeasures(): Record<SystemMeasure, MeasureResult> {
  const m = {} as Record<SystemMeasure, MeasureResult>;
  for (const k of SYSTEM_MEASURES) m[k] = { n: 0, median_ms: null, p95_ms: null, samples: [], failures: [] };
  return m;
}

class RuntimeTurns {
  readonly results = emptyMeasures();
  givenUp: string | undefined;
  private running = false;

  constructor(readonly rt: SystemRuntime, private readonly lxcpath: string, private readonly waitMs: number) {}

  private say(text: string): void {
    process.stderr.write(`bench: system ${this.rt.key.padEnd(6)} ${text}\n`);
  }

  private ok(m: SystemMeasure, round: number, ms: number, extra: Omit<Sample, "round" | "ms"> = {}): void {
    this.results[m].samples.push({ round, ms: Math.round(ms), ...extra });
    const notes = [
      extra.ended_by,
      extra.systemd_ms === undefined ? undefined : `systemd counts ${(extra.systemd_ms / 1000).toFixed(2)} s`,
      extra.after_exit_ms === undefined ? undefined : `${extra.after_exit_ms} ms from the init's end to STOPPED`,
    ].filter(Boolean);
    this.say(`${m.padEnd(8)} ${(ms / 1000).toFixed(2)} s${notes.length ? ` (${notes.join(", ")})` : ""}`);
  }

  /** A failure: recorded with its reason, the container killed, a timed-out measure not retried. */
  private async fail(m: SystemMeasure, round: number, t0: number, e: unknown): Promise<void> {
    const reason = e instanceof TimedOut ? `timed out after ${Math.round(this.waitMs / 1000)} s: ${e.message}` : (e as Error).message;
    this.results[m].failures.push({ round, after_ms: Math.round(now() - t0), reason });
    this.say(`${m.padEnd(8)} FAILED after ${((now() - t0) / 1000).toFixed(1)} s: ${reason}`);
    if (e instanceof TimedOut) this.results[m].not_retried = `timed out in round ${round + 1}`;
    await this.rt.kill();
    this.running = false;
  }

  /** boot, reboot from inside, poweroff from inside, boot, clean stop. */
  async round(round: number): Promise<void> {
    if (this.givenUp) return;
    for (const m of ["reboot", "poweroff", "stop"] as const) {
      if (!this.running && !(await this.boot(round))) return;
      if (this.results[m].not_retried) continue;
      await this[m](round);
    }
    if (this.running) await this.stopQuietly();
  }

  private async boot(round: number): Promise<boolean> {
    const t0 = now();
    const deadline = t0 + this.waitMs;
    try {
      try {
        await this.rt.start(deadline);
      } catch (e) {
        if (e instanceof TimedOut) throw e;
        // A refused start will be refused again: nothing more to measure for this runtime.
        this.givenUp = `start refused: ${(e as Error).message}`;
        throw new Error(this.givenUp);
      }
      this.running = true;
      const settled = await this.systemd(deadline);
      if (settled.state !== "running") {
        this.results.boot.failures.push({ round, after_ms: Math.round(settled.t - t0), reason: `systemd is ${settled.state}${settled.note ? ` (${settled.note})` : ""}` });
        this.say(`boot     FAILED: systemd is ${settled.state} after ${((settled.t - t0) / 1000).toFixed(2)} s ${settled.note ?? ""}`);
        // degraded is up: the other measures can still run; maintenance or stopping is not
        if (settled.state === "degraded") return true;
        await this.rt.kill();
        this.running = false;
        return false;
      }
      this.ok("boot", round, settled.t - t0, { systemd_ms: await systemdCount(this.lxcpath) });
      return true;
    } catch (e) {
      await this.fail("boot", round, t0, e);
      if (e instanceof TimedOut) this.givenUp ??= `boot timed out after ${Math.round(this.waitMs / 1000)} s`;
      return false;
    }
  }

  private systemd(deadline: number) {
    return beforeDeadline(systemdSettled(this.lxcpath, this.rt, deadline), deadline + 15_000, "systemd not settled, nor did it say why");
  }

  private async reboot(round: number): Promise<void> {
    const old = await this.rt.initPid();
    const t0 = now();
    const deadline = t0 + this.waitMs;
    try {
      if (old === undefined) throw new Error("no init pid before the reboot");
      await attach(this.lxcpath, ["systemctl", "reboot"], 30_000);
      let pid: number | undefined;
      while (!(pid && pid !== old)) {
        if (now() > deadline) throw new TimedOut(`no new init (was pid ${old})`);
        await sleep(20);
        pid = await this.rt.initPid().catch(() => undefined);
      }
      const settled = await this.systemd(deadline);
      if (settled.state !== "running") throw new Error(`after the reboot systemd is ${settled.state}${settled.note ? ` (${settled.note})` : ""}`);
      this.ok("reboot", round, settled.t - t0, { systemd_ms: await systemdCount(this.lxcpath) });
    } catch (e) {
      await this.fail("reboot", round, t0, e);
    }
  }

  private async poweroff(round: number): Promise<void> {
    const t0 = now();
    const stopped = this.rt.whenStopped(t0 + this.waitMs);
    // Not left unhandled while the attach runs; awaited below.
    stopped.catch(() => {});
    try {
      await attach(this.lxcpath, ["systemctl", "poweroff"], 30_000);
      const { t, endedBy, afterExitMs } = await stopped;
      this.running = false;
      this.ok("poweroff", round, t - t0, { ended_by: endedBy, ...(afterExitMs === undefined ? {} : { after_exit_ms: afterExitMs }) });
    } catch (e) {
      await this.fail("poweroff", round, t0, e);
    }
  }

  private async stop(round: number): Promise<void> {
    const t0 = now();
    try {
      const ended = await this.rt.cleanStop(t0 + STOP_TIMEOUT_S * 1000 + 30_000);
      this.running = false;
      this.ok("stop", round, now() - t0, { ended_by: ended });
    } catch (e) {
      await this.fail("stop", round, t0, e);
    }
  }

  private async stopQuietly(): Promise<void> {
    await this.rt.cleanStop(now() + STOP_TIMEOUT_S * 1000 + 30_000).catch(() => this.rt.kill());
    this.running = false;
  }

  finish(): Record<SystemMeasure, MeasureResult> {
    for (const m of SYSTEM_MEASURES) {
      const r = this.results[m];
      if (r.samples.length === 0) continue;
      const s = stat(r.samples.map((x) => x.ms));
      Object.assign(r, { n: s.n, median_ms: Math.round(s.median_ms), p95_ms: Math.round(s.p95_ms) });
      const counted = r.samples.flatMap((x) => (x.systemd_ms === undefined ? [] : [x.systemd_ms]));
      if (counted.length) r.systemd_median_ms = Math.round(stat(counted).median_ms);
    }
    return this.results;
  }
}

// ---- the rootfs and its network -----------------------------------------------------------------

/**
 * A bridge of the bench's own with DHCP (dnsmasq), in place of LXC's lxcbr0: the container's
 * /etc/network/interfaces asks for DHCP on eth0, and without an answer its networking unit would
 * hold the boot up. Owned by this run, so no one else's bridge or leases are touched.
 */
async function benchNetwork(): Promise<{ bridge: string; close(): void }> {
  const bridge = `cbench${process.pid % 1_000_000}`;
  const routes = execFileSync("ip", ["-4", "route"], { encoding: "utf8" });
  // A /24 in 10.213.20-249 that no route of the host's uses yet.
  const nets = Array.from({ length: 230 }, (_, i) => 20 + ((process.pid + i) % 230));
  const net = nets.find((n) => !routes.includes(`10.213.${n}.`));
  if (net === undefined) throw new Error("no free /24 in 10.213.20.0-10.213.249.0 for the bench's bridge");
  const prefix = `10.213.${net}`;
  execFileSync("ip", ["link", "add", bridge, "type", "bridge"]);
  const close = (dnsmasq?: ReturnType<typeof spawn>) => {
    dnsmasq?.kill("SIGTERM");
    try {
      execFileSync("ip", ["link", "del", bridge], { stdio: "ignore" });
    } catch {
      process.stderr.write(`bench: system: could not remove bridge ${bridge}\n`);
    }
  };
  try {
    execFileSync("ip", ["addr", "add", `${prefix}.1/24`, "dev", bridge]);
    execFileSync("ip", ["link", "set", bridge, "up"]);
    const dnsmasq = spawn("dnsmasq", [
      "--keep-in-foreground", "--conf-file=/dev/null", "--bind-interfaces", `--listen-address=${prefix}.1`,
      `--interface=${bridge}`, "--except-interface=lo", `--dhcp-range=${prefix}.2,${prefix}.254`,
      // No ping before an offer: the container releases its lease at each shutdown, and dnsmasq's
      // check that the address is free then held some boots up 3 s (seen in networking.service).
      "--dhcp-authoritative", "--leasefile-ro", "--no-ping", "--port=0", "--pid-file=",
    ], { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    dnsmasq.stderr.on("data", (d) => (err += d));
    await sleep(200);
    if (dnsmasq.exitCode !== null) throw new Error(`dnsmasq exited ${dnsmasq.exitCode}: ${lastLine(err)}`);
    return { bridge, close: () => close(dnsmasq) };
  } catch (e) {
    close();
    throw e;
  }
}

function cgroupsNamed(name: string): number {
  let count = 0;
  for (const h of readdirSync("/sys/fs/cgroup")) {
    const base = join("/sys/fs/cgroup", h);
    let entries: string[];
    try {
      entries = readdirSync(base);
    } catch {
      continue; // a file, not a hierarchy
    }
    count += entries.filter((d) => d.includes(name)).length;
  }
  return count;
}

export interface SystemOptions {
  /** the bench's work directory: the section's lxcpath goes inside */
  work: string;
  rounds: number;
  waitSeconds: number;
}

/** The commands the section runs (installPeers installs their packages where it can). */
const NEEDS = ["lxc-create", "lxc-start", "lxc-attach", "lxc-wait", "lxc-destroy", "debootstrap", "dnsmasq", "ip"];

export async function runSystemSection(opts: SystemOptions): Promise<SystemResults> {
  const began = now();
  const missing = NEEDS.filter((cmd) => !have(cmd));
  if (!existsSync("/usr/share/lxc/templates/lxc-debian")) missing.push("/usr/share/lxc/templates/lxc-debian (lxc-templates)");
  if (missing.length) throw new Error(`the system section needs ${missing.join(", ")}`);

  const lxcpath = join(opts.work, "system");
  const waitMs = opts.waitSeconds * 1000;
  const builtCache = !existsSync(LXC_CACHE);
  if (builtCache) process.stderr.write(`bench: system: LXC has no Debian ${RELEASE} cache (${LXC_CACHE}): lxc-create builds it with debootstrap first, about 3 minutes, once per machine\n`);
  else process.stderr.write(`bench: system: lxc-create -t debian -- -r ${RELEASE} (from LXC's cache)\n`);
  let t0 = now();
  const created = await run("lxc-create", ["-P", lxcpath, "-n", NAME, "-t", "debian", "--", "-r", RELEASE], 20 * 60_000);
  const createMs = Math.round(now() - t0);
  if (created.code !== 0) throw new Error(`lxc-create -t debian failed (${created.timedOut ? "timed out" : created.code}): ${lastLine(created.stderr) || lastLine(created.stdout)}`);

  let network: Awaited<ReturnType<typeof benchNetwork>> | undefined;
  let agent: AgentUnderTest | undefined;
  let socket: AgentSocket | undefined;
  let watcher: Watcher | undefined;
  const turns: RuntimeTurns[] = [];
  let result: SystemResults;
  // Ctrl-C or a kill: lxc-start's monitor is a daemon of its own and would outlive the bench, so
  // undo what the section made before leaving, synchronously.
  const onSignal = (signal: NodeJS.Signals) => {
    process.stderr.write(`bench: system: ${signal}: removing the container, the agent and the bridge\n`);
    agent?.kill();
    for (const args of [["lxc-stop", "-k"], ["lxc-destroy"]]) {
      try {
        execFileSync(args[0]!, [...args.slice(1), "-P", lxcpath, "-n", NAME], { stdio: "ignore", timeout: 60_000 });
      } catch {
        // lxc-stop fails on a stopped container; lxc-destroy's failure leaves the rm below to do it
      }
    }
    network?.close();
    rmSync(opts.work, { recursive: true, force: true });
    process.exit(signal === "SIGINT" ? 130 : 143);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    network = await benchNetwork();
    const configPath = join(lxcpath, NAME, "config");
    const config = readFileSync(configPath, "utf8");
    const link = /^lxc\.net\.0\.link\s*=.*$/m;
    const configChanges = link.test(config) ? [`lxc.net.0.link = ${network.bridge} (was ${link.exec(config)![0].split("=")[1]!.trim()}): a bridge of the bench's own, with DHCP`] : [];
    writeFileSync(configPath, config.replace(link, `lxc.net.0.link = ${network.bridge}`));

    agent = new AgentUnderTest(lxcpath, await freePort());
    await agent.start();
    socket = await AgentSocket.open(`http://127.0.0.1:${agent.port}`, agent.token);
    const info = await socket.call<{ storeId: string; lastSeq: number }>("query", "agent.info");
    watcher = new Watcher(socket, `${info.storeId}:${info.lastSeq}`);

    const lxc = new RuntimeTurns(lxcRuntime(lxcpath), lxcpath, waitMs);
    const corral = new RuntimeTurns(corralRuntime(socket, watcher), lxcpath, waitMs);
    turns.push(lxc, corral);

    // The first boot of a fresh rootfs does first-boot work and reads it from disk: once, under
    // LXC, unmeasured, so that neither runtime's figures carry it.
    t0 = now();
    let warmup: string;
    try {
      await lxc.rt.start(t0 + waitMs);
      const settled = await beforeDeadline(systemdSettled(lxcpath, lxc.rt, t0 + waitMs), t0 + waitMs + 15_000, "systemd not settled, nor did it say why");
      warmup = `LXC boot to ${settled.state} in ${Math.round(settled.t - t0)} ms, unmeasured`;
      await lxc.rt.cleanStop(now() + 60_000);
    } catch (e) {
      warmup = `failed: ${(e as Error).message}`;
      await lxc.rt.kill();
    }
    process.stderr.write(`bench: system: warm-up ${warmup}\n`);

    const loadBefore = loadavg()[0]!;
    for (let round = 0; round < opts.rounds; round++) {
      // Alternate who goes first, so that neither always follows the other.
      for (const turn of round % 2 === 0 ? [lxc, corral] : [corral, lxc]) {
        for (const other of turns) {
          if (other === turn || (await other.rt.isStopped())) continue;
          await other.rt.kill();
          if (!(await other.rt.isStopped())) throw new Error(`${other.rt.key} still runs ${NAME}: the other runtime cannot have it`);
        }
        await turn.round(round);
      }
    }

    const lxcResults = lxc.finish();
    const corralResults = corral.finish();
    const ratios = {} as Record<SystemMeasure, number | null>;
    const meets = {} as Record<SystemMeasure, boolean | null>;
    for (const m of SYSTEM_MEASURES) {
      const a = corralResults[m].median_ms;
      const b = lxcResults[m].median_ms;
      const ratio = a !== null && b !== null && b > 0 ? Math.round((a / b) * 100) / 100 : null;
      const halted = corralResults[m].samples.every((s) => s.ended_by === undefined || s.ended_by === "halt");
      ratios[m] = ratio;
      meets[m] = ratio === null ? null : ratio <= SYSTEM_TARGETS[m] && halted && corralResults[m].failures.length === 0;
    }
    result = {
      rootfs: `Debian ${RELEASE} with systemd, made by lxc-create -t debian (LXC's template); one container directory run by both`,
      how: HOW,
      config_changes: configChanges,
      rounds: opts.rounds,
      wait_limit_s: opts.waitSeconds,
      stop_timeout_s: STOP_TIMEOUT_S,
      create_ms: createMs,
      built_lxc_cache: builtCache,
      warmup,
      lxc: lxcResults,
      corral: corralResults,
      ratios,
      targets: SYSTEM_TARGETS,
      meets_target: meets,
      load_average: { before: Math.round(loadBefore * 100) / 100, after: Math.round(loadavg()[0]! * 100) / 100 },
      given_up: Object.fromEntries(turns.filter((t) => t.givenUp).map((t) => [t.rt.key, t.givenUp])),
      left_behind_cgroups: 0,
      duration_s: 0,
    };
  } finally {
    // Whatever happened: nothing running, the agent gone, the container destroyed, the bridge removed.
    for (const t of turns) await t.rt.kill().catch(() => {});
    watcher?.close();
    socket?.close();
    await agent?.stop();
    const destroyed = await run("lxc-destroy", ["-P", lxcpath, "-n", NAME], 120_000);
    if (destroyed.code !== 0) process.stderr.write(`bench: system: lxc-destroy: ${lastLine(destroyed.stderr)}\n`);
    network?.close();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  result.left_behind_cgroups = cgroupsNamed(NAME);
  result.duration_s = Math.round((now() - began) / 1000);
  process.stderr.write(`bench: system: done in ${result.duration_s} s\n`);
  return result;
}
