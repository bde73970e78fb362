// The agent's HTTP and WebSocket endpoint: tRPC at /trpc over both. Authentication, the JSON-body
// rule for mutations, the body limit and the Origin check happen here, before tRPC. Refusals are
// audited through a RefusalLog (a flood of them is summarized, paths are cut short); who the
// caller says it is (x-corral-actor) is believed only once its token is right. Beyond loopback the
// same handlers sit behind HTTPS (tls.ts: the agent's certificate; a client certificate it trusts
// stands for the token), and plain HTTP on that port is refused in words (tlsFront, below).
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { createServer as createNetServer, type Server, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { TLSSocket } from "node:tls";
import { API_VERSION, API_VERSION_HEADER, fingerprintOfPeer } from "@corral/core";
import type { TRPCError } from "@trpc/server";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";
import { applyWSSHandler } from "@trpc/server/adapters/ws";
import { agentEncoder } from "./ws-encoder.ts";
import { EventLane } from "./event-lane.ts";
import { WebSocketServer, type WebSocket } from "ws";
import { jsonLogger } from "../log.ts";
import type { AgentService } from "./service.ts";
import { appRouter } from "./root.ts";
import { originAllowed, requestToken, tokenMatches } from "./auth.ts";
import { describeRequest, RefusalLog } from "./refusals.ts";
import type { Context } from "./trpc.ts";
import { isLoopback, type TlsIdentity, type TrustStore } from "./tls.ts";

export interface ServeOptions {
  host: string;
  port: number;
  token: string;
  allowedOrigins: string[];
  /** HTTPS and WSS (beyond loopback): the agent's certificate, the client certificates it trusts */
  tls?: { identity: TlsIdentity; trust: TrustStore; /** plain HTTP is answered too (--insecure-plain-http) */ plainHttp: boolean };
}

/** The largest request body (and WebSocket frame): a container config is at most 1 MiB of text. */
export const MAX_BODY_BYTES = 2 * 1024 * 1024;

/**
 * The largest unread body of a refused authenticated request that is read and thrown away after
 * the answer. Closing a connection with the client's body still arriving makes the kernel reset
 * it, and a client still sending (fetch, most HTTP libraries) then fails with EPIPE or ECONNRESET
 * before it reads the answer: one 3 MiB create in four did here. Larger ones, and any from a
 * caller without the token, still end the connection with the answer.
 */
const MAX_DISCARDED_BYTES = 64 * 1024 * 1024;

/** Who a refused caller is said to be before its token is checked. */
const UNAUTHENTICATED = "anonymous";

/** The body's length as the request declares it; 0 when it declares none. */
function declaredLength(req: IncomingMessage): number {
  return Number(req.headers["content-length"] ?? 0);
}

function ipOf(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? "?";
}

function peer(req: IncomingMessage): string {
  return `${ipOf(req)}:${req.socket.remotePort ?? "?"}`;
}

/** The dashboard relays for a user and says so; only an authenticated caller's word is taken. */
function actorOf(req: IncomingMessage, trust: TrustStore | undefined): string {
  const relayed = req.headers["x-corral-actor"];
  if (typeof relayed === "string" && /^[\w.:@-]{1,100}$/.test(relayed)) return relayed;
  const client = trustedClient(req, trust);
  return client ? `cert:${client.name}` : "api";
}

/** The trusted client certificate the caller presented over TLS, if any. */
function trustedClient(req: IncomingMessage, trust: TrustStore | undefined) {
  const socket = req.socket as Partial<TLSSocket>;
  if (!trust || !socket.encrypted || !socket.getPeerCertificate) return undefined;
  return trust.find(fingerprintOfPeer(socket.getPeerCertificate()));
}

interface Refusal {
  status: number;
  why: string;
  /** the token was right: the caller's actor header may be believed */
  authenticated: boolean;
}

const STATUS_TEXT: Record<number, string> = { 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 413: "Payload Too Large", 415: "Unsupported Media Type" };

/** How long a corked socket may hold a frame while more are sent to it (see coalesceSends). */
export const MAX_CORK_MS = 1;

/**
 * Frames sent to one WebSocket in one turn of the event loop leave in one write: a start tells a
 * subscriber of STARTING and RUNNING and answers the request in the same turn, and under a burst
 * of a thousand starts a write per frame was the agent's largest single cost. The socket is
 * uncorked as soon as the code that sent has run (process.nextTick), or once it has held a frame
 * for MAX_CORK_MS while more were sent: the code that sent may be a long turn (everything a
 * microtask queue's drain runs), and its first event would otherwise wait for all of it.
 */
export function coalesceSends(ws: WebSocket, socket: Duplex, now: () => number = () => performance.now()): void {
  const send = ws.send.bind(ws) as (...args: unknown[]) => void;
  let corked = false;
  let since = 0;
  const uncork = () => {
    corked = false;
    socket.uncork();
  };
  ws.send = ((...args: unknown[]) => {
    if (!corked) {
      corked = true;
      since = now();
      socket.cork();
      process.nextTick(uncork);
    } else if (now() - since >= MAX_CORK_MS) {
      // what was held leaves now; this frame starts the next write
      socket.uncork();
      socket.cork();
      since = now();
    }
    send(...args);
  }) as WebSocket["send"];
}

export function serve(agent: AgentService, opts: ServeOptions): Promise<Server> {
  const refusals = new RefusalLog((entry) => agent.store.audit(entry));
  const audit = (req: IncomingMessage, r: Refusal, prefix = "") => refusals.record({
    ip: ipOf(req), address: peer(req), actor: r.authenticated ? actorOf(req, opts.tls?.trust) : UNAUTHENTICATED,
    status: r.status, action: describeRequest(req.method, req.url, prefix), why: r.why,
  });

  /** The token, or a trusted client certificate (mutual TLS), which then needs no token. */
  const authenticated = (req: IncomingMessage) => tokenMatches(requestToken(req), opts.token) || trustedClient(req, opts.tls?.trust) !== undefined;

  /** Why an HTTP request is refused before tRPC sees it, if it is. */
  const check = (req: IncomingMessage): Refusal | undefined => {
    const path = (req.url ?? "/").split("?")[0]!;
    if (!path.startsWith("/trpc/")) return { status: 404, why: "not found", authenticated: false };
    if (!authenticated(req)) return { status: 401, why: "missing or wrong token", authenticated: false };
    if (req.method === "POST" && !/^application\/json\b/i.test(req.headers["content-type"] ?? "")) {
      return { status: 415, why: "mutations need a JSON body (content-type: application/json)", authenticated: true };
    }
    if (!(declaredLength(req) <= MAX_BODY_BYTES)) return { status: 413, why: `the body is over ${MAX_BODY_BYTES} bytes`, authenticated: true };
    return undefined;
  };

  const refuse = (req: IncomingMessage, res: ServerResponse, r: Refusal) => {
    audit(req, r);
    // The answer goes at once, whatever the body. An authenticated caller's connection stays open
    // for Node to read the body and throw it away, so the caller sees the answer (see
    // MAX_DISCARDED_BYTES); any other connection ends with the answer, as does one that waits
    // for "100 Continue": its body is not coming.
    const discard = r.authenticated && req.headers.expect === undefined && declaredLength(req) <= MAX_DISCARDED_BYTES;
    res.writeHead(r.status, { "content-type": "application/json", ...(discard ? {} : { connection: "close" }) });
    res.end(JSON.stringify({ error: { message: r.why, code: r.status } }));
  };

  const backlogOf = (res: ServerResponse | WebSocket) => () => ("bufferedAmount" in res ? res.bufferedAmount : res.writableLength);
  const createContext = ({ req, res }: { req: IncomingMessage; res: ServerResponse | WebSocket }): Context =>
    ({ agent, actor: actorOf(req, opts.tls?.trust), address: peer(req), backlog: backlogOf(res) });

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
    // every answer says the API's version, so a client of another version can say so in words
    res.setHeader(API_VERSION_HEADER, String(API_VERSION));
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
    if (!authenticated(req)) { refuse(req, res, { status: 401, why: "missing or wrong token", authenticated: false }); return; }
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

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_BODY_BYTES });
  applyWSSHandler({
    wss, router: appRouter, createContext, keepAlive: { enabled: true, pingMs: 15_000, pongWaitMs: 10_000 }, experimental_encoder: agentEncoder,
    onError: ({ error, path, req }) => onError({ error, path, req }),
  });
  const refuseUpgrade = (req: IncomingMessage, socket: Duplex, r: Refusal) => {
    audit(req, r, "WS ");
    socket.end(`HTTP/1.1 ${r.status} ${STATUS_TEXT[r.status] ?? "Refused"}\r\ncontent-type: application/json\r\n${API_VERSION_HEADER}: ${API_VERSION}\r\nconnection: close\r\n\r\n${JSON.stringify({ error: { message: r.why } })}`);
  };
  const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? "/").split("?")[0]!;
    if (path !== "/trpc" && path !== "/trpc/") { refuseUpgrade(req, socket, { status: 404, why: "not found", authenticated: false }); return; }
    if (!originAllowed(req.headers.origin, opts.allowedOrigins)) { refuseUpgrade(req, socket, { status: 403, why: `origin ${String(req.headers.origin).slice(0, 100)} is not allowed`, authenticated: false }); return; }
    if (!authenticated(req)) { refuseUpgrade(req, socket, { status: 401, why: "missing or wrong token", authenticated: false }); return; }
    wss.handleUpgrade(req, socket, head, (ws) => {
      coalesceSends(ws, socket);
      EventLane.attach(ws, createContext({ req, res: ws }), (error) => onError({ error, path: "events.onEvent", req }));
      wss.emit("connection", ws, req);
    });
  };
  agent.beforeStoreCloses.push(() => refusals.close());

  /** HTTP's handlers on a server: requests, "Expect: 100-continue" (curl sends it with large bodies: refused before the body is sent), upgrades. */
  const handling = <S extends HttpServer>(s: S): S => {
    s.on("request", handle);
    s.on("checkContinue", (req: IncomingMessage, res: ServerResponse) => {
      if (check(req) === undefined) res.writeContinue();
      handle(req, res);
    });
    s.on("upgrade", upgrade);
    return s;
  };
  const refusePlain = (socket: Socket, first: Buffer) => {
    const [method, url] = first.subarray(0, 300).toString("latin1").split(/[ \r\n]/);
    refusals.record({ ip: socket.remoteAddress ?? "?", address: `${socket.remoteAddress ?? "?"}:${socket.remotePort ?? "?"}`, actor: UNAUTHENTICATED, status: 400, action: describeRequest(method, url), why: "plain HTTP beyond loopback" });
    const body = JSON.stringify({ error: { message: `this agent speaks HTTPS only: use https://${opts.host.includes(":") ? `[${opts.host}]` : opts.host}:${opts.port} and pin its certificate (corral remote add NAME URL)`, code: "CORRAL_NEEDS_HTTPS" } });
    socket.end(`HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\n${API_VERSION_HEADER}: ${API_VERSION}\r\nx-corral-needs-https: 1\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  };
  const server: Server = opts.tls
    ? tlsFront(handling(createHttpsServer({ cert: opts.tls.identity.cert, key: opts.tls.identity.key, requestCert: true, rejectUnauthorized: false })), handling(createServer()), opts.tls.plainHttp, refusePlain)
    : handling(createServer());

  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => resolve(server));
  });
}

/** How long a new connection may stay silent before it is closed, while its protocol is not known. */
const FIRST_BYTE_MS = 10_000;

/**
 * One port for TLS and plain HTTP: the first byte tells them apart (a TLS handshake starts with
 * 22). TLS goes to the HTTPS server. Plain HTTP goes to the HTTP server when it came over loopback
 * (an agent on 0.0.0.0 asked by this host's own CLI or dashboard at 127.0.0.1: it never leaves the
 * host) or where it is allowed everywhere (--insecure-plain-http); else it is answered with a 400
 * that says to use https (and audited), so a client that forgot the scheme learns why instead of
 * seeing a reset.
 */
function tlsFront(https: HttpServer, plain: HttpServer, plainEverywhere: boolean, refusePlain: (socket: Socket, first: Buffer) => void): Server {
  return createNetServer((socket) => {
    // until a server takes it, its errors (a reset) are this connection's end, nothing more
    socket.on("error", () => socket.destroy());
    socket.setTimeout(FIRST_BYTE_MS, () => socket.destroy());
    socket.once("readable", () => {
      const first = socket.read() as Buffer | null;
      if (first === null) { socket.destroy(); return; }
      socket.setTimeout(0);
      socket.unshift(first);
      if (first[0] === 0x16) https.emit("connection", socket);
      else if (plainEverywhere || isLoopback(socket.localAddress ?? "")) plain.emit("connection", socket);
      else refusePlain(socket, first);
    });
  });
}
