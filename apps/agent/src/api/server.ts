// The agent's HTTP and WebSocket endpoint: tRPC at /trpc over both. Authentication, the JSON-body
// rule for mutations, the body limit and the Origin check happen here, before tRPC. Refusals are
// audited through a RefusalLog (a flood of them is summarized, paths are cut short); who the
// caller says it is (x-corral-actor) is believed only once its token is right.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { TRPCError } from "@trpc/server";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";
import { applyWSSHandler } from "@trpc/server/adapters/ws";
import { WebSocketServer, type WebSocket } from "ws";
import { jsonLogger } from "../log.ts";
import type { AgentService } from "./service.ts";
import { appRouter } from "./root.ts";
import { originAllowed, requestToken, tokenMatches } from "./auth.ts";
import { describeRequest, RefusalLog } from "./refusals.ts";
import type { Context } from "./trpc.ts";

export interface ServeOptions {
  host: string;
  port: number;
  token: string;
  allowedOrigins: string[];
}

/** The largest request body (and WebSocket frame): a container config is at most 1 MiB of text. */
export const MAX_BODY_BYTES = 2 * 1024 * 1024;

/** Who a refused caller is said to be before its token is checked. */
const UNAUTHENTICATED = "anonymous";

function ipOf(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? "?";
}

function peer(req: IncomingMessage): string {
  return `${ipOf(req)}:${req.socket.remotePort ?? "?"}`;
}

/** The dashboard relays for a user and says so; only an authenticated caller's word is taken. */
function actorOf(req: IncomingMessage): string {
  const relayed = req.headers["x-corral-actor"];
  return typeof relayed === "string" && /^[\w.:@-]{1,100}$/.test(relayed) ? relayed : "api";
}

interface Refusal {
  status: number;
  why: string;
  /** the token was right: the caller's actor header may be believed */
  authenticated: boolean;
}

const STATUS_TEXT: Record<number, string> = { 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 413: "Payload Too Large", 415: "Unsupported Media Type" };

/**
 * Frames sent to one WebSocket in one turn of the event loop leave in one write: a start tells a
 * subscriber of STARTING and RUNNING and answers the request in the same turn, and under a burst
 * of a thousand starts a write per frame was the agent's largest single cost. Nothing waits: the
 * socket is uncorked as soon as the code that sent has run (process.nextTick).
 */
function coalesceSends(ws: WebSocket, socket: Duplex): void {
  const send = ws.send.bind(ws) as (...args: unknown[]) => void;
  let corked = false;
  const uncork = () => {
    corked = false;
    socket.uncork();
  };
  ws.send = ((...args: unknown[]) => {
    if (!corked) {
      corked = true;
      socket.cork();
      process.nextTick(uncork);
    }
    send(...args);
  }) as WebSocket["send"];
}

