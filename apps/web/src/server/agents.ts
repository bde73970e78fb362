// The dashboard server's connections to its agents: tRPC over HTTP for calls, one WebSocket per
// agent for the streams (event stream, consoles). Tokens stay here. An https agent is reached with
// its pinned certificate as the only one accepted (packages/core tls-pin.ts), on calls and
// streams alike. The agents are the registry's (registry.ts), looked at again on each use, so an
// agent added, renamed or removed by any dashboard server shows up here too. Server only.
import { request as httpsRequest } from "node:https";
import { createTRPCClient, createWSClient, httpLink, TRPCClientError, wsLink } from "@trpc/client";
import WebSocket from "ws";
import { agentProblem, pinnedTlsOptions, tokenRefused, withHeaders, type AgentPlace, type AgentProblemKind } from "@corral/core";
import type { AppRouter } from "@corral/agent/router";
import { webClientCertificate, type AgentConfig } from "./env.ts";
import { readRegistry, type RegistryState } from "./registry.ts";

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
    // no token: the dashboard's client certificate stands for it (mutual TLS)
    const h: Record<string, string> = this.config.token ? { authorization: `Bearer ${this.config.token}` } : {};
    if (actor) h["x-corral-actor"] = actor;
    return h;
  }

  /** The TLS options of an https agent: its pinned certificate, and no other; the dashboard's own certificate where it has one. */
  private tls(): object | undefined {
    if (!this.config.pin) return undefined;
    // one that cannot be read is said by /api/agents; the calls go on without it
    const read = readClientCertificate();
    const mine = "value" in read ? read.value : undefined;
    return { ...pinnedTlsOptions(this.config.pin), ...(mine ? { cert: mine.cert, key: mine.key } : {}) };
  }

  private httpClient(actor?: string): AgentClient {
    const tls = this.tls();
    return createTRPCClient<AppRouter>({
      links: [httpLink({
        url: `${this.config.url}/trpc`,
        headers: () => this.headers(actor),
        fetch: (url, init) => {
          const options = { ...(init as RequestInit), signal: init?.signal ?? AbortSignal.timeout(CALL_TIMEOUT_MS) };
          const href = typeof url === "string" ? url : url instanceof URL ? url.href : url.url;
          return tls && href.startsWith("https:") ? pinnedFetch(href, options, tls) : fetch(url, options);
        },
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
      WebSocket: withHeaders(WebSocket, headers, this.tls()),
      retryDelayMs: () => 1000,
      lazy: { enabled: true, closeMs: 10_000 },
      keepAlive: { enabled: true, intervalMs: 5_000, pongTimeoutMs: 4_000 },
    });
    this.streamClient = createTRPCClient<AppRouter>({ links: [wsLink({ client: this.wsClient })] });
    return this.streamClient;
  }

  /** The agent left the registry or changed: its WebSocket goes. */
  close(): void {
    void this.wsClient?.close();
  }
}

/**
 * fetch over node:https with the pin's TLS options (Node's own fetch takes no TLS options): what
 * tRPC's httpLink needs of a fetch, a Response with the status, headers and body.
 */
function pinnedFetch(url: string, init: RequestInit, tls: object): Promise<Response> {
  return new Promise((resolve, reject) => {
    const headers = Object.fromEntries(new Headers(init.headers).entries());
    const req = httpsRequest(url, { method: init.method ?? "GET", headers, signal: init.signal ?? undefined, ...tls }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const status = res.statusCode ?? 502;
        const body = status === 204 || status === 304 ? null : Buffer.concat(chunks);
        const out = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) out.set(k, Array.isArray(v) ? v.join(", ") : v);
        resolve(new Response(body, { status, headers: out }));
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(typeof init.body === "string" ? init.body : undefined);
  });
}

/**
 * The dashboard's client certificate, read once per process (a change needs a restart, as the
 * other settings); a file that cannot be read is kept as the Error that says so.
 */
let clientCertificateRead: { value: ReturnType<typeof webClientCertificate> } | { error: Error } | undefined;

function readClientCertificate(): { value: ReturnType<typeof webClientCertificate> } | { error: Error } {
  if (!clientCertificateRead) {
    try {
      clientCertificateRead = { value: webClientCertificate() };
    } catch (e) {
      clientCertificateRead = { error: new Error(`CORRAL_WEB_CLIENT_CERT and CORRAL_WEB_CLIENT_KEY cannot be read as a PEM certificate and key: ${(e as Error).message}`, { cause: e }) };
    }
  }
  return clientCertificateRead;
}

/** The dashboard's client certificate, if it has one; throws the Error of one that cannot be read. */
export function clientCertificate(): ReturnType<typeof webClientCertificate> {
  const read = readClientCertificate();
  if ("error" in read) throw read.error;
  return read.value;
}

// The connections of this server process (kept on globalThis so Next's separate route bundles
// share them), made again for an agent whose entry in the registry changed.
const CONNECTIONS = Symbol.for("corral.web.agents");
type Connections = { registry: RegistryState; agents: Map<string, AgentConnection> };

const sameConfig = (a: AgentConfig, b: AgentConfig) => a.url === b.url && a.token === b.token && a.pin?.fingerprint === b.pin?.fingerprint;

function connections(): Connections {
  const g = globalThis as unknown as Record<symbol, Connections | undefined>;
  const was = g[CONNECTIONS];
  const registry = readRegistry(was?.registry);
  if (was && was.registry === registry) return was;
  const agents = new Map<string, AgentConnection>();
  for (const c of registry.agents) {
    const old = was?.agents.get(c.name);
    agents.set(c.name, old && sameConfig(old.config, c) ? old : new AgentConnection(c));
  }
  for (const [name, old] of was?.agents ?? []) if (agents.get(name) !== old) old.close();
  return (g[CONNECTIONS] = { registry, agents });
}

export function agentNames(): string[] {
  return [...connections().agents.keys()];
}

/** A configuration problem to show instead of the agents (bad CORRAL_WEB_AGENTS, a registry file that does not parse). */
export function configError(): string | undefined {
  return connections().registry.error;
}

/** Whether the dashboard may change the agents (not when CORRAL_WEB_AGENTS fixes them). */
export function registryEditable(): boolean {
  return connections().registry.source === "file";
}

/** The answer of a route under /api/agents/:agent for an agent that is not configured. */
export function noSuchAgent(name: string): Response {
  return Response.json({ error: { message: `No agent named "${name}" is configured.`, code: "NOT_FOUND" } }, { status: 404 });
}

export function getAgent(name: string): AgentConnection | undefined {
  return connections().agents.get(name);
}

/** How to give a dashboard's agent a new pin or token, in the dashboard's terms. */
export function placeOfAgent(agent: Pick<AgentConfig, "name" | "url">): AgentPlace {
  const fix = registryEditable()
    ? `remove "${agent.name}" under Agents and add it again`
    : `change its entry in CORRAL_WEB_AGENTS on the dashboard's server`;
  return { url: agent.url, name: agent.name, repin: `${fix} (the new fingerprint is shown there to check)`, retoken: `${fix} with the token` };
}

const PROBLEM_STATUS: Record<AgentProblemKind, number> = { unreachable: 502, timeout: 504, "certificate-changed": 502, tls: 502, "needs-https": 502, "not-tls": 502, token: 502, version: 502 };

/** An HTTP status and a sentence for any failure of a call to an agent: the agent's own refusal, or why it could not be used (tls-pin.ts agentProblem). */
export function describeAgentError(agent: AgentConfig, e: unknown): { status: number; message: string; code: string } {
  if (process.env.CORRAL_WEB_DEBUG) console.error("agent error", agent.name, e, (e as { cause?: unknown }).cause);
  const place = placeOfAgent(agent);
  const problem = (kind: AgentProblemKind, message: string) => ({ status: PROBLEM_STATUS[kind], code: `AGENT_${kind.toUpperCase().replace(/-/g, "_")}`, message });
  if (e instanceof TRPCClientError) {
    const shape = e.shape as { data?: { code?: string } } | undefined;
    const code = (e.data as { code?: string } | undefined)?.code ?? shape?.data?.code;
    if (code === "UNAUTHORIZED" || /missing or wrong token/i.test(e.message)) return problem("token", tokenRefused(place).message);
    if (/speaks HTTPS only/.test(e.message)) return problem("needs-https", agentProblem({ code: "CORRAL_NEEDS_HTTPS" }, place)!.message);
    if (typeof code === "string") {
      const full = (e.data as { reason?: string } | undefined)?.reason === "INSUFFICIENT_STORAGE";
      const status = full ? 507 : ({ BAD_REQUEST: 400, FORBIDDEN: 403, NOT_FOUND: 404, CONFLICT: 409, PRECONDITION_FAILED: 409, TIMEOUT: 504, TOO_MANY_REQUESTS: 429, PAYLOAD_TOO_LARGE: 413, SERVICE_UNAVAILABLE: 503 } as Record<string, number>)[code] ?? 500;
      return { status, code, message: e.message };
    }
  }
  // no tRPC error code: the agent could not be reached or trusted, or answered something else
  const found = agentProblem(e, place);
  if (found) return problem(found.kind, found.message);
  if (e instanceof TRPCClientError && /WebSocket|closed/i.test(e.message)) {
    return problem("unreachable", `Unreachable: agent "${agent.name}" (${agent.url}) closed the connection. Check that the agent runs there; the dashboard keeps trying.`);
  }
  if (e instanceof TRPCClientError) return { status: 502, code: "AGENT_ERROR", message: `Agent "${agent.name}": ${e.message}` };
  return { status: 500, code: "INTERNAL", message: e instanceof Error ? e.message : String(e) };
}
