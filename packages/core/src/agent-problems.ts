// The words for an agent that cannot be used, shared by the CLI and the dashboard's server:
// unreachable, refused (TLS, token, certificate fingerprint, plain HTTP) or of another API
// version, each with what to do, from the error a connection failed with. Pure.
import { API_VERSION, CertificateMismatchError } from "./tls-pin.ts";

/** What went wrong with an agent, in the terms an operator acts on. */
export type AgentProblemKind = "unreachable" | "timeout" | "certificate-changed" | "tls" | "needs-https" | "not-tls" | "token" | "version";

export interface AgentProblem {
  kind: AgentProblemKind;
  /** a sentence or two: what happened, then what to do */
  message: string;
}

/** Where the client was going, to name it in the words. */
export interface AgentPlace {
  url: string;
  /** the remote's (or the dashboard's agent's) name */
  name?: string;
  /** how to pin again / give a new token, in the client's own terms */
  repin: string;
  retoken: string;
}

const UNREACHABLE = new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN", "EADDRNOTAVAIL"]);
/** OpenSSL's words for a certificate that the pinned root does not vouch for. */
const UNTRUSTED = new Set(["DEPTH_ZERO_SELF_SIGNED_CERT", "SELF_SIGNED_CERT_IN_CHAIN", "UNABLE_TO_VERIFY_LEAF_SIGNATURE", "UNABLE_TO_GET_ISSUER_CERT_LOCALLY", "CERT_SIGNATURE_FAILURE", "CORRAL_CERT_MISMATCH"]);

function codeOf(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null | undefined)?.code;
  return typeof code === "string" ? code : undefined;
}

/** What an error wraps: its `cause` (fetch, tRPC), or the `error` of a WebSocket's error event (ws). */
function inner(e: unknown): unknown {
  if (e instanceof Error && e.cause !== undefined) return e.cause;
  const event = (e as { error?: unknown } | null | undefined)?.error;
  return event instanceof Error ? event : undefined;
}

/** The innermost error with a code of the socket's or TLS's (not Node's own ERR_ wrappers), else the innermost. */
function rootCause(e: unknown): unknown {
  let at = e;
  for (let i = 0; i < 6; i++) {
    const code = codeOf(at);
    if (code !== undefined && !/^ERR_(?!SSL|TLS)|^UND_ERR/.test(code)) return at;
    const next = inner(at);
    if (next === undefined) break;
    at = next;
  }
  return at;
}

/**
 * A connection the agent's end dropped (ECONNRESET, a hang-up). A pooled keep-alive socket to an
 * agent that was killed or restarted fails so on the first call that reuses it; a call that can be
 * made twice is tried once more, on a new connection, before it is said to have failed.
 */
export function isConnectionReset(e: unknown): boolean {
  const cause = rootCause(e);
  return codeOf(cause) === "ECONNRESET" || (cause instanceof Error && /socket hang up/i.test(cause.message));
}

/** The problem behind a failed connection to an agent, or undefined when it is none of these (an answer the agent gave). */
export function agentProblem(e: unknown, place: AgentPlace): AgentProblem | undefined {
  const who = place.name ? `agent "${place.name}" (${place.url})` : `the agent at ${place.url}`;
  const cause = rootCause(e);
  const code = codeOf(cause) ?? "";
  const text = cause instanceof Error ? cause.message : String(cause);
  if (cause instanceof CertificateMismatchError || UNTRUSTED.has(code)) {
    return { kind: "certificate-changed", message: `Refused: ${who} presented a certificate other than the one pinned for it, so nothing was sent. If the agent's certificate was replaced on purpose (a new lxcpath, a new key), check its fingerprint on that host (corral agent --fingerprint) and ${place.repin}; otherwise something else answers at that address.` };
  }
  if (UNREACHABLE.has(code)) {
    return { kind: "unreachable", message: `Unreachable: ${who} cannot be reached (${code}). Check that the agent runs there (corral agent --listen ADDRESS:PORT) and that the address and port are right.` };
  }
  if (code === "ETIMEDOUT" || code === "ECONNABORTED" || /timed? ?out|TimeoutError/i.test(`${code} ${text}`)) {
    return { kind: "timeout", message: `Unreachable: ${who} did not answer in time (${code || "timeout"}). Check that the host is up and that no firewall drops the port.` };
  }
  // ws's words for a refused upgrade
  if (/Unexpected server response: 401/.test(text)) return tokenRefused(place);
  if (code === "CORRAL_NEEDS_HTTPS" || (place.url.startsWith("http:") && (code === "ECONNRESET" || /Unexpected server response: 400/.test(text)))) {
    const https = place.url.replace(/^http:/, "https:");
    return { kind: "needs-https", message: `Refused: ${who} speaks HTTPS only beyond loopback, and plain HTTP was asked; nothing was sent over it. Use ${https} and pin its certificate (corral remote add NAME ${https}, or add it again in the dashboard).` };
  }
  if (code === "EPROTO" || /wrong version number|packet length too long|unknown protocol/i.test(text)) {
    return { kind: "not-tls", message: `Refused: ${who} does not speak TLS (${text.slice(0, 80)}). It listens on loopback, or was started with --insecure-plain-http: use its http:// URL, or restart it listening beyond loopback.` };
  }
  if (/^ERR_SSL|^ERR_TLS|^CERT_|certificate/i.test(code) || /certificate|SSL routines|TLS/i.test(text)) {
    return { kind: "tls", message: `Refused: the TLS handshake with ${who} failed (${code || text.slice(0, 80)}). ${place.repin.charAt(0).toUpperCase()}${place.repin.slice(1)} if its certificate changed; if it wants a client certificate, add this client's on that host (corral agent trust add FILE).` };
  }
  if (code === "ECONNRESET" || /socket hang up/i.test(text)) {
    return { kind: "unreachable", message: `Unreachable: ${who} closed the connection (${code || text}). Check that the agent runs there and that the URL's scheme (http or https) is the one it speaks.` };
  }
  return undefined;
}

/** The words for a 401 from an agent. */
export function tokenRefused(place: AgentPlace): AgentProblem {
  const who = place.name ? `agent "${place.name}" (${place.url})` : `the agent at ${place.url}`;
  return { kind: "token", message: `Refused: ${who} did not accept the token (or client certificate). The agent's token is in its lxcpath (agent.token, readable by root on that host): ${place.retoken}.` };
}

/** The words for an agent whose API version is not this client's; undefined when they agree. */
export function versionMismatch(agentApi: string | number | undefined | null, place: AgentPlace): AgentProblem | undefined {
  if (agentApi !== undefined && agentApi !== null && String(agentApi) === String(API_VERSION)) return undefined;
  const who = place.name ? `agent "${place.name}" (${place.url})` : `the agent at ${place.url}`;
  const theirs = agentApi === undefined || agentApi === null ? "an older API, without a version" : `API version ${String(agentApi)}`;
  return { kind: "version", message: `Version mismatch: ${who} speaks ${theirs}, this client speaks API version ${API_VERSION}. Install the same corral on both sides (the agent's host and this one), then restart the agent.` };
}
