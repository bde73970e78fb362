// Every environment variable the dashboard's server reads, in one place. Server only.
import { createHash, randomBytes, X509Certificate } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { normalizeFingerprint, type CertificatePin } from "@corral/core";

export interface AgentConfig {
  /** short name shown in the UI and used in the dashboard's URLs */
  name: string;
  /** the agent's base URL, e.g. http://127.0.0.1:7690 or https://10.0.0.2:7690 */
  url: string;
  /** the agent's API token: never leaves this server */
  token: string;
  /** an https agent's certificate, pinned when it was added: the only one accepted */
  pin?: CertificatePin;
}

export const DEFAULT_AGENT_URL = "http://127.0.0.1:7690";
const DEFAULT_LXCPATH = "/var/lib/corral";
/** Where the agent registry is kept unless CORRAL_WEB_AGENTS_FILE says otherwise. */
export const DEFAULT_AGENTS_FILE = "/var/lib/corral-web/agents.json";
/** Used only outside production, so `next dev` works without setup. */
export const DEV_PASSWORD = "corral";

export const AGENT_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** The registry's text: a JSON array of {name, url, token, fingerprint?, certificate?} (or {agents: [...]}). */
export function parseAgents(json: string, from: string): AgentConfig[] {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (e) {
    throw new Error(`${from} is not JSON: ${(e as Error).message}`, { cause: e });
  }
  const list = Array.isArray(raw) ? raw : (raw as { agents?: unknown } | null)?.agents;
  if (!Array.isArray(list)) throw new Error(`${from} must be a JSON array of {name, url, token}`);
  const agents = list.map((a: unknown, i): AgentConfig => {
    const o = a as (Partial<AgentConfig> & { fingerprint?: unknown; certificate?: unknown }) | null;
    if (!o || typeof o.name !== "string" || typeof o.url !== "string" || typeof o.token !== "string") {
      throw new Error(`${from}[${i}] needs string fields name, url and token`);
    }
    if (!AGENT_NAME_RE.test(o.name)) throw new Error(`${from}[${i}]: agent name "${o.name}" must match ${AGENT_NAME_RE}`);
    const fingerprint = typeof o.fingerprint === "string" ? normalizeFingerprint(o.fingerprint) : undefined;
    if (o.url.startsWith("https:") && (fingerprint === undefined || typeof o.certificate !== "string")) {
      throw new Error(`${from}[${i}]: the https agent "${o.name}" needs its pinned certificate (fingerprint and certificate): add it from the dashboard's Agents dialog, which shows the fingerprint to check`);
    }
    const pin = fingerprint !== undefined && typeof o.certificate === "string" ? { fingerprint, certificate: o.certificate } : undefined;
    return { name: o.name, url: o.url.replace(/\/+$/, ""), token: o.token.trim(), ...(pin ? { pin } : {}) };
  });
  const names = new Set(agents.map((a) => a.name));
  if (names.size !== agents.length) throw new Error(`${from}: agent names must be unique`);
  return agents;
}

/** The registry's text for these agents (what parseAgents reads). */
export function formatAgents(agents: readonly AgentConfig[]): string {
  return `${JSON.stringify(agents.map(({ pin, ...a }) => ({ ...a, ...(pin ? { fingerprint: pin.fingerprint, certificate: pin.certificate } : {}) })), null, 2)}\n`;
}

function readDefaultToken(): string {
  const lxcpath = process.env.CORRAL_LXCPATH || DEFAULT_LXCPATH;
  const path = join(lxcpath, "agent.token");
  if (process.env.CORRAL_TOKEN) return process.env.CORRAL_TOKEN;
  return existsSync(path) ? readFileSync(path, "utf8").trim() : "";
}

/** The local agent, which the dashboard shows until its registry file exists. */
export function localAgent(): AgentConfig {
  return { name: "local", url: DEFAULT_AGENT_URL, token: readDefaultToken() };
}

/**
 * Where the agents come from: CORRAL_WEB_AGENTS (JSON, fixed: the dashboard cannot change it),
 * else the registry file, CORRAL_WEB_AGENTS_FILE or /var/lib/corral-web/agents.json, which the
 * dashboard's Agents dialog writes and every dashboard server pointed at it reads.
 */
export function agentsSource(): { kind: "env"; json: string } | { kind: "file"; path: string } {
  if (process.env.CORRAL_WEB_AGENTS) return { kind: "env", json: process.env.CORRAL_WEB_AGENTS };
  return { kind: "file", path: process.env.CORRAL_WEB_AGENTS_FILE || DEFAULT_AGENTS_FILE };
}

