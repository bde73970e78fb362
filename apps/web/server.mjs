#!/usr/bin/env node
// The dashboard's server: Next.js's production handler behind an HTTP server of our own, for one
// reason. The sign-in limit per address (src/server/login-limiter.ts) must know the caller's real
// address, and `next start` keeps any x-forwarded-for the caller sends, so anyone could make one
// up for each guess and escape it. Here the header is set from the socket, unless the peer is a
// reverse proxy the operator trusts (CORRAL_TRUSTED_PROXIES: its addresses, comma-separated),
// whose header is kept as it says.
//   node server.mjs [-H HOST] [-p PORT]        (in apps/web, after `next build`)
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: { hostname: { type: "string", short: "H", default: "127.0.0.1" }, port: { type: "string", short: "p", default: "3000" } },
});
const hostname = values.hostname;
const port = Number(values.port);
const trusted = new Set((process.env.CORRAL_TRUSTED_PROXIES ?? "").split(",").map((a) => a.trim()).filter(Boolean));

// as `next start` does: a production server, whatever the environment said
process.env.NODE_ENV = "production";
const { default: next } = await import("next");
const app = next({ dev: false, dir: fileURLToPath(new URL(".", import.meta.url)), hostname, port });
await app.prepare();
const handle = app.getRequestHandler();

const server = createServer((req, res) => {
  const peer = req.socket.remoteAddress ?? "unknown";
  if (!trusted.has(peer)) req.headers["x-forwarded-for"] = peer;
  void handle(req, res);
});
server.listen(port, hostname, () => process.stdout.write(`corral dashboard ready on http://${hostname}:${port}\n`));
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.once(signal, () => {
    server.close();
    void app.close?.().finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  });
}
