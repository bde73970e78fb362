// POST /api/agents/:agent/call {path, input}: relay one allowlisted tRPC call to the agent.
import { actorOf, currentSession, unauthorized } from "@/server/auth";
import { getAgent, noSuchAgent } from "@/server/agents";
import { relay } from "@/server/relay";
import { isRelayed } from "@/lib/procedures";
import { expected } from "@/lib/errors";

export const dynamic = "force-dynamic";

export async function POST(req: Request, ctx: { params: Promise<{ agent: string }> }): Promise<Response> {
  const session = await currentSession();
  if (!session) return unauthorized();
  const { agent: name } = await ctx.params;
  const agent = getAgent(name);
  if (!agent) return noSuchAgent(name);
  // a JSON content type cannot be sent cross-site without a CORS preflight, which nothing here answers
  const type = req.headers.get("content-type")?.split(";")[0]?.trim().toLowerCase();
  if (type !== "application/json") {
    return Response.json({ error: { message: "The request body must be JSON (content-type: application/json).", code: "UNSUPPORTED_MEDIA_TYPE" } }, { status: 415 });
  }
  let body: { path?: unknown; input?: unknown };
  try {
    body = (await req.json()) as typeof body;
  } catch (e) {
    expected(e, [SyntaxError, TypeError], "reading a call's body");
    return Response.json({ error: { message: "The request body must be JSON {path, input}.", code: "BAD_REQUEST" } }, { status: 400 });
  }
  if (!isRelayed(body.path)) {
    return Response.json({ error: { message: `"${String(body.path)}" is not a procedure the dashboard relays.`, code: "FORBIDDEN" } }, { status: 403 });
  }
  return relay(agent, actorOf(session), body.path, body.input);
}
