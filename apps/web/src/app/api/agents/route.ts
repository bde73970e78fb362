// GET /api/agents: the configured agents and whether each answers now (no URLs' tokens, ever).
import { currentSession, unauthorized } from "@/server/auth";
import type { AgentStatus } from "@/lib/types";
import { agentNames, configError, describeAgentError, getAgent } from "@/server/agents";

export const dynamic = "force-dynamic";


export async function GET(): Promise<Response> {
  if (!(await currentSession())) return unauthorized();
  const problem = configError();
  if (problem) return Response.json({ agents: [], error: problem });
  const agents = await Promise.all(agentNames().map(async (name): Promise<AgentStatus> => {
    const agent = getAgent(name)!;
    try {
      const info = await agent.http.agent.info.query(undefined, { signal: AbortSignal.timeout(3000) });
      return { name, url: agent.config.url, up: true, hostname: info.hostname, version: info.version, storeId: info.storeId };
    } catch (e) {
      return { name, url: agent.config.url, up: false, message: describeAgentError(agent.config, e).message };
    }
  }));
  return Response.json({ agents });
}
