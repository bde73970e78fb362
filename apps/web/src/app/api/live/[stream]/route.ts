// POST /api/live/ID {add: [{topic, cursor}], remove: [topic]}: changes the topics of an open live
// stream (a console opened or closed, samples wanted) without another connection. Only the
// dashboard server that holds the stream knows it: behind a load balancer without sticky sessions
// another one answers 404 NO_SUCH_STREAM, and the browser opens its stream again with the new
// topics in the URL (each from its cursor, so nothing is lost).
import { MAX_TOPICS, parseSubscriptions, type LiveChange, type Subscription } from "@/lib/live-wire";
import { currentSession, unauthorized } from "@/server/auth";
import { liveStreams } from "@/server/live";
import { expected } from "@/lib/errors";

export const dynamic = "force-dynamic";

/** MAX_TOPICS topics with their cursors fit in well under this. */
const MAX_BODY_BYTES = 128 * 1024;

const bad = (message: string) => Response.json({ error: { message, code: "BAD_REQUEST" } }, { status: 400 });

export async function POST(req: Request, ctx: { params: Promise<{ stream: string }> }): Promise<Response> {
  const session = await currentSession();
  if (!session) return unauthorized();
  const { stream: id } = await ctx.params;
  const stream = liveStreams().get(id);
  if (!stream || stream.sid !== session.sid) {
    return Response.json({ error: { message: "No such live stream on this server: open it again.", code: "NO_SUCH_STREAM" } }, { status: 404 });
  }
  // a JSON content type cannot be sent cross-site without a CORS preflight, which nothing here answers
  const type = req.headers.get("content-type")?.split(";")[0]?.trim().toLowerCase();
  if (type !== "application/json") {
    return Response.json({ error: { message: "The request body must be JSON (content-type: application/json).", code: "UNSUPPORTED_MEDIA_TYPE" } }, { status: 415 });
  }
  if (Number(req.headers.get("content-length") ?? 0) > MAX_BODY_BYTES) {
    return Response.json({ error: { message: `A change of topics is at most ${MAX_BODY_BYTES} bytes.`, code: "PAYLOAD_TOO_LARGE" } }, { status: 413 });
  }
  let body: unknown;
  try {
    body = await req.json();
  } catch (e) {
    expected(e, [SyntaxError, TypeError], "reading a live stream change");
    return bad("the body must be JSON {add, remove}");
  }
  if (typeof body !== "object" || body === null) return bad("the body must be JSON {add, remove}");
  const change = body as { [K in keyof LiveChange]?: unknown };
  const add: unknown[] = Array.isArray(change.add) ? change.add : [];
  const remove: unknown[] = Array.isArray(change.remove) ? change.remove : [];
  if (!remove.every((t) => typeof t === "string")) return bad("remove: a list of topics");
  if (!add.every(isSubscription)) return bad("add: a list of {topic, cursor}");
  const parsed = parseSubscriptions(add.map((s) => `${s.topic}@${s.cursor ?? ""}`));
  if ("error" in parsed) return bad(`bad topic: ${parsed.error}`);
  if (stream.topics + parsed.subs.length > MAX_TOPICS) return bad("too many topics on one stream");
  for (const topic of remove) stream.remove(topic);
  for (const sub of parsed.subs) stream.add(sub);
  return new Response(null, { status: 204 });
}

function isSubscription(s: unknown): s is Subscription {
  if (typeof s !== "object" || s === null) return false;
  const { topic, cursor } = s as { topic?: unknown; cursor?: unknown };
  return typeof topic === "string" && (cursor === null || typeof cursor === "string");
}
