// What the runtime knows of one container's current run, and the shapes its verbs take.
import type { ContainerConfig, EventCause, StateName } from "@corral/core";
import type { ContainerCgroup } from "./cgroups.ts";
import { RingBuffer, type ConsoleCapture, type TtySet } from "./console.ts";
import type { VethPair } from "./network.ts";

/** A refused request: the state guards said no, or the input was bad. Changes nothing. */
export class Refusal extends Error {
  constructor(message: string, readonly code: "BAD_REQUEST" | "CONFLICT" | "NOT_FOUND" = "CONFLICT") {
    super(message);
    this.name = "Refusal";
  }
}

export interface WindowSize {
  rows: number;
  cols: number;
}

export interface StartOptions {
  cause: EventCause;
  /** overrides lxc.init.cmd */
  command?: string[];
  /** "inherit": the init gets our own stdio (corral run); "pty": a console the agent keeps */
  console?: "pty" | "inherit";
  /** the console's window size, for a console shown on a terminal of that size (corral run) */
  consoleSize?: WindowSize;
}

export interface StopOptions {
  cause: EventCause;
  /** time between the halt signal and SIGKILL; 0 kills at once */
  timeoutMs: number;
}

export interface ExitRecord {
  status: number;
  code: number;
  at: number;
}

/**
 * Why and how a run is being ended: set by the verb that asked (stop, abort, kill now, reboot),
 * read by fini.ts once the init has been reaped.
 */
export interface Ending {
  cause: EventCause;
  /** start again once the init has gone: a reboot was asked for, and not overruled by a stop */
  restart: boolean;
  /** the SIGKILL due once a stop's or a reboot's timeout has passed */
  killTimer?: NodeJS.Timeout;
  /** settles once the run has ended */
  done: Promise<void>;
}

/**
 * What the runtime is doing with a container's run, each phase with what only it needs. The
 * recorded state (LXC's, FREEZING and FROZEN included) is `Instance.state`; the phase is the
 * runtime's own:
 *   idle      no run: STOPPED
 *   starting  lxc_init and lxc_spawn under way; an abort asked for meanwhile is its ending
 *   running   the init runs (frozen or not), and nobody has asked it to end
 *   ending    a stop, abort or reboot was asked for; the init has not been reaped yet
 * Every run leaves its phase through fini.ts's endRun, whether the start failed or the init ended.
 */
export type RunPhase =
  | { kind: "idle" }
  | { kind: "starting"; abort: AbortController; ending?: Ending }
  | { kind: "running" }
  | { kind: "ending"; ending: Ending };

/** One container's run: from STARTING to STOPPED, and what stays across runs (console ring, last exit). */
export interface Instance {
  name: string;
  state: StateName;
  phase: RunPhase;
  pid?: number;
  startedAt?: number;
  cgroup?: ContainerCgroup;
  veths: VethPair[];
  console?: ConsoleCapture;
  /** lxc.tty.max ttys, made with lxc.autodev */
  ttys?: TtySet;
  ring: RingBuffer;
  config?: ContainerConfig;
  command?: string[];
  consoleMode: "pty" | "inherit";
  consoleSize?: WindowSize;
  /** resolves with the init's raw wait status once it is reaped */
  exit?: Promise<number>;
  exitWaiters: Array<(status: number) => void>;
  lastExit?: ExitRecord;
}

export function newInstance(name: string): Instance {
  return { name, state: "STOPPED", phase: { kind: "idle" }, veths: [], ring: new RingBuffer(), consoleMode: "pty", exitWaiters: [] };
}

/** The ending asked for this run, if any (during a start, only an abort can have asked). */
export function endingOf(inst: Instance): Ending | undefined {
  const phase = inst.phase;
  return phase.kind === "starting" || phase.kind === "ending" ? phase.ending : undefined;
}

export interface ContainerStatus {
  name: string;
  state: StateName;
  pid?: number;
  startedAt?: number;
  command?: string[];
  cgroup?: string;
  lastExit?: ExitRecord;
}

export function statusOf(name: string, inst: Instance | undefined): ContainerStatus {
  return {
    name,
    state: inst?.state ?? "STOPPED",
    pid: inst?.pid,
    startedAt: inst?.startedAt,
    command: inst?.command,
    cgroup: inst?.cgroup?.name,
    lastExit: inst?.lastExit,
  };
}

/** The run is over (STOPPED, or -1 for a failed start): tell whoever waits for it. */
export function resolveExit(inst: Instance, status: number): void {
  const waiters = inst.exitWaiters.splice(0);
  for (const w of waiters) w(status);
}

/** Resolves with the run's raw wait status when it ends (-1 for a failed start). */
export function runEnded(inst: Instance): Promise<number> {
  if (inst.state === "STOPPED") return Promise.resolve(inst.lastExit?.status ?? 0);
  return new Promise((resolve) => inst.exitWaiters.push(resolve));
}

/** What a container of a dead agent may have left, from its timeline. */
export interface Leftover {
  cgroup?: string;
  /** the cgroup was made (RUNNING recorded it), not only planned (STARTING) */
  cgroupMade?: boolean;
  veths?: string[];
  pid?: number;
}
