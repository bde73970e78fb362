// __lxc_start's end and lxc_end: the one way out of a run, for a start that failed and an init
// that has been reaped alike. A run someone asked to end ends as they asked; one that ended by
// itself says how (core's stopReason: SIGHUP from its reboot(2) = reboot, SIGINT = halt, an OOM
// kill in its cgroup, a kill from outside corral, else its own exit), in STOPPED's detail.stop.
// STOPPING, then the cgroup (with anything left in it), veths, boot id and console go, the
// post-stop hooks run, STOPPED, and for a reboot the next run starts.
import { decodeWaitStatus, selfStopCause, shellExitCode, signalName, SIGINT, stopReason, type EventCause, type EventDetail } from "@corral/core";
import { expected } from "../errors.ts";
import { removeBootId } from "./boot-id.ts";
import type { RuntimeContext } from "./context.ts";
import { runHooks } from "./hooks.ts";
import { endingOf, resolveExit, runEnded, type Instance } from "./instance.ts";
import { deleteVeths } from "./network.ts";

export async function initExited(ctx: RuntimeContext, inst: Instance, status: number): Promise<void> {
  const asked = endingOf(inst);
  clearTimeout(asked?.killTimer);
  inst.pid = undefined;
  const decoded = decodeWaitStatus(status);
  const signal = "signaled" in decoded ? decoded.signal : undefined;
  // read before the cgroup goes: an OOM kill is told apart from a kill from outside by it
  const stop = stopReason({ status, asked, oomKills: oomKillsOf(inst) });
  const reboot = stop.reason === "rebooted";
  const cause = asked?.cause ?? selfStopCause(stop);
  // From here a stop or an abort joins this ending instead of signalling an init that is gone
  // (and a stop overrules the reboot).
  const ending = asked ?? { cause, restart: reboot, done: runEnded(inst).then(() => undefined) };
  inst.phase = { kind: "ending", ending };
  const detail: EventDetail = {
    exitStatus: status,
    exitCode: shellExitCode(status),
    ...(signal !== undefined ? { signal: signalName(signal) } : {}),
    ...(signal === SIGINT ? { halt: true } : {}),
    ...(reboot ? { reboot: true } : {}),
  };
  if (inst.state !== "STOPPING") ctx.journal.record(inst, "STOPPING", cause, detail);
  inst.lastExit = { status, code: shellExitCode(status), at: Date.now() };
  // A reboot starts again before the run's waiters hear of its end: they find it STARTING, not
  // STOPPED (corral run stays in the run), as lxc-start -F does.
  await endRun(ctx, inst, cause, { ...detail, stop }, status, () => {
    if (ending.restart) void ctx.restart(inst, ending.cause);
  });
}

/** The OOM kills in the run's cgroup; 0 when it cannot be read (no memory controller here). */
function oomKillsOf(inst: Instance): number {
  try {
    return inst.cgroup?.oomKills() ?? 0;
  } catch (e) {
    expected(e, ["ENOENT"], `reading ${inst.name}'s OOM kills`);
    return 0;
  }
}

/**
 * lxc_end, after a failed start (status -1) or a reaped init: what the run held goes, the
 * post-stop hooks run (as LXC runs them for any start that got past STARTING), STOPPED is
 * recorded, the phase is idle again, `next` runs (a reboot's next start), and then whoever waits
 * for the run hears its status.
 */
export async function endRun(ctx: RuntimeContext, inst: Instance, cause: EventCause, detail: EventDetail, status: number, next?: () => void): Promise<void> {
  const leftover = await release(ctx, inst);
  if (leftover) detail.leftover = leftover;
  const hookError = await postStop(ctx, inst);
  if (hookError) detail.hookError = hookError;
  inst.phase = { kind: "idle" };
  ctx.journal.record(inst, "STOPPED", cause, detail);
  next?.();
  resolveExit(inst, status);
}

/** What the run held goes: the cgroup (with anything left in it), veths, boot id, console, ttys. What stayed, if any. */
async function release(ctx: RuntimeContext, inst: Instance): Promise<string | undefined> {
  const cgroup = inst.cgroup;
  let leftover: string | undefined;
  if (cgroup) {
    if (!(await cgroup.remove())) leftover = `cgroup ${cgroup.name} could not be removed (busy)`;
    removeBootId(ctx.host.files, cgroup.name);
    inst.cgroup = undefined;
  }
  if (inst.veths.length > 0) deleteVeths(ctx.sys, inst.veths);
  inst.veths = [];
  inst.pid = undefined;
  await inst.console?.drain();
  inst.console = undefined;
  inst.ttys?.close();
  inst.ttys = undefined;
  return leftover;
}

/** lxc.hook.post-stop, once the container is gone; a failure is reported, not fatal. */
async function postStop(ctx: RuntimeContext, inst: Instance): Promise<string | undefined> {
  const hooks = inst.config?.hooks.postStop ?? [];
  if (hooks.length === 0) return undefined;
  try {
    await runHooks(ctx.host.processes, "post-stop", hooks, { name: inst.name, configFile: ctx.lxcpath.configPath(inst.name), rootfs: ctx.lxcpath.rootfs(inst.name, inst.config!) });
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}
