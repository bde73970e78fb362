// `corral agent`: the long-lived agent in the foreground, logging JSON lines.
import { Agent, jsonLogger } from "../agent.ts";
import { loadOrCreateToken } from "../api/auth.ts";
import { serve } from "../api/server.ts";
import { env } from "../env.ts";
import { nativeSyscalls } from "../sys/native.ts";
import { UsageError } from "./args.ts";
import { nodeHost } from "../host/node-host.ts";
import { reclaimMemoryWhenQuiet } from "../memory.ts";

export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(listen);
  if (!m || Number(m[2]) > 65535) throw new UsageError(`--listen wants HOST:PORT, got "${listen}"`);
  return { host: m[1]!.replace(/^\[|\]$/g, ""), port: Number(m[2]) };
}

export async function runAgent(lxcpath: string, listen: string): Promise<number> {
  if (process.getuid?.() !== 0) throw new Error("the agent must run as root (it creates namespaces, cgroups and veths)");
  const { host, port } = parseListen(listen);
  // A log reader that went away must not take the agent down with EPIPE.
  process.stdout.on("error", () => {});
  process.stderr.on("error", () => {});
  // The containers die with the agent (PDEATHSIG): a bug in one request's handling is logged,
  // never allowed to end the process and every container with it.
  process.on("unhandledRejection", (e) => jsonLogger.error("unhandled rejection", { error: e instanceof Error ? (e.stack ?? e.message) : String(e) }));
  process.on("uncaughtException", (e) => jsonLogger.error("uncaught exception", { error: String(e.stack ?? e) }));
  nativeSyscalls.tuneMalloc();
  const agent = new Agent(nativeSyscalls, nodeHost, lxcpath);
  const token = loadOrCreateToken(agent.lxcpath.root, env.token);
  await agent.boot();
  const server = await serve(agent, { host, port, token, allowedOrigins: env.allowedOrigins });
  const mb = (n: number) => Math.round(n / 1048576);
  const stopReclaiming = reclaimMemoryWhenQuiet((before, after) => jsonLogger.info("heap given back after a burst", { heapMB: mb(before), nowMB: mb(after) }));
  jsonLogger.info("agent listening", { url: `http://${listen}`, lxcpath: agent.lxcpath.root, storeId: agent.store.storeId });
  return new Promise((resolve) => {
    const shutdown = (signal: string) => {
      jsonLogger.info("agent stopping", { signal });
      server.close();
      stopReclaiming();
      void agent.shutdown({ actor: "agent", request: `agent stopped by ${signal}` }).finally(() => resolve(0));
    };
    process.once("SIGTERM", () => shutdown("SIGTERM"));
    process.once("SIGINT", () => shutdown("SIGINT"));
  });
}
