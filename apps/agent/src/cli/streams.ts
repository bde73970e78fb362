// tRPC over WebSocket, for the commands that follow a stream. Loaded on demand (client.ts):
// ws and tRPC's client are most of what a short command would otherwise load.
import { createTRPCClient, createWSClient, wsLink } from "@trpc/client";
import WebSocket from "ws";
import { withHeaders } from "@corral/core";
import type { AppRouter } from "../api/root.ts";
import type { AgentClient } from "./agent-http.ts";

/** `tls`: the pin of an https agent's certificate (client.ts), checked on every (re)connection. */
export function streamClient(url: string, headers: Record<string, string>, tls?: object): { client: AgentClient; close(): void } {
  const ws = createWSClient({
    url: `${url.replace(/^http/, "ws")}/trpc`,
    WebSocket: withHeaders(WebSocket, headers, tls),
    retryDelayMs: () => 500,
  });
  return { client: createTRPCClient<AppRouter>({ links: [wsLink({ client: ws })] }), close: () => void ws.close() };
}
