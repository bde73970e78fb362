// Adding, renaming and removing the dashboard's agents (the Agents dialog), as `corral remote add`
// does for the CLI: an https agent's certificate is fetched and its fingerprint shown, and it is
// pinned only once the operator has accepted that fingerprint; the agent is then called with the
// pin and the token, and saved in the registry only if it answers, with this dashboard's API
// version. Server only.
import { X509Certificate } from "node:crypto";
import { connect as tlsConnect } from "node:tls";
import { agentProblem, normalizeFingerprint, versionMismatch, type CertificatePin } from "@corral/core";
import { AgentConnection, clientCertificate, describeAgentError, placeOfAgent } from "./agents.ts";
import { AGENT_NAME_RE, type AgentConfig } from "./env.ts";
import { changeRegistry, readRegistry, RegistryRefusal } from "./registry.ts";

const PROBE_TIMEOUT_MS = 8000;

/** The certificate an https agent presents, fetched without trusting it: only to show and, once accepted, pin. */
function fetchCertificate(url: URL): Promise<CertificatePin> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: url.hostname.replace(/^\[|\]$/g, ""), port: Number(url.port || 443), rejectUnauthorized: false, timeout: PROBE_TIMEOUT_MS }, () => {
      const peer = socket.getPeerCertificate(false) as Partial<ReturnType<typeof socket.getPeerCertificate>>;
      socket.end();
      const fingerprint = peer.fingerprint256 ? normalizeFingerprint(peer.fingerprint256) : undefined;
      if (!peer.raw || !fingerprint) {
        reject(new RegistryRefusal(`${url.origin} presented no certificate.`, 502));
        return;
      }
      resolve({ fingerprint, certificate: new X509Certificate(peer.raw).toString() });
    });
    socket.on("timeout", () => socket.destroy(Object.assign(new Error("timed out"), { code: "ETIMEDOUT" })));
    socket.on("error", reject);
  });
}

function checkName(name: unknown): string {
  if (typeof name !== "string" || !AGENT_NAME_RE.test(name)) throw new RegistryRefusal("A name is 1 to 64 of A-Z a-z 0-9 _ . - and starts with a letter or digit.");
  return name;
}

function checkUrl(text: unknown): URL {
  if (typeof text !== "string" || !URL.canParse(text.trim())) throw new RegistryRefusal("The URL must be the agent's address, like https://10.0.0.2:7690.");
  const url = new URL(text.trim());
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new RegistryRefusal("The URL must start with https:// (or http:// for an agent on this host's loopback).");
  if (url.pathname !== "/" || url.search || url.username) throw new RegistryRefusal("The URL is the agent's origin only, like https://10.0.0.2:7690: no path, query or user.");
  return url;
}

/** Whether the dashboard presents a certificate of its own; one that cannot be read is a refusal that says so. */
function hasClientCertificate(): boolean {
  try {
    return clientCertificate() !== undefined;
  } catch (e) {
    throw new RegistryRefusal((e as Error).message, 500);
  }
}

export interface AddRequest {
  name?: unknown;
  url?: unknown;
  token?: unknown;
  /** the fingerprint the operator was shown and accepted; without it, an https agent's is answered to be shown */
  fingerprint?: unknown;
}

export type AddOutcome = { added: { name: string; url: string; hostname: string; version: string; fingerprint?: string } } | { confirm: { fingerprint: string; url: string } };

/** Add an agent: refused in words, or asked to confirm a fingerprint, or added once it answered. */
export async function addAgent(req: AddRequest): Promise<AddOutcome> {
  const name = checkName(req.name);
  const url = checkUrl(req.url);
  const token = typeof req.token === "string" ? req.token.trim() : "";
  if (!token && !(url.protocol === "https:" && hasClientCertificate())) {
    throw new RegistryRefusal("The agent's token is needed: it is in agent.token in the agent's lxcpath (readable by root on that host). (A dashboard with its own client certificate, CORRAL_WEB_CLIENT_CERT, that the agent trusts needs none over https.)");
  }
  if (readRegistry().agents.some((a) => a.name === name)) throw new RegistryRefusal(`There is already an agent named "${name}".`, 409);
  const config: AgentConfig = { name, url: url.origin, token };
  if (url.protocol === "https:") {
    const pin = await fetchCertificate(url).catch((e: unknown) => {
      if (e instanceof RegistryRefusal) throw e;
      throw new RegistryRefusal(agentProblem(e, placeOfAgent(config))?.message ?? `${url.origin}: ${(e as Error).message}`, 502);
    });
    const accepted = typeof req.fingerprint === "string" ? normalizeFingerprint(req.fingerprint) : undefined;
    if (accepted === undefined) return { confirm: { fingerprint: pin.fingerprint, url: url.origin } };
    if (accepted !== pin.fingerprint) throw new RegistryRefusal(`The agent's certificate is not the one shown before (now ${pin.fingerprint}): check it again with corral agent --fingerprint on that host.`, 409);
    config.pin = pin;
  }
  const probe = new AgentConnection(config);
  let info: { hostname: string; version: string; api?: number };
  try {
    info = await probe.http.agent.info.query(undefined, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
  } catch (e) {
    const d = describeAgentError(config, e);
    throw new RegistryRefusal(`Not added: ${d.message}`, d.status >= 500 ? 502 : d.status);
  }
  const mismatch = versionMismatch(info.api, placeOfAgent(config));
  if (mismatch) throw new RegistryRefusal(`Not added: ${mismatch.message}`, 409);
  changeRegistry((agents) => {
    if (agents.some((a) => a.name === name)) throw new RegistryRefusal(`There is already an agent named "${name}".`, 409);
    return [...agents, config];
  });
  return { added: { name, url: config.url, hostname: info.hostname, version: info.version, ...(config.pin ? { fingerprint: config.pin.fingerprint } : {}) } };
}

export function renameAgent(from: string, to: unknown): void {
  const name = checkName(to);
  changeRegistry((agents) => {
    if (!agents.some((a) => a.name === from)) throw new RegistryRefusal(`No agent named "${from}".`, 404);
    if (name !== from && agents.some((a) => a.name === name)) throw new RegistryRefusal(`There is already an agent named "${name}".`, 409);
    return agents.map((a) => (a.name === from ? { ...a, name } : a));
  });
}

export function removeAgent(name: string): void {
  changeRegistry((agents) => {
    if (!agents.some((a) => a.name === name)) throw new RegistryRefusal(`No agent named "${name}".`, 404);
    return agents.filter((a) => a.name !== name);
  });
}

/** A refusal as the routes answer it; anything else is the caller's to log. */
export function refusalResponse(e: RegistryRefusal): Response {
  return Response.json({ error: { message: e.message, code: "REFUSED" } }, { status: e.status });
}
