// `corral run`: one container in the foreground, in this process, like `lxc-start -F`. On a
// terminal, the terminal is the container's console: a pty in between (ours in raw mode, its
// window size passed on), so a system container shows its boot and a login prompt. Without one
// (a pipe, a script), the init gets our stdio as it is. The signals we get are forwarded to the
// init; a reboot from inside starts the container again in the same run; we exit with the init's
// code (128 + N when a signal N killed it), 0 after a halt (poweroff inside), as lxc-start -F.
import { randomBytes } from "node:crypto";
import { constants } from "node:os";
import { decodeWaitStatus, shellExitCode } from "@corral/core";
import { nativeSyscalls } from "../sys/native.ts";
import { createContainer, deleteContainer } from "../containers/create.ts";
import { LxcPath } from "../containers/lxcpath.ts";
import { Refusal, Runtime, type StateChange, type WindowSize } from "../runtime/runtime.ts";
import { LxcBroadcast, runtimeCommandTarget } from "../lxc/broadcast.ts";
import { nodeHost } from "../host/node-host.ts";
import { expected } from "../errors.ts";

/** Signals lxc-start forwards to the init (all but those the kernel keeps, and SIGCHLD). */
const FORWARDED: NodeJS.Signals[] = ["SIGHUP", "SIGINT", "SIGQUIT", "SIGTERM", "SIGUSR1", "SIGUSR2", "SIGWINCH", "SIGPWR", "SIGCONT", "SIGALRM"];

export interface RunOptions {
  lxcpath: string;
  name?: string;
  template?: string;
  /** LXC config text: with a template, added after its keys; alone, the whole config */
  config?: string;
  remove: boolean;
  verbose: boolean;
  command: string[];
}

export async function runForeground(opts: RunOptions): Promise<number> {
  const lxcpath = new LxcPath(opts.lxcpath);
  const name = opts.name ?? `run-${randomBytes(4).toString("hex")}`;
  // A template or config asks for a new container; none, for NAME's if it exists, else a host one.
  if (opts.template || opts.config !== undefined || !lxcpath.exists(name)) {
    createContainer(lxcpath, { name, template: opts.template ?? (opts.config === undefined ? "host" : undefined), config: opts.config });
  }
  // Like lxc-start -F, a foreground run serves LXC's monitor FIFO and command socket too.
  const sink = (c: StateChange) => {
    lxc.onState(c);
    if (opts.verbose) process.stderr.write(`corral: ${c.container} ${c.state}${describe(c)}\n`);
  };
  const runtime = new Runtime(nativeSyscalls, nodeHost, lxcpath, sink);
  const lxc = new LxcBroadcast(nativeSyscalls, lxcpath.root, runtimeCommandTarget(() => runtime));
  const forward = (signal: NodeJS.Signals) => {
    try {
      runtime.signal(name, signalNumber(signal));
    } catch (e) {
      expected(e, [Refusal, "ESRCH"], `forwarding ${signal}`); // not running (yet, or any more)
    }
  };
  const terminal = process.stdin.isTTY && process.stdout.isTTY ? new ConsoleTerminal(runtime, name) : undefined;
  // On a terminal, a window change resizes the console pty, whose kernel tells the container.
  const forwarded = terminal ? FORWARDED.filter((s) => s !== "SIGWINCH") : FORWARDED;
  for (const s of forwarded) process.on(s, forward);
  try {
    await runtime.start(name, {
      cause: { actor: "cli", request: "run" },
      command: opts.command.length ? opts.command : undefined,
      console: terminal ? "pty" : "inherit",
      consoleSize: terminal?.size(),
    });
    return exitCode(await untilStopped(runtime, name));
  } catch (e) {
    terminal?.close();
    process.stderr.write(`corral: ${(e as Error).message}\n`);
    return 1;
  } finally {
    terminal?.close();
    for (const s of forwarded) process.off(s, forward);
    runtime.close();
    lxc.close();
    if (opts.remove) {
      try {
        deleteContainer(lxcpath, name, runtime.state(name));
      } catch (e) {
        process.stderr.write(`corral: could not remove ${name}: ${(e as Error).message}\n`);
      }
    }
  }
}

/**
 * The raw wait status of the run's last init: a reboot ends one init and starts the next (the
 * runtime is STARTING again by the time the first exit is told), so wait until one ends for good.
 */
async function untilStopped(runtime: Runtime, name: string): Promise<number> {
  for (;;) {
    const status = await runtime.waitForExit(name);
    if (runtime.state(name) === "STOPPED") return status;
  }
}

/** Our exit code: the init's, 1 for a failed start, 0 for a halt (its reboot(2) ends it with SIGINT). */
function exitCode(status: number): number {
  if (status < 0) return 1;
  const d = decodeWaitStatus(status);
  return "signaled" in d && d.signal === constants.signals.SIGINT ? 0 : shellExitCode(status);
}

/**
 * Our terminal as the container's console: raw, so every key (Ctrl-C included) goes to the
 * container, as under lxc-start -F; what the console prints is copied out, across reboots.
 */
class ConsoleTerminal {
  private readonly offOutput: () => void;
  private readonly onInput = (data: Buffer) => {
    try {
      this.runtime.writeConsole(this.name, data);
    } catch (e) {
      expected(e, [Refusal], "typing into the console"); // between two runs of a reboot: no console to type into
    }
  };
  private readonly onResize = () => this.runtime.resizeConsole(this.name, this.size());
  private closed = false;

  constructor(private readonly runtime: Runtime, private readonly name: string) {
    this.offOutput = runtime.onConsole((n, data) => n === name && process.stdout.write(data));
    process.stdin.setRawMode(true);
    process.stdin.on("data", this.onInput);
    process.on("SIGWINCH", this.onResize);
  }

  size(): WindowSize {
    return { rows: process.stdout.rows, cols: process.stdout.columns };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.offOutput();
    process.off("SIGWINCH", this.onResize);
    process.stdin.off("data", this.onInput);
    process.stdin.setRawMode(false);
    process.stdin.pause();
  }
}

function describe(c: StateChange): string {
  const parts: string[] = [];
  if (c.detail.pid) parts.push(`pid ${c.detail.pid}`);
  if (c.detail.exitCode !== undefined) parts.push(`exit ${c.detail.exitCode}`);
  if (c.detail.error) parts.push(`error: ${c.detail.error.message}`);
  if (c.detail.phases) parts.push(c.detail.phases.map((p) => `${p.name} ${p.ms}ms`).join(", "));
  return parts.length ? ` (${parts.join("; ")})` : "";
}

function signalNumber(signal: NodeJS.Signals): number {
  return constants.signals[signal];
}
