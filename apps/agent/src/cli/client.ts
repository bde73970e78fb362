// The CLI's connection to an agent: plain HTTP for calls (agent-http.ts), and tRPC over
// WebSocket for streams, loaded only by the commands that follow one (events, console, the
// countdowns of stop and reboot): the WebSocket client is most of what a short command would load.
import { readFileSync } from "node:fs";
import { tokenPath } from "../api/token-file.ts";
import { DEFAULT_LISTEN } from "../env.ts";
import { httpClient, type AgentClient } from "./agent-http.ts";

export type { AgentClient } from "./agent-http.ts";

export interface AgentTarget {
  url: string;
  token: string;
}

/** --agent / CORRAL_AGENT, else the local agent; the token from CORRAL_TOKEN or the lxcpath. */
export function resolveTarget(agentUrl: string | undefined, lxcpath: string, token: string | undefined): AgentTarget {
  const url = (agentUrl ?? `http://${DEFAULT_LISTEN}`).replace(/\/+$/, "");
  if (token) return { url, token };
  const path = tokenPath(lxcpath);
  try {
    return { url, token: readFileSync(path, "utf8").trim() };
  } catch (e) {
    throw new Error(`no agent token: set CORRAL_TOKEN, or run as root beside the agent's lxcpath (${path}: ${(e as NodeJS.ErrnoException).code ?? "not readable"})`, { cause: e });
  }
}

export interface Connection {
  http: AgentClient;
  /** the WebSocket client, made on first use */
  streams(): Promise<AgentClient>;
  close(): void;
}

/** What every request carries: the token, and who the caller says it is (audited). */
export function agentHeaders(target: AgentTarget, actor = `cli:${process.env.SUDO_USER ?? process.env.USER ?? "root"}`): Record<string, string> {
  return { authorization: `Bearer ${target.token}`, "x-corral-actor": actor };
}

/** An HTTP client for calls, and a WebSocket client made only when a stream is asked for. */
export function connect(target: AgentTarget, actor?: string): Connection {
  const headers = agentHeaders(target, actor);
  let ws: Promise<{ client: AgentClient; close(): void }> | undefined;
  return {
    http: httpClient(target.url, headers),
    streams: async () => {
      ws ??= import("./streams.ts").then((m) => m.streamClient(target.url, headers));
      return (await ws).client;
    },
    close: () => void ws?.then((s) => s.close()),
  };
}
