// GET /api/agents: the registry's agents and whether each answers now, with its version and, for
// an https agent, the fingerprint of its pinned certificate (never a token); `editable` says
// whether the Agents dialog may change them (not when CORRAL_WEB_AGENTS fixes them), and the
// fingerprint of the dashboard's client certificate when it has one (CORRAL_WEB_CLIENT_CERT).
import { isConnectionReset, versionMismatch } from "@corral/core";
import { currentSession, unauthorized } from "@/server/auth";
import type { AgentStatus } from "@/lib/types";
import { agentNames, clientCertificate, configError, describeAgentError, getAgent, placeOfAgent, registryEditable } from "@/server/agents";

export const dynamic = "force-dynamic";

/**
 * The agent's info; asked once more on a new connection if the first call's was reset (a pooled
 * keep-alive socket to an agent killed or restarted since), so that its status says what a call
 * to it meets now: refused, or answered.
 */
async function agentInfo(agent: NonNullable<ReturnType<typeof getAgent>>) {
  const ask = () => agent.http.agent.info.query(undefined, { signal: AbortSignal.timeout(3000) });
  try {
    return await ask();
  } catch (e) {
    if (!isConnectionReset(e)) throw e;
    return ask();
  }
}

export async function GET(): Promise<Response> {
  if (!(await currentSession())) return unauthorized();
  const editable = registryEditable();
  // the fingerprint of the dashboard's own client certificate, for the Agents dialog to show
  let client: string | undefined;
  try {
    client = clientCertificate()?.fingerprint;
  } catch (e) {
    return Response.json({ agents: [], error: (e as Error).message, editable });
  }
  const problem = configError();
  if (problem) return Response.json({ agents: [], error: problem, editable, clientCertificate: client });
  const agents = await Promise.all(agentNames().map(async (name): Promise<AgentStatus> => {
    const agent = getAgent(name)!;
    const base = { name, url: agent.config.url, ...(agent.config.pin ? { fingerprint: agent.config.pin.fingerprint } : {}) };
    try {
      const info = await agentInfo(agent);
      const mismatch = versionMismatch((info as { api?: number }).api, placeOfAgent(agent.config));
      if (mismatch) return { ...base, up: false, problem: mismatch.kind, message: mismatch.message, hostname: info.hostname, version: info.version };
      return { ...base, up: true, hostname: info.hostname, version: info.version, storeId: info.storeId };
    } catch (e) {
      const { message, code } = describeAgentError(agent.config, e);
      return { ...base, up: false, message, problem: code.replace(/^AGENT_/, "").toLowerCase().replace(/_/g, "-") };
    }
  }));
  return Response.json({ agents, editable, clientCertificate: client });
}
