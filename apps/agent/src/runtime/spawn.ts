// lxc_spawn: from a loaded config to a running init, in start.c's order, with one cleanup path
// that undoes in reverse whatever was done when a step fails. Runs in the host's namespaces.
//
//   network  gateway lookup, veth pairs created          (before clone, as start.c does)
//   cgroup   the container's cgroup made, limits written
//   clone    the child cloned into its namespaces        (runs the setup plan, stops at CONFIGURE)
//   setup    cgroup attach, veths moved in, POST_CONFIGURE, the plan runs to execve
//   exec     execve succeeded (the sync socket closed)
import { compileSeccomp, ERRNO, errnoName, isUnprivileged, serializeFilter, SIGKILL, type ContainerConfig, type StartPhase } from "@corral/core";
import { release } from "node:os";
import type { Host, HostFiles } from "../host/host.ts";
import type { Syscalls } from "../sys/syscalls.ts";
import { SyscallError } from "../sys/syscalls.ts";
import { createContainerCgroup, type ContainerCgroup } from "./cgroups.ts";
import { hierarchiesFor, planCgroupWrites, type Hierarchy } from "./cgroup-hierarchies.ts";
import { runHooks } from "./hooks.ts";
import { removeBootId, writeBootId } from "./boot-id.ts";
import { createVeths, deleteVeths, needsNetns, NetworkError, planVeths, raiseLoopback, wantsLoopbackOnly, type VethPair } from "./network.ts";
import { describeOp, encodePlan } from "./plan.ts";
import { buildSetupPlan, initEnvironment, kernelLacksPidnsReboot, type ConsoleSetup } from "./setup-plan.ts";
import { monotonicMs, stampMs, SyncChannel, SyncMessage } from "./sync.ts";
import { expected, unexpected } from "../errors.ts";
import { CLONE_NEWUSER, prepareUserns, type UsernsSetup } from "./userns.ts";

export const CLONE = { NEWNS: 0x20000, NEWUTS: 0x4000000, NEWIPC: 0x8000000, NEWPID: 0x20000000, NEWNET: 0x40000000 } as const;

/** A start that failed: the step (phase), what was being done, and the syscall and errno. */
export class StartError extends Error {
  constructor(
    readonly step: string,
    message: string,
    readonly syscall?: string,
    readonly errno?: number,
  ) {
    super(message);
    this.name = "StartError";
  }

  toDetail(): { step: string; syscall?: string; errno?: number; message: string } {
    return { step: this.step, syscall: this.syscall, errno: this.errno, message: this.message };
  }
}

export interface SpawnRequest {
  name: string;
  config: ContainerConfig;
  rootfs: string;
  argv: string[];
  console: { kind: "inherit" } | { kind: "pty"; slaveFd: number };
  /** the slaves of the container's ttys (lxc.tty.max), tty1 first */
  ttySlaveFds?: number[];
  hierarchies: readonly Hierarchy[];
  /** aborted when the start is to be abandoned (lxc_abort during STARTING) */
  signal?: AbortSignal;
  /** the config file, for the hooks' LXC_CONFIG_FILE */
  configFile: string;
  /** the cgroup name STARTING recorded (freeCgroupName) */
  cgroupName?: string;
  /** called with the pid as soon as the child exists; returns its exit (raw wait status) */
  onPid(pid: number): Promise<number>;
}

export interface SpawnedInit {
  pid: number;
  cgroup: ContainerCgroup;
  veths: VethPair[];
  phases: StartPhase[];
}

/**
 * Namespaces for the child: UTS, PID, IPC and mount always, network when one is configured, user
 * for an unprivileged container (lxc.idmap): cloned together, the others are owned by the new
 * user namespace, so that root inside may administer them.
 */
export function cloneFlags(config: ContainerConfig): number {
  const base = CLONE.NEWNS | CLONE.NEWUTS | CLONE.NEWIPC | CLONE.NEWPID | (isUnprivileged(config) ? CLONE_NEWUSER : 0);
  return needsNetns(config.net) ? base | CLONE.NEWNET : base;
}

function asStartError(step: string, e: unknown): StartError {
  if (e instanceof StartError) return e;
  if (e instanceof SyscallError) return new StartError(step, e.message, e.call, e.errno);
  if (e instanceof NetworkError) return new StartError("network", e.message, e.errno === undefined ? undefined : "netlink", e.errno);
  return new StartError(step, e instanceof Error ? e.message : String(e));
}

/** Things to undo, last made first undone. */
class Undo {
  private readonly steps: Array<() => void | Promise<void>> = [];
  push(step: () => void | Promise<void>): void {
    this.steps.push(step);
  }
  async run(): Promise<void> {
    for (const step of this.steps.reverse()) {
      try {
        await step();
      } catch (e) {
        // Keep undoing: one leftover must not leave the others behind.
        unexpected("undoing a failed start", e);
      }
    }
    this.steps.length = 0;
  }
  clear(): void {
    this.steps.length = 0;
  }
}