export function serve(agent: AgentService, opts: ServeOptions): Promise<Server> {
  const refusals = new RefusalLog((entry) => agent.store.audit(entry));
  const audit = (req: IncomingMessage, r: Refusal, prefix = "") => refusals.record({
    ip: ipOf(req), address: peer(req), actor: r.authenticated ? actorOf(req) : UNAUTHENTICATED,
    status: r.status, action: describeRequest(req.method, req.url, prefix), why: r.why,
  });

  /** Why an HTTP request is refused before tRPC sees it, if it is. */
  const check = (req: IncomingMessage): Refusal | undefined => {
    const path = (req.url ?? "/").split("?")[0]!;
    if (!path.startsWith("/trpc/")) return { status: 404, why: "not found", authenticated: false };
    if (!tokenMatches(requestToken(req), opts.token)) return { status: 401, why: "missing or wrong token", authenticated: false };
    if (req.method === "POST" && !/^application\/json\b/i.test(req.headers["content-type"] ?? "")) {
      return { status: 415, why: "mutations need a JSON body (content-type: application/json)", authenticated: true };
    }
    const length = Number(req.headers["content-length"] ?? 0);
    if (!(length <= MAX_BODY_BYTES)) return { status: 413, why: `the body is over ${MAX_BODY_BYTES} bytes`, authenticated: true };
    return undefined;
  };

  const refuse = (req: IncomingMessage, res: ServerResponse, r: Refusal) => {
    audit(req, r);
    // a body we did not read is not waited for: the connection ends with the answer
    res.writeHead(r.status, { "content-type": "application/json", connection: "close" });
    res.end(JSON.stringify({ error: { message: r.why, code: r.status } }));
  };

  const backlogOf = (res: ServerResponse | WebSocket) => () => ("bufferedAmount" in res ? res.bufferedAmount : res.writableLength);
  const createContext = ({ req, res }: { req: IncomingMessage; res: ServerResponse | WebSocket }): Context =>
    ({ agent, actor: actorOf(req), address: peer(req), backlog: backlogOf(res) });

  /** tRPC's own refusals of an authenticated call (a wrong method, no such procedure) are audited; internal errors are logged here, with their stack, and leave without it. */
  const onError = ({ error, path, req }: { error: TRPCError; path?: string; req: IncomingMessage }) => {
    if (error.code === "METHOD_NOT_SUPPORTED" || (error.code === "NOT_FOUND" && /^No "\w+"-procedure on path/.test(error.message))) {
      audit(req, { status: error.code === "METHOD_NOT_SUPPORTED" ? 405 : 404, why: error.message.slice(0, 300), authenticated: true });
    } else if (error.code === "INTERNAL_SERVER_ERROR") {
      jsonLogger.error("request failed", { path, error: String((error.cause)?.stack ?? error.stack) });
    }
  };

  const trpc = createHTTPHandler({ router: appRouter, createContext, basePath: "/trpc/", maxBodySize: MAX_BODY_BYTES, onError });

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? "/").split("?")[0]!;
    if (path === "/" || path === "/healthz") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ service: "corral-agent", ok: true }));
      return;
    }
    if (path === "/metrics") { metrics(req, res); return; }
    const refusal = check(req);
    if (refusal) { refuse(req, res, refusal); return; }
    trpc(req, res);
  };

  /** Prometheus's scrape: GET with the token, the exposition text. */
  const metrics = (req: IncomingMessage, res: ServerResponse) => {
    if (!tokenMatches(requestToken(req), opts.token)) { refuse(req, res, { status: 401, why: "missing or wrong token", authenticated: false }); return; }
    if (req.method !== "GET") { refuse(req, res, { status: 405, why: "GET /metrics only", authenticated: true }); return; }
    agent.metrics.text().then((text) => {
      res.writeHead(200, { "content-type": agent.metrics.contentType });
      res.end(text);
    }, (e: unknown) => {
      jsonLogger.error("metrics failed", { error: String((e as Error).stack ?? e) });
      res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: "the metrics could not be gathered", code: 500 } }));
    });
  };

  const server = createServer(handle);
  // "Expect: 100-continue" (curl sends it with large bodies): refuse before the body is sent
  server.on("checkContinue", (req: IncomingMessage, res: ServerResponse) => {
    if (check(req) === undefined) res.writeContinue();
    handle(req, res);
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_BODY_BYTES });
  applyWSSHandler({
    wss, router: appRouter, createContext, keepAlive: { enabled: true, pingMs: 15_000, pongWaitMs: 10_000 },
    onError: ({ error, path, req }) => onError({ error, path, req }),
  });
  const refuseUpgrade = (req: IncomingMessage, socket: Duplex, r: Refusal) => {
    audit(req, r, "WS ");
    socket.end(`HTTP/1.1 ${r.status} ${STATUS_TEXT[r.status] ?? "Refused"}\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n${JSON.stringify({ error: { message: r.why } })}`);
  };
  server.on("upgrade", (req, socket, head) => {
    const path = (req.url ?? "/").split("?")[0]!;
    if (path !== "/trpc" && path !== "/trpc/") { refuseUpgrade(req, socket, { status: 404, why: "not found", authenticated: false }); return; }
    if (!originAllowed(req.headers.origin, opts.allowedOrigins)) { refuseUpgrade(req, socket, { status: 403, why: `origin ${String(req.headers.origin).slice(0, 100)} is not allowed`, authenticated: false }); return; }
    if (!tokenMatches(requestToken(req), opts.token)) { refuseUpgrade(req, socket, { status: 401, why: "missing or wrong token", authenticated: false }); return; }
    wss.handleUpgrade(req, socket, head, (ws) => {
      coalesceSends(ws, socket);
      wss.emit("connection", ws, req);
    });
  });
  agent.beforeStoreCloses.push(() => refusals.close());

  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => resolve(server));
  });
}
