// The CLI commands that talk to an agent. Calls go over plain HTTP; only events, console and the
// progress of stop and reboot open the WebSocket (client.ts loads it then).
import { exitShort, RESTART_POLICIES, stopWords, uptime, type RestartPolicyName, type RestartStatus, type StateEvent, type StreamItem } from "@corral/core";
import type { Connection } from "./client.ts";
import { UsageError } from "./args.ts";
import { killLine, rebootLine, rebootStep, type RebootStep } from "./countdown.ts";
import type { CreateRequest } from "../containers/create.ts";
import type { TemplateName } from "../containers/templates.ts";

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

export async function ls(conn: Connection, format: "table" | "json" | "names"): Promise<number> {
  const list = await conn.http.containers.list.query();
  if (format === "json") return out(JSON.stringify(list, null, 2)), 0;
  // one name a line: for scripts, and for the shell's completion
  if (format === "names") return list.forEach((c) => out(c.name)), 0;
  const rows = [["NAME", "STATE", "PID", "UPTIME", "IPV4", "LAST STOP", "RESTARTS"], ...list.map((c) => [c.name, c.state, c.pid ? String(c.pid) : "-", uptime(c.startedAt, Date.now(), c.state), c.ips.join(",") || "-", c.lastStop ? stopWords(c.lastStop) : exitShort(c.lastExit?.status, c.lastExit?.code), restartsShort(c.restart)])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) out(r.map((cell, i) => cell.padEnd(widths[i]!)).join("  ").trimEnd());
  return 0;
}

/** "3 flapping", "-": the restarts a policy made in a row, for the list. */
function restartsShort(r: RestartStatus | undefined): string {
  if (!r || (r.restarts === 0 && !r.flapping)) return "-";
  return `${r.restarts}${r.flapping ? " flapping" : ""}`;
}

function restartWords(r: RestartStatus): string {
  const parts: string[] = [r.policy];
  if (r.restarts > 0) parts.push(`${r.restarts} restart${r.restarts === 1 ? "" : "s"} in a row`);
  if (r.flapping) parts.push("flapping");
  if (r.gaveUp) parts.push("gave up");
  if (r.nextAt !== undefined) parts.push(`next in ${Math.max(0, Math.round((r.nextAt - Date.now()) / 100) / 10)} s`);
  return parts.join(", ");
}

/** corral restart-policy NAME never|on-failure|always [--max N] [--backoff S] */
export async function restartPolicy(conn: Connection, name: string, policy: string, max: number | undefined, backoffS: number | undefined): Promise<number> {
  if (!(RESTART_POLICIES as readonly string[]).includes(policy)) throw new UsageError(`restart-policy takes ${RESTART_POLICIES.join(", ")}, not "${policy}"`);
  const c = await conn.http.containers.setRestartPolicy.mutate({
    name, policy: policy as RestartPolicyName,
    ...(max !== undefined ? { maxRestarts: max } : {}),
    ...(backoffS !== undefined ? { backoffMs: Math.round(backoffS * 1000) } : {}),
  });
  out(`${name}: ${c.restart ? restartWords(c.restart) : policy}`);
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
  if (c.privileged !== undefined) out(`Root:       ${c.privileged ? "host root (privileged)" : `host uid ${c.rootUid ?? "?"} (unprivileged)`}`);
  if (c.lastStop) out(`Last stop:  ${stopWords(c.lastStop)}`);
  if (c.lastExit) out(`Last exit:  ${exitShort(c.lastExit.status, c.lastExit.code)}`);
  if (c.lastError) out(`Last error: ${c.lastError}`);
  if (c.restart) out(`Restart:    ${restartWords(c.restart)}`);
  out(`Config:     ${c.configPath}`);
  for (const w of c.warnings) out(`Warning:    ${w}`);
  return 0;
}

export async function verb(conn: Connection, action: string, name: string, opts: { timeout?: number; kill?: boolean; command?: string[] }): Promise<number> {
  const c = conn.http.containers;
  // each verb answers the container's summary after it: the state needs no second call
  let after: string;
  switch (action) {
    case "start": after = (await c.start.mutate({ name, command: opts.command?.length ? opts.command : undefined })).state; break;
    case "stop": after = await stopWithCountdown(conn, name, opts.timeout ?? 10, opts.kill ?? false); break;
    case "abort": after = (await c.abort.mutate({ name })).state; break;
    case "reboot": after = await rebootWithProgress(conn, name); break;
    case "freeze": after = (await c.freeze.mutate({ name })).state; break;
    case "unfreeze": after = (await c.unfreeze.mutate({ name })).state; break;
    case "delete": await c.delete.mutate({ name }); after = "deleted"; break;
    default: throw new UsageError(`unknown action ${action}`);
  }
  out(`${name}: ${after}`);
  return 0;
}

interface Follow {
  /** each event of the container, in order */
  onEvent(e: StateEvent): void;
  /** the stream failed or ended: no more events will come */
  onGone?(): void;
}

