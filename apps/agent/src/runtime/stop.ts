// Ending a run from outside: lxc-stop (the halt signal, SIGKILL after the timeout), "kill now",
// lxc_abort (SIGKILL to the whole cgroup at once) and lxc-stop -r (the reboot signal). Each only
// sends signals and records the change; fini.ts takes over once the init has been reaped.
import { DEFAULT_SIGNALS, haltSignal, initHandles, signalName, SIGKILL, type EventCause } from "@corral/core";
import type { RuntimeContext } from "./context.ts";
import { runEnded, type Instance, type StopOptions } from "./instance.ts";
import { signalMasks } from "./signals.ts";

/** How long an init that handles the reboot signal gets to end before it is killed. */
export const REBOOT_TIMEOUT_MS = 10_000;

/**
 * lxc-stop: the halt signal, then SIGKILL to the whole cgroup once the timeout passes. Stopping a
 * container that is already stopping joins that stop; one still STARTING is aborted. The halt
 * signal is chosen as LXC's shutdown does (haltSignal: SIGRTMIN+3 for systemd). An init that
 * neither catches nor blocks it would never see it (the kernel drops unhandled signals to a PID
 * namespace's init), so it is killed at once instead of after a pointless wait.
 */
export function stop(ctx: RuntimeContext, inst: Instance, opts: StopOptions): Promise<void> {
  if (inst.stopping) return inst.stopping;
  if (inst.state === "STARTING") return abort(ctx, inst, opts.cause);
  const masks = signalMasks(ctx.host.files, inst.pid);
  const halt = haltSignal(inst.config?.signals.halt, masks);
  const handled = initHandles(masks, halt);
  const timeoutMs = handled ? opts.timeoutMs : 0;
  inst.stopCause = opts.cause;
  ctx.journal.record(inst, "STOPPING", opts.cause, {
    signal: signalName(timeoutMs > 0 ? halt : inst.config?.signals.stop ?? DEFAULT_SIGNALS.stop),
    timeoutMs,
    killAt: Date.now() + timeoutMs,
    ...(handled ? {} : { note: `the init does not handle ${signalName(halt)}: killed at once` }),
  });
  // A frozen init cannot handle the halt signal, nor die of SIGKILL, until thawed.
  if (inst.cgroup?.isFrozen()) inst.cgroup.setFrozen(false);
  if (timeoutMs > 0) {
    trySignal(ctx, inst, halt);
    inst.stopTimer = setTimeout(() => sendStopSignal(ctx, inst), timeoutMs);
  } else {
    sendStopSignal(ctx, inst);
  }
  inst.stopping = runEnded(inst).then(() => undefined);
  return inst.stopping;
}

/** Skip the rest of a running stop's timeout: SIGKILL to every process, whatever lxc.signal.stop says. */
export function killNow(ctx: RuntimeContext, inst: Instance, cause: EventCause): Promise<void> | undefined {
  if (!inst.stopping) return undefined;
  inst.stopCause = cause;
  clearTimeout(inst.stopTimer);
  killAll(ctx, inst);
  return inst.stopping;
}

/**
 * lxc_abort: ABORTING, then SIGKILL to every process of the container at once. It goes through
 * whatever the store says (it frees what the container holds). During STARTING the start path
 * undoes what it made and ends in STOPPED; after it, fini passes through STOPPING.
 */
export function abort(ctx: RuntimeContext, inst: Instance, cause: EventCause): Promise<void> {
  inst.stopCause = cause;
  clearTimeout(inst.stopTimer);
  ctx.journal.record(inst, "ABORTING", cause, { signal: "SIGKILL" });
  inst.startAbort?.abort();
  killAll(ctx, inst);
  inst.stopping ??= runEnded(inst).then(() => undefined);
  return inst.stopping;
}

/**
 * lxc-stop -r: the reboot signal to an init that catches or blocks it (a system init then calls
 * reboot(2), which ends it with SIGHUP); an init that does not handle it is killed. Either way the
 * container starts again once the init has ended, however it ended: an application init that
 * simply exits on the signal (a shell exits on SIGINT) is rebooted too, since a reboot was asked
 * for. One that handles the signal and stays is killed after the reboot timeout.
 */
export function reboot(ctx: RuntimeContext, inst: Instance, cause: EventCause, timeoutMs: number): void {
  const sig = inst.config?.signals.reboot ?? DEFAULT_SIGNALS.reboot;
  inst.restartRequested = cause;
  if (inst.pid !== undefined && initHandles(signalMasks(ctx.host.files, inst.pid), sig)) {
    trySignal(ctx, inst, sig);
    clearTimeout(inst.stopTimer);
    inst.stopTimer = setTimeout(() => killAll(ctx, inst), timeoutMs);
    return;
  }
  killAll(ctx, inst);
}

/** The end of a stop: lxc.signal.stop to the init, or by default SIGKILL to the whole cgroup. */
function sendStopSignal(ctx: RuntimeContext, inst: Instance): void {
  const signal = inst.config?.signals.stop ?? DEFAULT_SIGNALS.stop;
  if (signal === SIGKILL) killAll(ctx, inst);
  else trySignal(ctx, inst, signal);
}

function trySignal(ctx: RuntimeContext, inst: Instance, signal: number): void {
  if (inst.pid === undefined) return;
  try {
    ctx.sys.kill(inst.pid, signal);
  } catch {
    // It is exiting already.
  }
}

/** SIGKILL to every process of the container (thawed first: a frozen task cannot die). */
function killAll(ctx: RuntimeContext, inst: Instance): void {
  if (inst.cgroup) {
    try {
      if (inst.cgroup.isFrozen()) inst.cgroup.setFrozen(false);
      inst.cgroup.killAll();
    } catch {
      // fall back to the init alone
    }
  }
  trySignal(ctx, inst, SIGKILL);
}
