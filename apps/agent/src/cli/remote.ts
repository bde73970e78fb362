// The CLI commands that talk to an agent.
import { exitShort, stopWords, uptime, type StateEvent, type StreamItem } from "@corral/core";
import { connect, type AgentTarget } from "./client.ts";
import { UsageError } from "./args.ts";
import type { CreateRequest } from "../containers/create.ts";
import type { TemplateName } from "../containers/templates.ts";

type Connection = ReturnType<typeof connect>;

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

export async function ls(conn: Connection, json: boolean): Promise<number> {
  const list = await conn.http.containers.list.query();
  if (json) return out(JSON.stringify(list, null, 2)), 0;
  const rows = [["NAME", "STATE", "PID", "UPTIME", "IPV4", "LAST EXIT"], ...list.map((c) => [c.name, c.state, c.pid ? String(c.pid) : "-", uptime(c.startedAt, Date.now(), c.state), c.ips.join(",") || "-", exitShort(c.lastExit?.status, c.lastExit?.code)])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) out(r.map((cell, i) => cell.padEnd(widths[i]!)).join("  ").trimEnd());
  return 0;
}

export async function info(conn: Connection, name: string, json: boolean): Promise<number> {
  const c = await conn.http.containers.get.query({ name });
  if (json) return out(JSON.stringify(c, null, 2)), 0;
  out(`Name:       ${c.name}`);
  out(`State:      ${c.state}`);
  if (c.pid) out(`PID:        ${c.pid}`);
  if (c.startedAt && c.state !== "STOPPED") out(`Uptime:     ${uptime(c.startedAt, Date.now(), c.state)}`);
  if (c.ips.length) out(`IPv4:       ${c.ips.join(", ")}`);
  if (c.lastStop) out(`Last stop:  ${stopWords(c.lastStop)}`);
  if (c.lastExit) out(`Last exit:  ${exitShort(c.lastExit.status, c.lastExit.code)}`);
  if (c.lastError) out(`Last error: ${c.lastError}`);
  out(`Config:     ${c.configPath}`);
  for (const w of c.warnings) out(`Warning:    ${w}`);
  return 0;
}

export async function verb(conn: Connection, action: string, name: string, opts: { timeout?: number; kill?: boolean; command?: string[] }): Promise<number> {
  const c = conn.http.containers;
  switch (action) {
    case "start": await c.start.mutate({ name, command: opts.command?.length ? opts.command : undefined }); break;
    case "stop": await stopWithCountdown(conn, name, opts.timeout ?? 10, opts.kill ?? false); break;
    case "abort": await c.abort.mutate({ name }); break;
    case "reboot": await c.reboot.mutate({ name }); break;
    case "freeze": await c.freeze.mutate({ name }); break;
    case "unfreeze": await c.unfreeze.mutate({ name }); break;
    case "delete": await c.delete.mutate({ name }); break;
    default: throw new UsageError(`unknown action ${action}`);
  }
  const after = action === "delete" ? "deleted" : (await c.get.query({ name })).state;
  out(`${name}: ${after}`);
  return 0;
}

/**
 * A stop that says what it does while it waits, as the STOPPING event tells it: the halt signal
 * sent (or why the init is killed at once) and, on a terminal, the seconds left before SIGKILL.
 */
async function stopWithCountdown(conn: Connection, name: string, timeout: number, kill: boolean): Promise<void> {
  let ticker: NodeJS.Timeout | undefined;
  const tty = process.stderr.isTTY;
  let started!: () => void;
  const listening = new Promise<void>((resolve) => (started = resolve));
  const sub = conn.streams().events.onEvent.subscribe({ container: name }, {
    // the stop is asked for once the stream listens, so that its STOPPING is heard
    onStarted: () => started(),
    onData: ({ data }) => {
      const item: StreamItem = data;
      if (item.kind !== "event" || item.event.state !== "STOPPING" || item.event.detail.timeoutMs === undefined) return;
      const { signal, note, timeoutMs } = item.event.detail;
      const killAt = item.event.detail.killAt ?? Date.now();
      if (note || timeoutMs === 0) return void process.stderr.write(`${name}: ${note ?? `${String(signal)} at once`}\n`);
      const left = () => Math.max(0, Math.ceil((killAt - Date.now()) / 1000));
      const line = () => `${name}: ${String(signal)} sent; SIGKILL in ${left()} s`;
      if (!tty) return void process.stderr.write(`${line()}\n`);
      process.stderr.write(line());
      ticker = setInterval(() => process.stderr.write(`\r\x1b[K${line()}`), 1000);
    },
    // without the stream the stop still goes ahead, only without the countdown
    onError: () => started(),
  });
  try {
    await Promise.race([listening, new Promise((r) => setTimeout(r, 2000))]);
    await conn.http.containers.stop.mutate({ name, timeout, kill });
  } finally {
    clearInterval(ticker);
    if (ticker) process.stderr.write("\r\x1b[K");
    sub.unsubscribe();
  }
}

