// Ending a run from outside: lxc-stop (the halt signal, SIGKILL after the timeout), "kill now",
// lxc_abort (SIGKILL to the whole cgroup at once) and lxc-stop -r (the reboot signal). Each moves
// the run to its ending phase (instance.ts), sends signals and records the change; fini.ts takes
// over once the init has been reaped.
import { DEFAULT_SIGNALS, haltSignal, initHandles, signalName, SIGKILL, type EventCause } from "@corral/core";
import type { RuntimeContext } from "./context.ts";
import { endingOf, runEnded, type Ending, type Instance, type StopOptions } from "./instance.ts";
import { signalMasks } from "./signals.ts";
import { expected } from "../errors.ts";

/** How long an init that handles the reboot signal gets to end before it is killed. */
export const REBOOT_TIMEOUT_MS = 10_000;

/**
 * lxc-stop: the halt signal, then SIGKILL to the whole cgroup once the timeout passes. A stop of
 * a container that is already ending joins that ending (and overrules a reboot: it stays down);
 * one still STARTING is aborted. The halt signal is chosen as LXC's shutdown does (haltSignal:
 * SIGRTMIN+3 for systemd). An init that neither catches nor blocks it would never see it (the
 * kernel drops unhandled signals to a PID namespace's init), so it is killed at once instead of
 * after a pointless wait.
 */
export function stop(ctx: RuntimeContext, inst: Instance, opts: StopOptions): Promise<void> {
  const phase = inst.phase;
  if (phase.kind === "starting") return abort(ctx, inst, opts.cause);
  if (phase.kind === "ending") return overruleReboot(phase.ending, opts.cause);
  const masks = signalMasks(ctx.host.files, inst.pid);
  const halt = haltSignal(inst.config?.signals.halt, masks);
  const handled = initHandles(masks, halt);
  const timeoutMs = handled ? opts.timeoutMs : 0;
  const ending = beginEnding(inst, opts.cause, false);
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
    ending.killTimer = setTimeout(() => sendStopSignal(ctx, inst), timeoutMs);
  } else {
    sendStopSignal(ctx, inst);
  }
  return ending.done;
}

/** Skip the rest of an ending's timeout: SIGKILL to every process, whatever lxc.signal.stop says. */
export function killNow(ctx: RuntimeContext, inst: Instance, cause: EventCause): Promise<void> | undefined {
  const ending = endingOf(inst);
  if (!ending) return undefined;
  ending.cause = cause;
  clearTimeout(ending.killTimer);
  killAll(ctx, inst);
  return ending.done;
}

/**
 * lxc_abort: ABORTING, then SIGKILL to every process of the container at once. It goes through
 * whatever the store says (it frees what the container holds), and overrules a stop's timeout
 * or a reboot. During STARTING the start path undoes what it made and ends in STOPPED; after
 * it, fini passes through STOPPING. An abort of an abort waits for the first.
 */
export function abort(ctx: RuntimeContext, inst: Instance, cause: EventCause): Promise<void> {
  if (inst.state === "ABORTING") return runEnded(inst).then(() => undefined);
  const phase = inst.phase;
  const ending = endingOf(inst) ?? newEnding(inst, cause, false);
  clearTimeout(ending.killTimer);
  ending.cause = cause;
  ending.restart = false;
  ctx.journal.record(inst, "ABORTING", cause, { signal: "SIGKILL" });
  if (phase.kind === "starting") {
    phase.ending = ending;
    phase.abort.abort();
  } else {
    inst.phase = { kind: "ending", ending };
  }
  killAll(ctx, inst);
  return ending.done;
}

/**
 * lxc-stop -r: STOPPING at once (with the signal and when the kill is due, as a stop says it),
 * then the reboot signal to an init that catches or blocks it (a system init then calls
 * reboot(2), which ends it with SIGHUP); an init that does not handle it is killed. Either way
 * the container starts again once the init has ended, however it ended: an application init
 * that simply exits on the signal (a shell exits on SIGINT) is rebooted too, since a reboot was
 * asked for. One that handles the signal and stays is killed after the reboot timeout.
 */
export function reboot(ctx: RuntimeContext, inst: Instance, cause: EventCause, timeoutMs: number): void {
  const sig = inst.config?.signals.reboot ?? DEFAULT_SIGNALS.reboot;
  const handled = inst.pid !== undefined && initHandles(signalMasks(ctx.host.files, inst.pid), sig);
  const wait = handled ? timeoutMs : 0;
  const ending = beginEnding(inst, cause, true);
  ctx.journal.record(inst, "STOPPING", cause, {
    reboot: true,
    signal: signalName(handled ? sig : SIGKILL),
    timeoutMs: wait,
    killAt: Date.now() + wait,
    ...(handled ? {} : { note: `the init does not handle ${signalName(sig)}: killed at once` }),
  });
  if (handled) {
    trySignal(ctx, inst, sig);
    ending.killTimer = setTimeout(() => killAll(ctx, inst), wait);
  } else {
    killAll(ctx, inst);
  }
}

/** A stop asked while the run is already ending joins that ending; a reboot under way is not restarted. */
function overruleReboot(ending: Ending, cause: EventCause): Promise<void> {
  if (ending.restart) {
    ending.restart = false;
    ending.cause = cause;
  }
  return ending.done;
}

function newEnding(inst: Instance, cause: EventCause, restart: boolean): Ending {
  return { cause, restart, done: runEnded(inst).then(() => undefined) };
}

/** The running phase ends: a verb has asked for the run to end. */
function beginEnding(inst: Instance, cause: EventCause, restart: boolean): Ending {
  const ending = newEnding(inst, cause, restart);
  inst.phase = { kind: "ending", ending };
  return ending;
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
  } catch (e) {
    expected(e, ["ESRCH"], `sending signal ${signal} to ${inst.name}`); // it is exiting already
  }
}

/** SIGKILL to every process of the container (thawed first: a frozen task cannot die). */
function killAll(ctx: RuntimeContext, inst: Instance): void {
  if (inst.cgroup) {
    try {
      if (inst.cgroup.isFrozen()) inst.cgroup.setFrozen(false);
      inst.cgroup.killAll();
    } catch (e) {
      // the cgroup went with the init; else fall back to the init alone
      expected(e, ["ENOENT", "ENODEV"], `killing ${inst.name}'s cgroup`);
    }
  }
  trySignal(ctx, inst, SIGKILL);
}
