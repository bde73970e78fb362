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

/** One container's run: from STARTING to STOPPED, and what stays across runs (console ring, last exit). */
export interface Instance {
  name: string;
  state: StateName;
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
  starting: boolean;
  /** aborts a start in progress (lxc_abort during STARTING) */
  startAbort?: AbortController;
  exitWaiters: Array<(status: number) => void>;
  stopCause?: EventCause;
  stopTimer?: NodeJS.Timeout;
  stopping?: Promise<void>;
  restartRequested?: EventCause;
  lastExit?: ExitRecord;
}

export function newInstance(name: string): Instance {
  return { name, state: "STOPPED", veths: [], ring: new RingBuffer(), consoleMode: "pty", starting: false, exitWaiters: [] };
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
