// Relaying one allowlisted call to an agent. Server only.
import { RELAYED, type RelayedPath } from "../lib/procedures.ts";
import { describeAgentError, type AgentConnection } from "./agents.ts";

export async function relay(agent: AgentConnection, actor: string, path: RelayedPath, input: unknown): Promise<Response> {
  const [router, proc] = path.split(".") as [string, string];
  const client = agent.as(actor) as unknown as Record<string, Record<string, { query(i: unknown): Promise<unknown>; mutate(i: unknown): Promise<unknown> }>>;
  const fn = client[router]![proc]!;
  try {
    const data = RELAYED[path] === "query" ? await fn.query(input) : await fn.mutate(input);
    return Response.json({ data: data ?? null });
  } catch (e) {
    const { status, message, code } = describeAgentError(agent.config, e);
    return Response.json({ error: { message, code } }, { status });
  }
}
