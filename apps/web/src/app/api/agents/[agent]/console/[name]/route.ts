// GET /api/agents/:agent/console/:name: a container's console as Server-Sent Events: "reset" with
// the ring buffer's history, then "output". Each carries the agent's console cursor as its SSE id:
// a browser (or this server's WebSocket to the agent) that comes back resumes with "output" of
// what it missed, or gets "reset" and the whole ring if that is gone. Typing goes through the call
// relay (console.write).
import { NAME_RE, type ConsoleOutput } from "@corral/core";
import { currentSession, unauthorized } from "@/server/auth";
import { describeAgentError, getAgent, noSuchAgent } from "@/server/agents";
import { sseResponse } from "@/server/sse";

export const dynamic = "force-dynamic";

export async function GET(req: Request, ctx: { params: Promise<{ agent: string; name: string }> }): Promise<Response> {
  if (!(await currentSession())) return unauthorized();
  const { agent: agentName, name } = await ctx.params;
  const agent = getAgent(agentName);
  if (!agent) return noSuchAgent(agentName);
  if (!NAME_RE.test(name)) return Response.json({ error: { message: `"${name}" is not a container name.`, code: "BAD_REQUEST" } }, { status: 400 });

  // the browser's EventSource comes back with the last console cursor it had
  const cursor = req.headers.get("last-event-id") || null;
  return sseResponse(req, (out) => {
    const sub = agent.streams().console.onOutput.subscribe({ name, lastEventId: cursor }, {
      onData: ({ id, data }: { id: string; data: ConsoleOutput }) => out.send(data.reset ? "reset" : "output", data.text, id),
      onConnectionStateChange: (s: { state: string; error: unknown }) => {
        if (s.state === "connecting" && s.error) out.send("status", { live: false, message: describeAgentError(agent.config, s.error).message });
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
