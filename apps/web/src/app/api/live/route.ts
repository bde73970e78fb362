// GET /api/live?s=TOPIC@CURSOR&s=...: the browser's one live connection, Server-Sent Events
// carrying every topic it asked for (lib/live-wire.ts): each agent's events and alerts, samples,
// and the consoles it shows. "hello" first, with the stream's id for POST /api/live/ID (add or
// drop topics without another connection); then "m" messages, one topic each. The browser keeps
// each topic's cursor and, when the stream drops, opens it again with them; it does not use
// EventSource's own retry, whose URL would carry the old cursors.
// The session is checked again every few seconds: a stream of a session signed out (on any
// dashboard server sharing the key) gets "ended" and is closed.
import { cookies } from "next/headers";
import { parseSubscriptions, type LiveEnded, type LiveHello } from "@/lib/live-wire";
import { unauthorized } from "@/server/auth";
import { LiveStream, liveStreams } from "@/server/live";
import { SESSION_COOKIE, verifySession } from "@/server/session";
import { sseResponse } from "@/server/sse";

export const dynamic = "force-dynamic";

/** How often an open stream's session is checked again. */
const SESSION_CHECK_MS = 3000;

export async function GET(req: Request): Promise<Response> {
  const cookie = (await cookies()).get(SESSION_COOKIE)?.value;
  const session = verifySession(cookie);
  if (!session) return unauthorized();
  const parsed = parseSubscriptions(new URL(req.url).searchParams.getAll("s"));
  if ("error" in parsed) return Response.json({ error: { message: `bad topic: ${parsed.error}`, code: "BAD_REQUEST" } }, { status: 400 });

  return sseResponse(req, (out) => {
    const stream = new LiveStream(out, session.sid);
    liveStreams().set(stream.id, stream);
    out.send("hello", { stream: stream.id } satisfies LiveHello);
    for (const sub of parsed.subs) stream.add(sub);
    const check = setInterval(() => {
      if (verifySession(cookie)) return;
      out.send("ended", { reason: "signed-out", message: "Your session has ended: sign in again." } satisfies LiveEnded);
      out.close();
    }, SESSION_CHECK_MS);
    return () => {
      clearInterval(check);
      liveStreams().delete(stream.id);
      stream.close();
    };
  });
}
