// lxc_init and lxc_spawn: a start from its guards to RUNNING. The config is loaded and checked
// before anything changes (a bad config is a refusal, not a failed start); STARTING records the
// cgroup name first, so that an agent that dies mid-start leaves nothing its successor cannot
// find; spawn.ts does the namespaces, cgroups, veths and the child; any failure ends in ABORTING
// then STOPPED with the error, through one release path.
import { freeCgroupName } from "./cgroups.ts";
import { CgroupError, hierarchiesFor, layoutOf, planCgroupWrites, type CgroupLayout } from "./cgroup-hierarchies.ts";
import type { ContainerConfig, EventCause } from "@corral/core";
import { apparmorRefusal, apparmorWarning } from "./apparmor.ts";
import { ConsoleCapture, RingBuffer, TtySet } from "./console.ts";
import type { RuntimeContext } from "./context.ts";
import { endRun } from "./fini.ts";
import { Refusal, type Instance, type RunPhase, type StartOptions } from "./instance.ts";
import type { LoadedConfig } from "../containers/lxcpath.ts";
import { spawnContainer, StartError } from "./spawn.ts";
import { TurnQueue } from "./turns.ts";
import { expected } from "../errors.ts";

type StartingPhase = Extract<RunPhase, { kind: "starting" }>;

/** The starts of this process waiting to make their container, one a turn. */
const spawnTurns = new TurnQueue();

/** Load and check the config before anything changes: a bad config is a refusal, not a failed start. */
export function loadForStart(ctx: RuntimeContext, name: string): LoadedConfig {
  const loaded = ctx.lxcpath.load(name);
  if (loaded.unsupported.length > 0) {
    const list = loaded.unsupported.map((u) => `${u.key} (${u.file}:${u.line}): ${u.message}`).join("; ");
    throw new Refusal(`${name}: the config asks for what corral cannot enforce: ${list}`, "BAD_REQUEST");
  }
  if (loaded.config.hooks.start.length > 0) {
    // LXC runs it in the container just before the init; corral's child runs no program but
    // the init (no JavaScript, no fork, between clone and exec), so it cannot.
    throw new Refusal(`${name}: lxc.hook.start cannot be run by corral (it would run inside the container before the init); wrap the init with lxc.init.cmd instead`, "BAD_REQUEST");
  }
  const apparmor = apparmorRefusal(loaded.config.apparmorProfile, ctx.appArmor);
  if (apparmor) throw new Refusal(`${name}: ${apparmor}`, "BAD_REQUEST");
  try {
    // A value the config accepts may need a controller this host lacks: said now, as a bad request.
    planCgroupWrites(loaded.config.cgroups, hierarchiesFor(loaded.config.cgroups, ctx.hierarchies));
  } catch (e) {
    if (!(e instanceof CgroupError)) throw e;
    throw new Refusal(`${name}: ${e.message}`, "BAD_REQUEST");
  }
  return loaded;
}

/** Start a container that the guards let start; resolves once it is RUNNING. */
export async function start(ctx: RuntimeContext, inst: Instance, opts: StartOptions): Promise<void> {
  const { config, warnings } = loadForStart(ctx, inst.name);
  const argv = opts.command && opts.command.length > 0 ? opts.command : config.init.cmd ?? ["/sbin/init"];
  const notes = [...warnings.map((w) => `${w.key}: ${w.message}`), ...runtimeWarnings(config, layoutOf(ctx.hierarchies), ctx.appArmor)];
  const cgroup = plannedCgroup(ctx, inst.name, config);
  ctx.journal.request(inst, "STARTING", opts.cause, { command: argv, cgroup, ...(notes.length ? { warnings: notes } : {}) });
  inst.phase = { kind: "starting", abort: new AbortController() };
  inst.config = config;
  inst.command = argv;
  inst.consoleMode = opts.console ?? "pty";
  inst.consoleSize = opts.consoleSize;
  await spawnInstance(ctx, inst, opts.cause, cgroup);
}

/** A reboot: the same config and command, started again once the last run has ended. */
export async function restart(ctx: RuntimeContext, inst: Instance, cause: EventCause): Promise<void> {
  try {
    const cgroup = plannedCgroup(ctx, inst.name, inst.config!);
    inst.phase = { kind: "starting", abort: new AbortController() };
    ctx.journal.record(inst, "STARTING", cause, { reboot: true, command: inst.command, cgroup });
    await spawnInstance(ctx, inst, cause, cgroup);
  } catch (e) {
    // A failed start is reported as ABORTING then STOPPED (StartError, or Refusal for an abort);
    // anything else (no cgroup name free) kept it from starting at all: it stays STOPPED.
    expected(e, [StartError, Refusal], `restarting ${inst.name} for its reboot`);
  }
}

/**
 * The cgroup name this start will use, recorded in STARTING: if the agent dies before RUNNING,
 * the next one finds and removes it (recovery.ts).
 */
function plannedCgroup(ctx: RuntimeContext, name: string, config: ContainerConfig): string {
  return freeCgroupName(ctx.host.files, hierarchiesFor(config.cgroups, ctx.hierarchies), name);
}

