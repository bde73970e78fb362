// GET /api/agents/:agent/events: the agent's event stream as Server-Sent Events.
// Each item carries its agent cursor ("storeId:seq") as the SSE id, so the browser resumes with
// Last-Event-ID (or ?after= on its first connection, after loading events.list). The WebSocket to
// the agent reconnects by itself and resubscribes from the last id it delivered; the browser is told
// "connecting" until the stream first starts, "reconnecting" when it drops after that, and a resync
// item makes it reload the timeline.
// The agent's alerts ride the same stream (one connection per agent for all the browser's live
// data): an "alert" item for each as it is raised, without an SSE id (the id stays the events'
// cursor); "alerts-live" each time the agent's alert feed (re)starts, on which the browser reloads
// alerts.list, so that nothing raised during a gap is missed.
import type { Alert, StreamItem } from "@corral/core";
import { currentSession, unauthorized } from "@/server/auth";
import { describeAgentError, getAgent, noSuchAgent } from "@/server/agents";
import { sseResponse } from "@/server/sse";

export const dynamic = "force-dynamic";

export async function GET(req: Request, ctx: { params: Promise<{ agent: string }> }): Promise<Response> {
  if (!(await currentSession())) return unauthorized();
  const { agent: name } = await ctx.params;
  const agent = getAgent(name);
  if (!agent) return noSuchAgent(name);
  const url = new URL(req.url);
  const cursor = req.headers.get("last-event-id") || url.searchParams.get("after") || undefined;

  return sseResponse(req, (out) => {
    out.send("status", { agent: name, live: false, state: "connecting" });
    let startedOnce = false;
    const sub = agent.streams().events.onEvent.subscribe({ lastEventId: cursor ?? null }, {
      onStarted: () => {
        startedOnce = true;
        out.send("status", { agent: name, live: true, state: "live" });
      },
      onData: (tracked: { id: string; data: StreamItem }) => {
        out.send("item", tracked.data, tracked.id);
        if (tracked.data.kind === "resync") out.send("status", { agent: name, live: true, state: "live" });
      },
      onConnectionStateChange: (s: { state: string; error: unknown }) => {
        if (s.state === "connecting") {
          const why = s.error ? describeAgentError(agent.config, s.error).message : `Connecting to agent "${name}"...`;
          out.send("status", { agent: name, live: false, state: startedOnce ? "reconnecting" : "connecting", message: why });
        }
      },
      onError: (e: unknown) => {
        out.send("status", { agent: name, live: false, state: "error", message: describeAgentError(agent.config, e).message });
        out.close(); // the browser reconnects with Last-Event-ID
      },
      onComplete: () => out.close(),
    });
    const alerts = agent.streams().alerts.onAlert.subscribe(undefined, {
      onStarted: () => out.send("alerts-live", { agent: name }),
      onData: (tracked: { id: string; data: Alert }) => out.send("alert", tracked.data),
      onError: (e: unknown) => out.send("alerts-error", { agent: name, message: describeAgentError(agent.config, e).message }),
    });
    return () => {
      sub.unsubscribe();
      alerts.unsubscribe();
    };
  });
}