/** The container's events while `act` runs: subscribed first, so that what `act` causes is heard. */
async function following<T>(conn: Connection, name: string, follow: Follow, act: () => Promise<T>): Promise<T> {
  let started!: () => void;
  const listening = new Promise<void>((resolve) => (started = resolve));
  let sub: { unsubscribe(): void } | undefined;
  try {
    try {
      sub = (await conn.streams()).events.onEvent.subscribe({ container: name }, {
        onStarted: () => started(),
        onData: ({ data }) => {
          const item: StreamItem = data;
          if (item.kind === "event") follow.onEvent(item.event);
        },
        // without the stream the verb still goes ahead, only without its progress
        onError: () => (started(), follow.onGone?.()),
        onComplete: () => follow.onGone?.(),
      });
      await Promise.race([listening, new Promise((r) => setTimeout(r, 2000))]);
    } catch (e) {
      // no WebSocket (a proxy that does not pass upgrades): the same, without progress
      process.stderr.write(`corral: no progress to show (${(e as Error).message})\n`);
      follow.onGone?.();
    }
    return await act();
  } finally {
    sub?.unsubscribe();
    conn.close();
  }
}

/** A status line on a terminal, rewritten in place; elsewhere, each new step once. */
class StatusLine {
  private last = "";
  private lastStep = "";
  private readonly tty = process.stderr.isTTY;

  /** `step` names what the line says, without its changing figures (written once off a terminal) */
  show(line: string, step: string): void {
    if (this.tty) {
      if (line !== this.last) process.stderr.write(`\r\x1b[K${line}`);
    } else if (step !== this.lastStep) {
      process.stderr.write(`${line}\n`);
    }
    this.last = line;
    this.lastStep = step;
  }

  clear(): void {
    if (this.tty && this.last) process.stderr.write("\r\x1b[K");
  }
}

/**
 * A stop that says what it does while it waits, as the STOPPING event tells it: the halt signal
 * sent (or why the init is killed at once) and, on a terminal, the seconds left before SIGKILL.
 */
async function stopWithCountdown(conn: Connection, name: string, timeout: number, kill: boolean): Promise<string> {
  const status = new StatusLine();
  let stopping: StateEvent | undefined;
  const render = () => stopping && status.show(killLine(name, stopping, Date.now()) ?? "", "stopping");
  const ticker = setInterval(render, 1000);
  try {
    return await following(conn, name, {
      onEvent: (e) => {
        if (killLine(name, e, Date.now()) === undefined) return;
        stopping = e;
        render();
      },
    }, async () => (await conn.http.containers.stop.mutate({ name, timeout, kill })).state);
  } finally {
    clearInterval(ticker);
    status.clear();
  }
}

/** How long a reboot may show no progress before the agent's word is taken as the outcome. */
const REBOOT_STALL_MS = 30_000;

/**
 * A reboot that shows where it is until the next run is RUNNING: the signal sent and, where the
 * agent records it, the seconds left before SIGKILL (as stop shows them), else the seconds waited
 * for the init to end; then how the init ended, the new start, and its outcome.
 */
async function rebootWithProgress(conn: Connection, name: string): Promise<string> {
  const status = new StatusLine();
  let step: RebootStep = { step: "asked" };
  let asked: number | undefined;
  let settle!: () => void;
  const settled = new Promise<void>((resolve) => (settle = resolve));
  let stall: NodeJS.Timeout | undefined;
  const progressed = () => {
    clearTimeout(stall);
    stall = setTimeout(settle, REBOOT_STALL_MS);
  };
  const render = () => asked !== undefined && status.show(rebootLine(name, step, Math.floor((Date.now() - asked) / 1000), Date.now()), step.step);
  const ticker = setInterval(render, 1000);
  try {
    return await following(conn, name, {
      onEvent: (e) => {
        if (asked === undefined) return;
        const next = rebootStep(step, e);
        if (next === step) return;
        step = next;
        progressed();
        render();
        if (step.step === "running" || step.step === "failed") settle();
      },
      onGone: settle,
    }, async () => {
      asked = Date.now();
      const answer = await conn.http.containers.reboot.mutate({ name });
      render();
      progressed();
      await settled;
      if (step.step === "failed") throw new Error(`${name}: the reboot failed: ${step.error}`);
      if (step.step === "running") return "RUNNING";
      // no stream, or no word for a while: what the agent says now
      return step.step === "asked" ? answer.state : (await conn.http.containers.get.query({ name })).state;
    });
  } finally {
    clearTimeout(stall);
    clearInterval(ticker);
    status.clear();
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
  const streams = await conn.streams();
  return new Promise((resolve) => {
    const sub = streams.events.onEvent.subscribe(
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
  const streams = await conn.streams();
  return new Promise((resolve) => {
    const sub = streams.console.onOutput.subscribe({ name }, {
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