function checkRootfs(files: HostFiles, rootfs: string): string {
  const st = files.stat(rootfs);
  if (!st) throw new StartError("setup", `rootfs ${rootfs} does not exist`, "stat", ERRNO.ENOENT);
  if (!st.isDirectory) throw new StartError("setup", `rootfs ${rootfs} is not a directory`, "stat", ERRNO.ENOTDIR);
  return files.realpath(rootfs);
}

/** A seccomp policy is a list of syscalls: LXC's own is 2 KiB. */
const SECCOMP_PROFILE_MAX_BYTES = 1024 * 1024;

function seccompFilter(files: HostFiles, config: ContainerConfig): Uint8Array | undefined {
  if (!config.seccompProfile) return undefined;
  try {
    return serializeFilter(compileSeccomp(files.readNamedFile(config.seccompProfile, SECCOMP_PROFILE_MAX_BYTES)).filter);
  } catch (e) {
    throw new StartError("setup", `seccomp profile ${config.seccompProfile}: ${(e as Error).message}`);
  }
}

/** The timed phases of a start, on CLOCK_MONOTONIC so that the child's stamps line up. */
class Stopwatch {
  private last = monotonicMs();
  readonly phases: StartPhase[] = [];

  lap(name: StartPhase["name"], now = monotonicMs()): void {
    this.phases.push({ name, ms: Math.round((now - this.last) * 1000) / 1000 });
    this.last = now;
  }
}

/** The moments the child stamped (its first op, and just before execve). */
interface ChildStamps {
  started?: number;
  setupDone?: number;
}

export async function spawnContainer(sys: Syscalls, host: Host, req: SpawnRequest): Promise<SpawnedInit> {
  const files = host.files;
  const undo = new Undo();
  const clock = new Stopwatch();
  let step = "pre-start";
  try {
    // lxc_init runs the pre-start hooks once STARTING is set, before anything is made.
    await runHooks(host.processes, "pre-start", req.config.hooks.preStart, { name: req.name, configFile: req.configFile, rootfs: req.rootfs });
    checkAborted(req.signal);
    step = "network";
    const rootfs = checkRootfs(files, req.rootfs);
    const seccomp = seccompFilter(files, req.config);
    const veths = planVeths(sys, req.config.net);
    clock.lap("network");

    checkAborted(req.signal);
    step = "cgroup";
    const hierarchies = hierarchiesFor(req.config.cgroups, req.hierarchies);
    const writes = planCgroupWrites(req.config.cgroups, hierarchies);
    const cgroup = createContainerCgroup(sys, files, hierarchies, req.name, req.cgroupName);
    undo.push(() => void cgroup.destroy());
    cgroup.apply(writes);
    const bornInV2 = cgroup.hasV2();
    clock.lap("cgroup");

    step = "clone";
    const console: ConsoleSetup = req.console.kind === "pty"
      // The path, not /proc/self/fd/N: a bind source must be a mount of the child's own namespace.
      ? { kind: "pty", slaveFd: req.console.slaveFd, slavePath: files.readlink(`/proc/self/fd/${req.console.slaveFd}`) }
      : { kind: "inherit" };
    const ttys = (req.ttySlaveFds ?? []).map((fd) => files.readlink(`/proc/self/fd/${fd}`));
    let userns: UsernsSetup | undefined;
    if (isUnprivileged(req.config)) {
      const setup = prepareUserns(sys, files, rootfs, req.config.idmap);
      userns = setup;
      undo.push(() => closeRootfsTree(sys, setup));
      delegateToRoot(files, cgroup, userns, console.kind === "pty" ? [console.slavePath, ...ttys] : ttys);
    }
    // The CONFIGURE / POST_CONFIGURE barrier only when the parent has work to do in between.
    const loopbackOnly = wantsLoopbackOnly(req.config.net);
    const syncWithParent = veths.length > 0 || loopbackOnly || cgroup.needsAttach(bornInV2);
    let bootIdPath: string | undefined;
    if (req.config.mountAuto.proc) {
      bootIdPath = writeBootId(files, cgroup.name);
      undo.push(() => removeBootId(files, cgroup.name));
    }
    const plan = buildSetupPlan({
      config: req.config,
      rootfs,
      hostname: req.config.utsname ?? req.name,
      argv: req.argv,
      env: initEnvironment(req.config, process.env),
      console,
      ttys,
      seccomp,
      dropCapSysBoot: kernelLacksPidnsReboot(release()),
      syncWithParent,
      cgroup2: bornInV2,
      ownNetns: needsNetns(req.config.net),
      bootIdPath,
      userns: userns && { rootfsTree: userns.rootfsTree },
    });
    const [parentFd, childFd] = sys.socketpair();
    const cgroupFd = bornInV2 ? cgroup.openV2() : -1;
    const spawnedAt = monotonicMs();
    let pid: number;
    try {
      pid = sys.spawn(encodePlan(plan), cloneFlags(req.config), childFd, parentFd, cgroupFd, userns?.maps);
    } finally {
      sys.close(childFd);
      if (cgroupFd >= 0) files.close(cgroupFd);
      // The child has its own copy: ours must not outlive the start.
      if (userns) closeRootfsTree(sys, userns);
    }
    const exited = req.onPid(pid);
    const sync = new SyncChannel(host.streams.socket(parentFd));
    // The child runs in our memory (CLONE_VM) until its sync socket closes at exec or exit.
    let released = false;
    const releaseChild = () => {
      if (!released) sys.release(pid);
      released = true;
    };
    undo.push(() => {
      sync.close();
      releaseChild();
    });
    // The cgroup can only go once the child has been reaped: kill it and wait for that.
    undo.push(async () => {
      try {
        sys.kill(pid, SIGKILL);
      } catch (e) {
        expected(e, ["ESRCH"], "killing the child of a failed start");
      }
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    });
    const stamps: ChildStamps = {};
    checkAborted(req.signal);
    if (syncWithParent) {
      await expectMessage(sync, SyncMessage.Configure, plan, stamps);
      step = "setup";
      cgroup.attach(pid, bornInV2);
      if (veths.length > 0) {
        // On failure createVeths deletes what it made; only made pairs are undone here (a planned
        // host name may be a link of the host's own).
        createVeths(sys, pid, veths);
        undo.push(() => void deleteVeths(sys, veths));
      }
      if (loopbackOnly) raiseLoopback(sys, pid);
      sync.send(SyncMessage.PostConfigure);
    }
    step = "setup";
    await expectMessage(sync, "eof", plan, stamps);
    checkAborted(req.signal);
    const execDone = monotonicMs();
    sync.close();
    releaseChild();
    clock.lap("clone", stamps.started ?? spawnedAt);
    clock.lap("setup", stamps.setupDone ?? execDone);
    clock.lap("exec", execDone);
    undo.clear();
    return { pid, cgroup, veths, phases: clock.phases };
  } catch (e) {
    await undo.run();
    throw asStartError(step, e);
  }
}

