// `corral run`: one container in the foreground, in this process, like `lxc-start -F`: the init
// shares our terminal, the signals we get are forwarded to it, and we exit with its code
// (128 + N when a signal N killed it).
import { randomBytes } from "node:crypto";
import { constants } from "node:os";
import { shellExitCode } from "@corral/core";
import { nativeSyscalls } from "../sys/native.ts";
import { createContainer, deleteContainer } from "../runtime/create.ts";
import { LxcPath } from "../runtime/lxcpath.ts";
import { Runtime, type StateChange } from "../runtime/runtime.ts";
import { LxcBroadcast, runtimeCommandTarget } from "../lxc/broadcast.ts";

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
  let runtime: Runtime | undefined;
  const lxc = new LxcBroadcast(nativeSyscalls, lxcpath.root, runtimeCommandTarget(() => runtime!));
  const sink = (c: StateChange) => {
    lxc.onState(c);
    if (opts.verbose) process.stderr.write(`corral: ${c.container} ${c.state}${describe(c)}\n`);
  };
  runtime = new Runtime(nativeSyscalls, lxcpath, sink);
  const forward = (signal: NodeJS.Signals) => {
    try {
      runtime.signal(name, signalNumber(signal));
    } catch {
      // not running (yet, or any more)
    }
  };
  for (const s of FORWARDED) process.on(s, forward);
  try {
    await runtime.start(name, { cause: { actor: "cli", request: "run" }, command: opts.command.length ? opts.command : undefined, console: "inherit" });
    const status = await runtime.waitForExit(name);
    return status < 0 ? 1 : shellExitCode(status);
  } catch (e) {
    process.stderr.write(`corral: ${(e as Error).message}\n`);
    return 1;
  } finally {
    for (const s of FORWARDED) process.off(s, forward);
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
