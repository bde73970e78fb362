// The dashboard server's connections to its agents: tRPC over HTTP for calls, one WebSocket per
// agent for the streams (event stream, consoles). Tokens stay here. Server only.
import { createTRPCClient, createWSClient, httpLink, TRPCClientError, wsLink } from "@trpc/client";
import WebSocket from "ws";
import { withHeaders } from "@corral/core";
import type { AppRouter } from "@corral/agent/router";
import { loadAgents, type AgentConfig } from "./env.ts";

export type AgentClient = ReturnType<typeof createTRPCClient<AppRouter>>;

const CALL_TIMEOUT_MS = 20_000;

export class AgentConnection {
  /** the dashboard's own calls (status checks), with no user as the actor */
  readonly http: AgentClient;
  /** one HTTP client per actor, made on first use */
  private clients = new Map<string, AgentClient>();
  private wsClient: ReturnType<typeof createWSClient> | undefined;
  private streamClient: AgentClient | undefined;

  constructor(readonly config: AgentConfig) {
    this.http = this.httpClient();
  }

  private headers(actor?: string): Record<string, string> {
    const h: Record<string, string> = { authorization: `Bearer ${this.config.token}` };
    if (actor) h["x-corral-actor"] = actor;
    return h;
  }

  private httpClient(actor?: string): AgentClient {
    return createTRPCClient<AppRouter>({
      links: [httpLink({
        url: `${this.config.url}/trpc`,
        headers: () => this.headers(actor),
        fetch: (url, init) => fetch(url, { ...(init as RequestInit), signal: init?.signal ?? AbortSignal.timeout(CALL_TIMEOUT_MS) }),
      })],
    });
  }

  /** The client for calls made for a dashboard user, recording them as the actor. */
  as(actor: string): AgentClient {
    let client = this.clients.get(actor);
    if (!client) this.clients.set(actor, (client = this.httpClient(actor)));
    return client;
  }

  /** The streaming client: one WebSocket, reconnecting every second, resubscribing from the last id. */
  streams(): AgentClient {
    if (this.streamClient) return this.streamClient;
    const headers = this.headers("dashboard");
    this.wsClient = createWSClient({
      url: `${this.config.url.replace(/^http/, "ws")}/trpc`,
      WebSocket: withHeaders(WebSocket, headers),
      retryDelayMs: () => 1000,
      lazy: { enabled: true, closeMs: 10_000 },
      keepAlive: { enabled: true, intervalMs: 5_000, pongTimeoutMs: 4_000 },
    });
    this.streamClient = createTRPCClient<AppRouter>({ links: [wsLink({ client: this.wsClient })] });
    return this.streamClient;
  }
}

// One registry per server process (kept on globalThis so Next's separate route bundles share it).
const REGISTRY = Symbol.for("corral.web.agents");
type Registry = { agents: Map<string, AgentConnection>; error?: string };

function registry(): Registry {
  const g = globalThis as unknown as Record<symbol, Registry | undefined>;
  let r = g[REGISTRY];
  if (!r) {
    r = { agents: new Map() };
    try {
      for (const c of loadAgents()) r.agents.set(c.name, new AgentConnection(c));
    } catch (e) {
      r.error = (e as Error).message;
    }
    g[REGISTRY] = r;
  }
  return r;
}

export function agentNames(): string[] {
  return [...registry().agents.keys()];
}

/** A configuration problem to show instead of the agents (bad CORRAL_WEB_AGENTS, ...). */
export function configError(): string | undefined {
  return registry().error;
}

/** The answer of a route under /api/agents/:agent for an agent that is not configured. */
export function noSuchAgent(name: string): Response {
  return Response.json({ error: { message: `No agent named "${name}" is configured.`, code: "NOT_FOUND" } }, { status: 404 });
}

export function getAgent(name: string): AgentConnection | undefined {
  return registry().agents.get(name);
}

/** An HTTP status and a sentence for any failure of a call to an agent. */
export function describeAgentError(agent: AgentConfig, e: unknown): { status: number; message: string; code: string } {
  if (process.env.CORRAL_WEB_DEBUG) console.error("agent error", agent.name, e, (e as { cause?: unknown }).cause);
  if (e instanceof TRPCClientError) {
    const shape = e.shape as { data?: { code?: string } } | undefined;
    const code = (e.data as { code?: string } | undefined)?.code ?? shape?.data?.code;
    if (typeof code === "string") {
      const full = (e.data as { reason?: string } | undefined)?.reason === "INSUFFICIENT_STORAGE";
      const status = full ? 507 : ({ BAD_REQUEST: 400, UNAUTHORIZED: 502, FORBIDDEN: 403, NOT_FOUND: 404, CONFLICT: 409, PRECONDITION_FAILED: 409, TIMEOUT: 504, TOO_MANY_REQUESTS: 429, PAYLOAD_TOO_LARGE: 413, SERVICE_UNAVAILABLE: 503 } as Record<string, number>)[code] ?? 500;
      if (code === "UNAUTHORIZED") {
        return { status, code: "AGENT_UNAUTHORIZED", message: `Agent "${agent.name}" refused the dashboard's token. Check its entry in CORRAL_WEB_AGENTS.` };
      }
      return { status, code, message: e.message };
    }
    // no tRPC error code: the agent could not be reached, or answered something else
    const cause = e.cause as (Error & { cause?: { code?: string } }) | undefined;
    const sys = cause?.cause?.code ?? (cause as { code?: string } | undefined)?.code;
    if (sys === "ECONNREFUSED" || sys === "ECONNRESET" || sys === "EHOSTUNREACH" || sys === "ENOTFOUND" || /fetch failed/i.test(e.message)) {
      return { status: 502, code: "AGENT_UNREACHABLE", message: `Agent "${agent.name}" is unreachable at ${agent.url}${sys ? ` (${sys})` : ""}.` };
    }
    if (/WebSocket|socket hang up|closed/i.test(e.message)) {
      return { status: 502, code: "AGENT_UNREACHABLE", message: `Agent "${agent.name}" is unreachable at ${agent.url} (the connection closed).` };
    }
    if (cause?.name === "TimeoutError" || /aborted|timeout/i.test(e.message)) {
      return { status: 504, code: "AGENT_TIMEOUT", message: `Agent "${agent.name}" did not answer in time.` };
    }
    if (/401|missing or wrong token/i.test(e.message)) {
      return { status: 502, code: "AGENT_UNAUTHORIZED", message: `Agent "${agent.name}" refused the dashboard's token. Check its entry in CORRAL_WEB_AGENTS.` };
    }
    return { status: 502, code: "AGENT_ERROR", message: `Agent "${agent.name}": ${e.message}` };
  }
  return { status: 500, code: "INTERNAL", message: e instanceof Error ? e.message : String(e) };
}
