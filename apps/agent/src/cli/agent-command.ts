// `corral agent`: the long-lived agent in the foreground, logging JSON lines.
import { readFileSync } from "node:fs";
import { Agent, jsonLogger } from "../agent.ts";
import { loadOrCreateToken } from "../api/auth.ts";
import { serve } from "../api/server.ts";
import { isLoopback, loadOrCreateIdentity, TrustStore } from "../api/tls.ts";
import { env } from "../env.ts";
import { nativeSyscalls } from "../sys/native.ts";
import { UsageError } from "./args.ts";
import { nodeHost } from "../host/node-host.ts";
import { reclaimMemoryWhenQuiet } from "../memory.ts";
import { idleV8Threads } from "../idle-threads.ts";

export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(listen);
  if (!m || Number(m[2]) > 65535) throw new UsageError(`--listen wants HOST:PORT, got "${listen}"`);
  return { host: m[1]!.replace(/^\[|\]$/g, ""), port: Number(m[2]) };
}

export interface AgentTlsOptions {
  /** --tls-cert and --tls-key: a certificate and key of the operator's, in place of the lxcpath's */
  cert?: string;
  key?: string;
  /** --tls: HTTPS on loopback too */
  force: boolean;
  /** --insecure-plain-http: plain HTTP is answered beyond loopback too (beside HTTPS) */
  plainHttp: boolean;
}

export async function runAgent(lxcpath: string, listen: string, tlsOptions: AgentTlsOptions): Promise<number> {
  if (process.getuid?.() !== 0) throw new Error("the agent must run as root (it creates namespaces, cgroups and veths)");
  const { host, port } = parseListen(listen);
  // beyond loopback the token would cross a network: HTTPS there, plain HTTP on loopback as before
  const useTls = tlsOptions.force || !isLoopback(host) || tlsOptions.cert !== undefined;
  // A log reader that went away must not take the agent down with EPIPE.
  process.stdout.on("error", () => {});
  process.stderr.on("error", () => {});
  // The containers die with the agent (PDEATHSIG): a bug in one request's handling is logged,
  // never allowed to end the process and every container with it.
  process.on("unhandledRejection", (e) => jsonLogger.error("unhandled rejection", { error: e instanceof Error ? (e.stack ?? e.message) : String(e) }));
  process.on("uncaughtException", (e) => jsonLogger.error("uncaught exception", { error: String(e.stack ?? e) }));
  nativeSyscalls.tuneMalloc();
  await idleV8Threads(nativeSyscalls, jsonLogger);
  const agent = new Agent(nativeSyscalls, nodeHost, lxcpath);
  const token = loadOrCreateToken(agent.lxcpath.root, env.token);
  const identity = useTls ? loadOrCreateIdentity(agent.lxcpath.root, tlsOptions) : undefined;
  await agent.boot();
  const tls = identity && { identity, trust: TrustStore.of(agent.lxcpath.root), plainHttp: tlsOptions.plainHttp };
  const server = await serve(agent, { host, port, token, allowedOrigins: env.allowedOrigins, tls });
  const mb = (n: number) => Math.round(n / 1048576);
  const stopReclaiming = reclaimMemoryWhenQuiet((before, after) => jsonLogger.info("heap given back after a burst", { heapMB: mb(before), nowMB: mb(after) }), () => nativeSyscalls.trimMalloc());
  jsonLogger.info("agent listening", {
    url: `${identity ? "https" : "http"}://${listen}`, lxcpath: agent.lxcpath.root, storeId: agent.store.storeId,
    ...(identity ? { fingerprint: identity.fingerprint, certificate: identity.certPath, plainHttp: tlsOptions.plainHttp } : {}),
  });
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

/** `corral agent --fingerprint`: the SHA-256 of the certificate the agent serves (made now if it has none yet). */
export function printFingerprint(lxcpath: string, given: { cert?: string; key?: string }): number {
  const identity = loadOrCreateIdentity(lxcpath, given);
  process.stdout.write(`${identity.fingerprint}\n`);
  return 0;
}

/** `corral agent trust add FILE [--name N] | list | remove NAME|FINGERPRINT`, as `incus config trust`. */
export function agentTrust(lxcpath: string, action: string | undefined, operand: string | undefined, name: string | undefined): number {
  const trust = TrustStore.of(lxcpath);
  switch (action) {
    case "add": {
      if (operand === undefined) throw new UsageError("agent trust add needs a certificate FILE (PEM)");
      const added = trust.add(readFileSync(operand, "utf8"), operand, name);
      process.stdout.write(`trusted ${added.name}: ${added.fingerprint} (no token needed with it)\n`);
      return 0;
    }
    case "list":
      for (const c of trust.list()) process.stdout.write(`${c.fingerprint}  ${c.name}  ${c.addedAt}\n`);
      return 0;
    case "remove":
      if (operand === undefined) throw new UsageError("agent trust remove needs a NAME or FINGERPRINT");
      if (!trust.remove(operand)) throw new Error(`no trusted certificate named or with the fingerprint "${operand}"`);
      process.stdout.write(`no longer trusted: ${operand}\n`);
      return 0;
    default:
      throw new UsageError(`agent trust takes add, list or remove${action === undefined ? "" : `, not "${action}"`}`);
  }
}