/**
 * Create through the agent. A template that builds in the background (debian) answers at once:
 * its progress is then polled and printed until it ends; a failed build exits 1 with its error.
 */
export async function create(conn: Connection, req: CreateRequest, pollMs = 500): Promise<number> {
  const r = await conn.http.containers.create.mutate({ ...req, template: req.template as TemplateName | undefined });
  for (const w of r.warnings) process.stderr.write(`warning: ${w}\n`);
  if (!r.building) {
    out(`created ${r.name} (${r.configPath})`);
    return 0;
  }
  for (let after = 0; ; ) {
    const p = await conn.http.containers.createProgress.query({ name: req.name, after });
    if (!p) throw new Error(`the agent no longer knows of the create of ${req.name}`);
    if (p.missed > 0) out(`(${p.missed} lines not shown)`);
    for (const line of p.lines) out(line);
    after = p.next;
    if (p.done) {
      if (p.error) throw new Error(p.error);
      return 0;
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

function eventLine(e: StateEvent): string {
  const cause = e.cause.request ? `${e.cause.actor}: ${e.cause.request}` : e.cause.actor;
  const extra = e.detail.error ? ` error=${JSON.stringify(e.detail.error.message)}` : e.detail.exitCode !== undefined ? ` exit=${e.detail.exitCode}` : "";
  return `${new Date(e.at).toISOString()} #${e.seq} '${e.container}' changed state to [${e.state}] (${cause})${extra}`;
}

/** Like lxc-monitor: one line per event, live. --since replays from a cursor ("0": everything). */
export async function events(conn: Connection, json: boolean, since: string | undefined, container?: string): Promise<number> {
  let lastEventId: string | undefined;
  if (since !== undefined) {
    const info = await conn.http.agent.info.query();
    lastEventId = /^\d+$/.test(since) ? `${info.storeId}:${since}` : since;
  }
  const print = (item: StreamItem) => {
    if (item.kind === "resync") {
      process.stderr.write(`corral: resync (${item.reason}); continuing from #${item.lastSeq}\n`);
      return;
    }
    out(json ? JSON.stringify(item.event) : eventLine(item.event));
  };
  return new Promise((resolve) => {
    const sub = conn.streams().events.onEvent.subscribe(
      { lastEventId, container },
      {
        onData: (d) => print(d.data),
        onError: (e) => {
          process.stderr.write(`corral: ${e.message}\n`);
          resolve(1);
        },
        onComplete: () => resolve(0),
      },
    );
    const end = () => {
      sub.unsubscribe();
      resolve(0);
    };
    process.once("SIGTERM", end);
    process.once("SIGINT", end);
  });
}

/** Attach to a container's console: its history, then live; keys typed go to it. Ctrl-a q leaves. */
export async function consoleAttach(conn: Connection, name: string): Promise<number> {
  const stdin = process.stdin;
  return new Promise((resolve) => {
    const sub = conn.streams().console.onOutput.subscribe({ name }, {
      // after a reconnect the stream resumes from its last cursor: what was missed, or the whole ring
      onData: ({ data }) => process.stdout.write(data.text),
      onError: (e) => {
        process.stderr.write(`corral: ${e.message}\n`);
        resolve(1);
      },
      onComplete: () => resolve(0),
    });
    if (stdin.isTTY) stdin.setRawMode(true);
    let ctrlA = false;
    stdin.on("data", (data: Buffer) => {
      const s = data.toString("utf8");
      if (ctrlA && s === "q") {
        sub.unsubscribe();
        if (stdin.isTTY) stdin.setRawMode(false);
        resolve(0);
        return;
      }
      ctrlA = s === "\x01";
      if (!ctrlA) void conn.http.console.write.mutate({ name, data: s }).catch(() => undefined);
    });
    if (stdin.isTTY) process.stderr.write(`corral: attached to ${name}; type Ctrl-a q to detach\n`);
  });
}

export type { AgentTarget };
