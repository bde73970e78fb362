// GET /api/agents/:agent/metrics: the agent's resource samples as Server-Sent Events, one "tick"
// every 2 s (every running container's sample and the host's), each with its time in ms as the SSE
// id. ?since=MS (first connection) or Last-Event-ID (a reconnection) first replays the ticks of
// the agent's recent window after it, so the sparklines start full.
import type { SampleTick } from "@corral/core";
import { currentSession, unauthorized } from "@/server/auth";
import { describeAgentError, getAgent, noSuchAgent } from "@/server/agents";
import { sseResponse } from "@/server/sse";

export const dynamic = "force-dynamic";

export async function GET(req: Request, ctx: { params: Promise<{ agent: string }> }): Promise<Response> {
  if (!(await currentSession())) return unauthorized();
  const { agent: name } = await ctx.params;
  const agent = getAgent(name);
  if (!agent) return noSuchAgent(name);
  const lastId = req.headers.get("last-event-id");
  const since = Number(new URL(req.url).searchParams.get("since"));
  const input = {
    lastEventId: lastId && /^\d{1,16}$/.test(lastId) ? lastId : null,
    since: Number.isSafeInteger(since) && since > 0 ? since : undefined,
  };
  return sseResponse(req, (out) => {
    const sub = agent.streams().metrics.onSample.subscribe(input, {
      onStarted: () => out.send("status", { live: true }),
      onData: ({ id, data }: { id: string; data: SampleTick }) => out.send("tick", data, id),
      onConnectionStateChange: (s: { state: string; error: unknown }) => {
        if (s.state === "connecting" && s.error) out.send("status", { live: false, message: describeAgentError(agent.config, s.error).message });
      },
      onError: (e: unknown) => {
        out.send("status", { live: false, message: describeAgentError(agent.config, e).message });
        out.close();
      },
      onComplete: () => out.close(),
    });
    return () => sub.unsubscribe();
  });
}
