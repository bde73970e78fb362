// The agent as the bench drives it: a separate process started the way an operator starts it,
// and a long-lived WebSocket subscriber that stamps each event with its arrival time.
import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { StateEvent, StreamItem } from "@corral/core";
import type { AgentSocket } from "./agent-socket.ts";

const REPO = join(import.meta.dirname, "..");

/** The agent in its own process, as an operator runs it. */
export class AgentUnderTest {
  private child: ReturnType<typeof spawn> | undefined;
  readonly token = `bench-${process.pid}`;
  /** `env`: added to the agent's environment (CORRAL_SAMPLING=0 for the samples section) */
  constructor(readonly lxcpath: string, readonly port: number, private readonly env: Record<string, string> = {}) {}

  async start(): Promise<void> {
    // As an operator runs it: the corral command (its bundle), not the TypeScript sources.
    // CORRAL_BENCH_AGENT_NODE_ARGS: Node options for the agent alone (`--cpu-prof --cpu-prof-dir=DIR`
    // to see where a section's time goes), never the bench's own process.
    const nodeArgs = (process.env.CORRAL_BENCH_AGENT_NODE_ARGS ?? "").split(" ").filter(Boolean);
    // Its log goes to a file beside its lxcpath, as `corral agent > agent.log` would: read
    // through a pipe, each line it wrote during a burst woke the bench's process, which shares
    // the two cores with the agent and the fan-out's subscribers.
    const log = openSync(this.logPath, "w");
    const child = spawn(process.execPath, [...nodeArgs, join(REPO, "apps/agent/bin/corral.mjs"), "agent", "--lxcpath", this.lxcpath, "--listen", `127.0.0.1:${this.port}`], {
      cwd: REPO, env: { ...process.env, CORRAL_TOKEN: this.token, ...this.env }, stdio: ["ignore", log, "pipe"],
    });
    closeSync(log);
    this.child = child;
    child.stderr!.on("data", (d: Buffer) => process.stderr.write(`agent: ${d.toString()}`));
    await new Promise<void>((resolve, reject) => {
      const exited = (code: number | null) => reject(new Error(`agent exited ${code}: ${readFileSync(this.logPath, "utf8").slice(-500)}`));
      child.once("exit", exited);
      const check = () => {
        if (!readFileSync(this.logPath, "utf8").includes("agent listening")) return void setTimeout(check, 20);
        child.off("exit", exited);
        resolve();
      };
      check();
    });
  }

  /** The agent's log (its stdout), beside its lxcpath. */
  get logPath(): string {
    return `${this.lxcpath.replace(/\/+$/, "")}.log`;
  }

  get pid(): number {
    return this.child!.pid!;
  }

  /** Ask it to end, without waiting (a bench interrupted by a signal has no time to wait). */
  kill(): void {
    if (this.child && this.child.exitCode === null) this.child.kill("SIGTERM");
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await exited;
  }
}

/** Events as a long-lived WebSocket subscriber sees them, with the time each arrived. */
export class Watcher {
  private waiters: Array<{ match: (e: StateEvent) => boolean; resolve: (arrival: { event: StateEvent; t: number }) => void }> = [];
  readonly arrivals: Array<{ event: StateEvent; t: number }> = [];
  readonly resyncs: string[] = [];
  private readonly sub: { unsubscribe(): void };

  constructor(socket: AgentSocket, cursor: string) {
    const unsubscribe = socket.subscribe("events.onEvent", {}, cursor, {
      // t: stamped as the message arrived, before it was parsed
      onData: (_id, data, t) => {
        const item = data as StreamItem;
        if (item.kind !== "event") {
          this.resyncs.push(item.reason);
          process.stderr.write(`bench: a subscriber had to resync: ${item.reason}\n`);
          return;
        }
        this.arrivals.push({ event: item.event, t });
        this.waiters = this.waiters.filter((w) => (w.match(item.event) ? (w.resolve({ event: item.event, t }), false) : true));
      },
      onError: (e) => process.stderr.write(`bench: subscriber: ${e.message}\n`),
    });
    this.sub = { unsubscribe };
  }

  /** Resolves with the arrival time of the first event matching, from now on. */
  next(match: (e: StateEvent) => boolean): Promise<number> {
    return new Promise((resolve) => this.waiters.push({ match, resolve: (arrival) => resolve(arrival.t) }));
  }

  /** The first event matching, from now on, with its arrival time. */
  nextEvent(match: (e: StateEvent) => boolean): Promise<{ event: StateEvent; t: number }> {
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }

  close(): void {
    this.sub.unsubscribe();
  }
}

export async function freePort(): Promise<number> {
  const { createServer } = await import("node:net");
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