/** The sign-in password: CORRAL_WEB_PASSWORD; "corral" outside production; none (sign-in refused) in production. */
export function webPassword(): string | undefined {
  if (process.env.CORRAL_WEB_PASSWORD) return process.env.CORRAL_WEB_PASSWORD;
  return process.env.NODE_ENV === "production" ? undefined : DEV_PASSWORD;
}

/**
 * The dashboard's own client certificate for mutual TLS (CORRAL_WEB_CLIENT_CERT and
 * CORRAL_WEB_CLIENT_KEY, PEM files): presented to every https agent, which then needs no token
 * from the dashboard once it trusts it (`corral agent trust add FILE` on the agent's host).
 */
export function webClientCertificate(): { cert: string; key: string; fingerprint: string } | undefined {
  const certFile = process.env.CORRAL_WEB_CLIENT_CERT;
  const keyFile = process.env.CORRAL_WEB_CLIENT_KEY;
  if (!certFile || !keyFile) return undefined;
  const cert = readFileSync(certFile, "utf8");
  return { cert, key: readFileSync(keyFile, "utf8"), fingerprint: normalizeFingerprint(new X509Certificate(cert).fingerprint256)! };
}

/** The user name to sign in as: CORRAL_WEB_USER, default "admin". Recorded as the actor "dashboard:<user>". */
export function webUser(): string {
  return process.env.CORRAL_WEB_USER || "admin";
}

/** How long a session lasts: CORRAL_WEB_SESSION_HOURS, default 12. */
export function sessionHours(): number {
  const h = Number(process.env.CORRAL_WEB_SESSION_HOURS);
  return Number.isFinite(h) && h > 0 ? h : 12;
}

/**
 * The key that signs session cookies: CORRAL_WEB_SECRET, else the content of CORRAL_WEB_SECRET_FILE,
 * else a random one made on first use. It is kept in process.env so the proxy and the route
 * handlers (separate bundles, one process) agree; a random one ends every session when the server
 * restarts. Dashboard servers behind one load balancer share the key (and so the sessions).
 */
export function sessionSecret(): string {
  if (!process.env.CORRAL_WEB_SECRET) {
    const file = process.env.CORRAL_WEB_SECRET_FILE;
    const fromFile = file ? readFileSync(file, "utf8").trim() : "";
    if (file && fromFile.length < 16) throw new Error(`CORRAL_WEB_SECRET_FILE (${file}) must hold a key of at least 16 characters`);
    process.env.CORRAL_WEB_SECRET = fromFile || randomBytes(32).toString("hex");
  }
  return process.env.CORRAL_WEB_SECRET;
}

/**
 * Where signed-out sessions are listed (server/revocations.ts), read by every server with the same
 * key: CORRAL_WEB_REVOKED_DIR; else beside the key file (CORRAL_WEB_SECRET_FILE + ".revoked");
 * else a directory in the system's temp dir named by a hash of the key, so servers on one machine
 * that share a key share the list with no setting (servers on several machines need a shared
 * directory named by one of the first two).
 */
export function revokedDir(): string {
  if (process.env.CORRAL_WEB_REVOKED_DIR) return process.env.CORRAL_WEB_REVOKED_DIR;
  if (process.env.CORRAL_WEB_SECRET_FILE) return `${process.env.CORRAL_WEB_SECRET_FILE}.revoked`;
  const tag = createHash("sha256").update(`corral revocations ${sessionSecret()}`).digest("hex").slice(0, 24);
  return join(tmpdir(), `corral-web-revoked-${tag}`);
}

function positiveNumber(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return value !== undefined && value !== "" && Number.isFinite(n) && n > 0 ? n : fallback;
}

/**
 * Sign-in limits: CORRAL_WEB_LOGIN_MAX_FAILURES failures from one address (default 5) or
 * CORRAL_WEB_LOGIN_MAX_FAILURES_ALL from all (default 50) within 15 minutes lock sign-in for
 * CORRAL_WEB_LOGIN_LOCKOUT_SECONDS (default 300), for that address or for everyone.
 */
export function loginLimits() {
  return {
    maxFailures: positiveNumber(process.env.CORRAL_WEB_LOGIN_MAX_FAILURES, 5),
    maxFailuresAll: positiveNumber(process.env.CORRAL_WEB_LOGIN_MAX_FAILURES_ALL, 50),
    windowMs: 15 * 60_000,
    lockoutMs: positiveNumber(process.env.CORRAL_WEB_LOGIN_LOCKOUT_SECONDS, 300) * 1000,
    maxAddresses: 10_000,
  };
}
