// The CLI's connection to an agent: tRPC over HTTP for calls, over WebSocket for streams.
import { readFileSync } from "node:fs";
import { createTRPCClient, createWSClient, httpLink, wsLink } from "@trpc/client";
import WebSocket from "ws";
import { withHeaders } from "@corral/core";
import type { AppRouter } from "../api/root.ts";
import { tokenPath } from "../api/auth.ts";
import { DEFAULT_LISTEN } from "../env.ts";

export interface AgentTarget {
  url: string;
  token: string;
}

/** --agent / CORRAL_AGENT, else the local agent; the token from CORRAL_TOKEN or the lxcpath. */
export function resolveTarget(agentUrl: string | undefined, lxcpath: string, token: string | undefined): AgentTarget {
  const url = (agentUrl ?? `http://${DEFAULT_LISTEN}`).replace(/\/+$/, "");
  if (token) return { url, token };
  try {
    return { url, token: readFileSync(tokenPath(lxcpath), "utf8").trim() };
  } catch (e) {
    throw new Error(`no agent token: set CORRAL_TOKEN, or run as root beside the agent's lxcpath (${tokenPath(lxcpath)}: ${(e as NodeJS.ErrnoException).code ?? "not readable"})`, { cause: e });
  }
}

export type AgentClient = ReturnType<typeof createTRPCClient<AppRouter>>;

/** An HTTP client for calls, and a WebSocket client made only when a stream is asked for. */
export function connect(target: AgentTarget, actor = `cli:${process.env.SUDO_USER ?? process.env.USER ?? "root"}`) {
  const headers = { authorization: `Bearer ${target.token}`, "x-corral-actor": actor };
  const http: AgentClient = createTRPCClient<AppRouter>({ links: [httpLink({ url: `${target.url}/trpc`, headers })] });
  let wsClient: ReturnType<typeof createWSClient> | undefined;
  const streams = (): AgentClient => {
    wsClient ??= createWSClient({
      url: `${target.url.replace(/^http/, "ws")}/trpc`,
      WebSocket: withHeaders(WebSocket, headers),
      retryDelayMs: () => 500,
    });
    return createTRPCClient<AppRouter>({ links: [wsLink({ client: wsClient })] });
  };
  return { http, streams, close: () => void wsClient?.close() };
}
