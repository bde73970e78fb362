// GET /api/agents/:agent/console/:name: a container's console as Server-Sent Events: "reset" with
// the ring buffer's history first (again after the agent connection comes back), then "output".
// Typing goes through the call relay (console.write).
import { NAME_RE } from "@corral/core";
import { currentSession, unauthorized } from "@/server/auth";
import { describeAgentError, getAgent } from "@/server/agents";
import { sseResponse } from "@/server/sse";

export const dynamic = "force-dynamic";

export async function GET(req: Request, ctx: { params: Promise<{ agent: string; name: string }> }): Promise<Response> {
  if (!(await currentSession())) return unauthorized();
  const { agent: agentName, name } = await ctx.params;
  const agent = getAgent(agentName);
  if (!agent) return Response.json({ error: { message: `No agent named "${agentName}" is configured.`, code: "NOT_FOUND" } }, { status: 404 });
  if (!NAME_RE.test(name)) return Response.json({ error: { message: `"${name}" is not a container name.`, code: "BAD_REQUEST" } }, { status: 400 });

  return sseResponse(req, (out) => {
    let historyNext = true;
    const sub = agent.streams().console.onOutput.subscribe({ name }, {
      onData: (chunk: string) => {
        out.send(historyNext ? "reset" : "output", chunk);
        historyNext = false;
      },
      onConnectionStateChange: (s: { state: string; error: unknown }) => {
        if (s.state === "connecting") {
          historyNext = true;
          if (s.error) out.send("status", { live: false, message: describeAgentError(agent.config, s.error).message });
        }
      },
      onStarted: () => out.send("status", { live: true }),
      onError: (e: unknown) => {
        out.send("status", { live: false, message: describeAgentError(agent.config, e).message });
        out.close();
      },
      onComplete: () => out.close(),
    });
    return () => sub.unsubscribe();
  });
}
