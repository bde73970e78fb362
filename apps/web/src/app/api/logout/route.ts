// POST /api/logout: sign the session out everywhere (its id goes on the revocation list that every
// dashboard server with the same key reads, so a copy of the cookie is refused too), then drop
// the cookie. Its open live streams end within seconds (api/live checks them).
import { cookies } from "next/headers";
import { revokeSession, SESSION_COOKIE, verifySession } from "@/server/session";

export const dynamic = "force-dynamic";

export async function POST(): Promise<Response> {
  const jar = await cookies();
  const session = verifySession(jar.get(SESSION_COOKIE)?.value);
  if (session) revokeSession(session);
  jar.set(SESSION_COOKIE, "", { httpOnly: true, sameSite: "strict", path: "/", maxAge: 0 });
  return new Response(null, { status: 303, headers: { location: "/login" } });
}