/**
 * What root inside an unprivileged container must own on the host, as LXC gives it: its cgroup
 * (to make a subtree and move its processes) and its console and ttys (a getty opens them anew).
 */
function delegateToRoot(files: HostFiles, cgroup: ContainerCgroup, userns: UsernsSetup, ptys: readonly string[]): void {
  cgroup.delegate(userns.rootUid, userns.rootGid);
  for (const pty of ptys) files.chown(pty, userns.rootUid, userns.rootGid);
}

function closeRootfsTree(sys: Syscalls, userns: UsernsSetup): void {
  if (userns.rootfsTree === undefined) return;
  sys.close(userns.rootfsTree);
  userns.rootfsTree = undefined;
}

type Plan = ReturnType<typeof buildSetupPlan>;

function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new StartError("abort", "the start was aborted");
}

function childError(plan: Plan, index: number, errno: number): StartError {
  const op = plan[index];
  const what = op ? `${op.why} (${describeOp(op)})` : "the plan ended without exec";
  const phase = op?.op === "exec" ? "exec" : "setup";
  // After the child became root in its user namespace, it walks host paths as host uid 100000 (or so).
  const inUserns = plan.some((o) => o.op === "sync_wait" && o.barrier === (SyncMessage.IdMapped as number));
  const hint = inUserns && errno === ERRNO.EACCES && op?.op === "mount" && !op.sourceInRoot && op.source.startsWith("/")
    ? `; in a user namespace, ${op.source} must be reachable by the container's root (every directory on its way searchable by others, as LXC needs)`
    : "";
  return new StartError(phase, `${what}: ${errnoName(errno)} (${errno})${hint}`, op?.op, errno);
}

/**
 * Read the child's messages until the one expected ("eof": execve succeeded), noting its stamps
 * on the way; an ERROR names the op that failed.
 */
async function expectMessage(sync: SyncChannel, expected: SyncMessage | "eof", plan: Plan, stamps: ChildStamps): Promise<void> {
  for (;;) {
    const e = await sync.next();
    if (e.type === "eof") {
      if (expected === "eof") return;
      throw new StartError("clone", "the child exited before it reached its namespaces");
    }
    const message: number = e.message;
    if (message === (SyncMessage.Error as number)) throw childError(plan, e.a, e.b);
    if (message === (SyncMessage.Started as number)) stamps.started = stampMs(e.a, e.b);
    else if (message === (SyncMessage.SetupDone as number)) stamps.setupDone = stampMs(e.a, e.b);
    else if (message === (expected as number)) return;
    else throw new StartError("setup", `sync protocol: unexpected message ${e.message}, waiting for ${expected === "eof" ? "exec" : SyncMessage[expected]}`);
  }
}
