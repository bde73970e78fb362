// __lxc_start's end and lxc_fini: the init has been reaped. Its wait status says how the run
// ended (SIGHUP from its reboot(2) = reboot, SIGINT = halt, else its own exit); STOPPING, then
// the cgroup (with anything left in it), veths, boot id and console go, the post-stop hooks run,
// STOPPED, and for a reboot the next run starts.
import { decodeWaitStatus, shellExitCode, signalName, SIGHUP, SIGINT, type EventDetail } from "@corral/core";
import { removeBootId } from "./boot-id.ts";
import type { RuntimeContext } from "./context.ts";
import { runHooks } from "./hooks.ts";
import { resolveExit, type Instance } from "./instance.ts";
import { deleteVeths } from "./network.ts";
import { exitWords } from "./signals.ts";

export async function initExited(ctx: RuntimeContext, inst: Instance, status: number): Promise<void> {
  clearTimeout(inst.stopTimer);
  inst.pid = undefined;
  const decoded = decodeWaitStatus(status);
  const signal = "signaled" in decoded ? decoded.signal : undefined;
  const reboot = signal === SIGHUP || inst.restartRequested !== undefined;
  const cause = inst.restartRequested ?? inst.stopCause ?? { actor: "init", request: exitWords(status) };
  const detail: EventDetail = {
    exitStatus: status,
    exitCode: shellExitCode(status),
    ...(signal !== undefined ? { signal: signalName(signal) } : {}),
    ...(signal === SIGINT ? { halt: true } : {}),
    ...(reboot ? { reboot: true } : {}),
  };
  if (inst.state !== "STOPPING") ctx.journal.record(inst, "STOPPING", cause, detail);
  const leftover = await release(ctx, inst);
  if (leftover) detail.leftover = leftover;
  const hookError = await postStop(ctx, inst);
  if (hookError) detail.hookError = hookError;
  inst.lastExit = { status, code: shellExitCode(status), at: Date.now() };
  inst.stopCause = undefined;
  inst.restartRequested = undefined;
  inst.stopping = undefined;
  ctx.journal.record(inst, "STOPPED", cause, detail);
  resolveExit(inst, status);
  if (reboot) void ctx.restart(inst, cause);
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
