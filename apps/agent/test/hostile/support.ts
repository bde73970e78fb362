// The hostile suite's agent: a real agent process on its own temp lxcpath and port, whose exit
// (a crash, or a refusal to start) the tests can see. Needs root, as the agent does.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import WebSocket from "ws";
import { freePort } from "../root/agent-process.ts";

export const REPO = join(import.meta.dirname, "../../../..");

export interface HostileAgent {
  url: string;
  port: number;
  token: string;
  lxcpath: string;
  log(): string;
  /** resolves with the exit code (or signal) once the process is gone */
  exited: Promise<number | string>;
  alive(): boolean;
  pid: number;
  /** the agent's resident memory, in MB */
  rssMB(): number;
  stop(): Promise<void>;
}

export function tempLxcpath(tag: string): string {
  return mkdtempSync(join(tmpdir(), `corral-hostile-${tag}-`));
}

/** Starts an agent; resolves once it listens, rejects (with its log) if it exits first. */
export async function startAgent(opts: { lxcpath?: string; env?: Record<string, string>; port?: number; token?: string } = {}): Promise<HostileAgent> {
  const lxcpath = opts.lxcpath ?? tempLxcpath("agent");
  const port = opts.port ?? await freePort();
  const token = opts.token ?? randomBytes(24).toString("hex");
  let log = "";
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", join(REPO, "apps/agent/src/cli/main.ts"), "agent", "--lxcpath", lxcpath, "--listen", `127.0.0.1:${port}`], {
    cwd: REPO,
    env: { ...process.env, CORRAL_TOKEN: token, CORRAL_ALLOWED_ORIGINS: "http://allowed.example", ...opts.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout!.on("data", (d) => (log += d));
  child.stderr!.on("data", (d) => (log += d));
  const exited = new Promise<number | string>((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal ?? -1)));
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (log.includes("agent listening")) {
        clearInterval(timer);
        resolve();
      }
    }, 50);
    void exited.then((code) => {
      clearInterval(timer);
      reject(new AgentExited(code, log));
    });
  });
  return {
    url: `http://127.0.0.1:${port}`, port, token, lxcpath, pid: child.pid!,
    log: () => log,
    exited,
    alive: () => child.exitCode === null && child.signalCode === null,
    rssMB: () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"))?.[1] ?? 0) / 1024,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

export class AgentExited extends Error {
  constructor(readonly code: number | string, readonly log: string) {
    super(`the agent exited (${code}) before it listened: ${log.slice(-2000)}`);
  }
}

export interface Answer {
  status: number;
  text: string;
  json: any;
}

/** One HTTP request to the agent; `token: null` sends none. */
export async function call(agent: HostileAgent, path: string, init: { method?: string; token?: string | null; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  const token = init.token === undefined ? agent.token : init.token;
  const headers: Record<string, string> = { ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...init.headers };
  if (init.body !== undefined && !("content-type" in headers)) headers["content-type"] = "application/json";
  const res = await fetch(`${agent.url}${path}`, { method: init.method ?? (init.body === undefined ? "GET" : "POST"), headers, body: init.body });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json };
}

export const query = (agent: HostileAgent, path: string, input?: unknown, token?: string | null) =>
  call(agent, `/trpc/${path}${input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify(input))}`}`, { token });

export const mutate = (agent: HostileAgent, path: string, input: unknown, token?: string | null) =>
  call(agent, `/trpc/${path}`, { body: JSON.stringify(input), token });

/** A query's data, or a thrown error with the answer. */
export async function data<T = any>(answer: Promise<Answer>): Promise<T> {
  const a = await answer;
  if (a.status !== 200) throw new Error(`answered ${a.status}: ${a.text.slice(0, 500)}`);
  return a.json.result.data as T;
}

/** Opens a WebSocket to /trpc; resolves with the socket, or the HTTP status it was refused with. */
export function openSocket(agent: HostileAgent, headers: Record<string, string>): Promise<WebSocket | number> {
  return new Promise((resolve) => {
    const sock = new WebSocket(`ws://127.0.0.1:${agent.port}/trpc`, { headers });
    sock.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
    sock.on("open", () => resolve(sock));
    sock.on("error", () => resolve(0));
  });
}

/** Sends one tRPC request over a socket and resolves with the first answer to its id. */
export function wsRequest(sock: WebSocket, msg: { id: number; method: string; params: unknown }): Promise<any> {
  return new Promise((resolve) => {
    const onMessage = (raw: WebSocket.RawData) => {
      const text = (raw as Buffer).toString();
      if (text === "PING" || text === "PONG") return;
      const m = JSON.parse(text);
      if (m.id !== msg.id) return;
      sock.off("message", onMessage);
      resolve(m);
    };
    sock.on("message", onMessage);
    sock.send(JSON.stringify(msg));
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
