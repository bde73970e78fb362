// The CLI's connection to an agent: plain HTTP or HTTPS for calls (agent-http.ts), and tRPC over
// WebSocket for streams, loaded only by the commands that follow one (events, console, the
// countdowns of stop and reboot): the WebSocket client is most of what a short command would load.
// An agent is named by a URL or by a remote (remotes.ts); over https, the remote's pinned
// certificate is the only one accepted, on calls and streams alike.
import { existsSync, readFileSync } from "node:fs";
import { pinnedTlsOptions, type CertificatePin } from "@corral/core";
import { tokenPath } from "../api/token-file.ts";
import { DEFAULT_LISTEN } from "../env.ts";
import { httpClient, placeOf, type AgentClient, type CallOptions } from "./agent-http.ts";
import { clientCertificatePaths, readRemotes } from "./remotes.ts";

export type { AgentClient } from "./agent-http.ts";

export interface AgentTarget {
  url: string;
  /** none: this client's certificate must be trusted by the agent (mutual TLS) */
  token?: string;
  /** the remote's name, when it was named by one */
  remote?: string;
  /** its pinned certificate (https) */
  pin?: CertificatePin;
}

/** The lxcpath's token, for the local agent. */
function localToken(lxcpath: string): string {
  const path = tokenPath(lxcpath);
  try {
    return readFileSync(path, "utf8").trim();
  } catch (e) {
    throw new Error(`no agent token: set CORRAL_TOKEN, or run as root beside the agent's lxcpath (${path}: ${(e as NodeJS.ErrnoException).code ?? "not readable"})`, { cause: e });
  }
}

/**
 * --agent / CORRAL_AGENT: a remote's name, or a URL (an https URL only as a remote's, which pins
 * its certificate); else the local agent. The token: the remote's, else CORRAL_TOKEN, else the
 * lxcpath's file (for a URL).
 */
export function resolveTarget(agent: string | undefined, lxcpath: string, token: string | undefined): AgentTarget {
  if (agent !== undefined && !agent.includes("://")) {
    const remote = readRemotes()[agent];
    if (!remote) throw new Error(`no remote named "${agent}": add it with corral remote add ${agent} URL (corral remote list shows them)`);
    // a pin is never given up for plain HTTP, whatever the file was made to say since
    if (remote.pin && !remote.url.startsWith("https:")) throw new Error(`remote "${agent}" was pinned over HTTPS but its URL is now ${remote.url}: refused (plain HTTP would send its token in clear). Fix its URL, or remove it and add it again`);
    return { url: remote.url, token: remote.token ?? token, remote: agent, pin: remote.pin };
  }
  const url = (agent ?? `http://${DEFAULT_LISTEN}`).replace(/\/+$/, "");
  if (url.startsWith("https:")) {
    // a URL given again by hand is still checked against its remote's pin
    const [name, remote] = Object.entries(readRemotes()).find(([, r]) => r.url === url) ?? [];
    if (!remote?.pin) throw new Error(`${url} is not a remote with a pinned certificate: add it first with corral remote add NAME ${url} (it shows the agent's fingerprint to check)`);
    return { url, token: remote.token ?? token, remote: name, pin: remote.pin };
  }
  return { url, token: token || localToken(lxcpath) };
}

/** The TLS options for a target: its pin, and this client's certificate where it has one. */
export function tlsOptionsOf(target: AgentTarget): object | undefined {
  if (!target.pin) return undefined;
  const mine = clientCertificatePaths();
  const client = existsSync(mine.cert) && existsSync(mine.key) ? { cert: readFileSync(mine.cert), key: readFileSync(mine.key) } : {};
  return { ...pinnedTlsOptions(target.pin), ...client };
}

export function callOptionsOf(target: AgentTarget): CallOptions {
  return { tls: tlsOptionsOf(target), place: placeOf(target.url, target.remote) };
}

export interface Connection {
  http: AgentClient;
  /** the WebSocket client, made on first use */
  streams(): Promise<AgentClient>;
  close(): void;
}

/** What every request carries: the token, and who the caller says it is (audited). */
export function agentHeaders(target: AgentTarget, actor = `cli:${process.env.SUDO_USER ?? process.env.USER ?? "root"}`): Record<string, string> {
  return { ...(target.token ? { authorization: `Bearer ${target.token}` } : {}), "x-corral-actor": actor };
}

/**
 * An HTTP client for calls, and a WebSocket client made only when a stream is asked for. The
 * stream is opened after one call has gone through: tRPC's WebSocket client retries a refused
 * connection quietly, so an agent that cannot be used (unreachable, another certificate, a wrong
 * token) is said in words by that call instead of a stream that never starts.
 */
export function connect(target: AgentTarget, actor?: string): Connection {
  const headers = agentHeaders(target, actor);
  const options = callOptionsOf(target);
  const http = httpClient(target.url, headers, options);
  let ws: Promise<{ client: AgentClient; close(): void }> | undefined;
  return {
    http,
    streams: async () => {
      ws ??= http.agent.info.query().then(() => import("./streams.ts")).then((m) => m.streamClient(target.url, headers, options.tls));
      return (await ws).client;
    },
    close: () => void ws?.then((s) => s.close()),
  };
}
