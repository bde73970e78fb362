// The agent's HTTP and WebSocket endpoint: tRPC at /trpc over both. Authentication, the JSON-body
// rule for mutations and the Origin check happen here, before tRPC; each refusal is audited.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";
import { applyWSSHandler } from "@trpc/server/adapters/ws";
import { WebSocketServer } from "ws";
import type { Agent } from "../agent.ts";
import { appRouter } from "./root.ts";
import { originAllowed, requestToken, tokenMatches } from "./auth.ts";
import type { Context } from "./trpc.ts";

export interface ServeOptions {
  host: string;
  port: number;
  token: string;
  allowedOrigins: string[];
}

function peer(req: IncomingMessage): string {
  return `${req.socket.remoteAddress ?? "?"}:${req.socket.remotePort ?? "?"}`;
}

function actorOf(req: IncomingMessage): string {
  const relayed = req.headers["x-corral-actor"];
  return typeof relayed === "string" && /^[\w.:@-]{1,100}$/.test(relayed) ? relayed : "api";
}

function refuse(agent: Agent, req: IncomingMessage, res: ServerResponse, status: number, why: string): void {
  agent.store.audit({ actor: actorOf(req), address: peer(req), action: `${req.method} ${req.url?.split("?")[0]}`, target: null, result: "refused", detail: why });
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify({ error: { message: why, code: status } }));
}

function refuseUpgrade(agent: Agent, req: IncomingMessage, socket: Duplex, status: number, why: string): void {
  agent.store.audit({ actor: actorOf(req), address: peer(req), action: `WS ${req.url?.split("?")[0]}`, target: null, result: "refused", detail: why });
  socket.end(`HTTP/1.1 ${status} ${status === 401 ? "Unauthorized" : "Forbidden"}\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n${JSON.stringify({ error: { message: why } })}`);
}

export function serve(agent: Agent, opts: ServeOptions): Promise<Server> {
  const createContext = ({ req }: { req: IncomingMessage }): Context => ({ agent, actor: actorOf(req), address: peer(req) });
  const trpc = createHTTPHandler({ router: appRouter, createContext, basePath: "/trpc/" });

  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0]!;
    if (path === "/" || path === "/healthz") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ service: "corral-agent", ok: true }));
      return;
    }
    if (!path.startsWith("/trpc/")) return refuse(agent, req, res, 404, "not found");
    if (!tokenMatches(requestToken(req), opts.token)) return refuse(agent, req, res, 401, "missing or wrong token");
    if (req.method === "POST" && !/^application\/json\b/i.test(req.headers["content-type"] ?? "")) {
      return refuse(agent, req, res, 415, "mutations need a JSON body (content-type: application/json)");
    }
    trpc(req, res);
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 1 << 20 });
  applyWSSHandler({ wss, router: appRouter, createContext, keepAlive: { enabled: true, pingMs: 15_000, pongWaitMs: 10_000 } });
  server.on("upgrade", (req, socket, head) => {
    const path = (req.url ?? "/").split("?")[0]!;
    if (path !== "/trpc" && path !== "/trpc/") return refuseUpgrade(agent, req, socket, 403, "not found");
    if (!originAllowed(req.headers.origin, opts.allowedOrigins)) return refuseUpgrade(agent, req, socket, 403, `origin ${req.headers.origin} is not allowed`);
    if (!tokenMatches(requestToken(req), opts.token)) return refuseUpgrade(agent, req, socket, 401, "missing or wrong token");
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit("connection", ws, req));
  });

  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => resolve(server));
  });
}
