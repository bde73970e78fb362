// The session of a request, for route handlers and server components. Server only.
import { cookies } from "next/headers";
import { SESSION_COOKIE, verifySession, type Session } from "./session.ts";

export async function currentSession(): Promise<Session | null> {
  const jar = await cookies();
  return verifySession(jar.get(SESSION_COOKIE)?.value);
}

export function unauthorized(): Response {
  return Response.json({ error: { message: "Sign in first.", code: "UNAUTHORIZED" } }, { status: 401 });
}

export function actorOf(session: Session): string {
  return `dashboard:${session.user}`;
}