async function spawnInstance(ctx: RuntimeContext, inst: Instance, cause: EventCause, cgroupName: string): Promise<void> {
  const config = inst.config!;
  const phase = inst.phase;
  if (phase.kind !== "starting") throw new Error(`${inst.name}: spawn outside a start (phase ${phase.kind})`);
  try {
    // Each start's making (console, hooks, cgroups, the clone) begins in a turn of the event loop
    // of its own (turns.ts): a thousand start requests read off one socket at once would otherwise
    // open their consoles and clone back to back, and every event recorded meanwhile (another
    // container's RUNNING) would reach its subscribers only after all of them.
    await spawnTurns.next();
    // like LXC, ttys live on the /dev corral makes (lxc.autodev)
    if (config.autodev && config.ttyMax > 0) inst.ttys = new TtySet(ctx.sys, config.ttyMax);
    const slave = inst.consoleMode === "pty" ? openConsole(ctx, inst) : undefined;
    const spawned = await spawnContainer(ctx.sys, ctx.host, {
      name: inst.name,
      config,
      rootfs: ctx.lxcpath.rootfs(inst.name, config),
      argv: inst.command!,
      console: slave !== undefined ? { kind: "pty", slaveFd: slave } : { kind: "inherit" },
      ttySlaveFds: inst.ttys?.slaves() ?? [],
      hierarchies: ctx.hierarchies,
      signal: phase.abort.signal,
      configFile: ctx.lxcpath.configPath(inst.name),
      cgroupName,
      onPid: (pid) => {
        inst.pid = pid;
        inst.exit = ctx.reaper.watch(pid);
        inst.console?.read();
        return inst.exit;
      },
    });
    inst.cgroup = spawned.cgroup;
    inst.veths = spawned.veths;
    inst.startedAt = Date.now();
    inst.phase = { kind: "running" };
    // The cgroup and veth names are what a restarted agent needs to clean up after a crash.
    ctx.journal.record(inst, "RUNNING", cause, { pid: spawned.pid, phases: spawned.phases, cgroup: spawned.cgroup.name, veths: spawned.veths.map((v) => v.hostName) });
    // An init that already exited is handled now, after RUNNING, as LXC reports it.
    void inst.exit!.then((status) => ctx.initExited(inst, status));
  } catch (e) {
    await failStart(ctx, inst, phase, cause, e);
  }
}

/** The console pty, kept by the agent for the whole run (console.ts says why); the slave's fd. */
function openConsole(ctx: RuntimeContext, inst: Instance): number {
  const { master, slave } = ctx.sys.openpty();
  inst.ring = new RingBuffer();
  inst.console = new ConsoleCapture(ctx.host.files, master, slave, inst.ring, inst.config!.console.logfile);
  if (inst.consoleSize) ctx.sys.setWindowSize(master, inst.consoleSize.rows, inst.consoleSize.cols);
  inst.console.subscribe((data) => ctx.consoleOutput(inst.name, data));
  return slave;
}

/** A start that did not reach RUNNING: ABORTING, then the one way out of a run (fini.ts), and throw. */
async function failStart(ctx: RuntimeContext, inst: Instance, phase: StartingPhase, cause: EventCause, e: unknown): Promise<never> {
  const aborted = phase.abort.signal.aborted;
  const failure = e instanceof StartError ? e : new StartError("setup", (e as Error).message);
  // What an abort broke (a veth whose namespace died: ESRCH) is the abort's doing, not a fault.
  const err = aborted ? new StartError("abort", `aborted during ${failure.step}: ${failure.message}`) : failure;
  // An abort during STARTING has said ABORTING already, with its own cause.
  const endCause = phase.ending?.cause ?? cause;
  if (inst.state !== "ABORTING") ctx.journal.record(inst, "ABORTING", cause, { error: err.toDetail() });
  await endRun(ctx, inst, endCause, { error: err.toDetail(), stop: { reason: "start-failed", step: err.step, message: err.message } }, -1);
  // The start's caller hears of the abort as a conflict with another request.
  if (aborted) throw new Refusal(`${inst.name}: the start was aborted (${endCause.actor}${endCause.request ? `: ${endCause.request}` : ""})`);
  throw err;
}

/** What corral leaves out of a config it otherwise runs, said at every start. */
export function runtimeWarnings(config: ContainerConfig, layout: CgroupLayout, kernelHasAppArmor: boolean): string[] {
  const notes: string[] = [];
  const apparmor = apparmorWarning(config.apparmorProfile, kernelHasAppArmor);
  if (apparmor) notes.push(apparmor);
  const cgroup = config.mountAuto.cgroup;
  if (cgroup && layout === "legacy") notes.push(`lxc.mount.auto ${cgroup}: corral mounts only a cgroup2 tree, and this host has no cgroup2 hierarchy`);
  else if (cgroup && !config.mountAuto.sys) notes.push(`lxc.mount.auto ${cgroup}: needs sys in lxc.mount.auto, to mount on /sys/fs/cgroup`);
  else if (cgroup && layout === "hybrid") notes.push(`lxc.mount.auto ${cgroup}: /sys/fs/cgroup is the container's cgroup2 tree; this host's cgroup v1 controllers are not mounted inside`);
  if (config.ttyMax > 0 && !config.autodev) notes.push(`lxc.tty.max = ${config.ttyMax}: corral makes ttys only on the /dev it makes (lxc.autodev = 1)`);
  return notes;
}
