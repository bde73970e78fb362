// POST /api/logout: drop the session cookie.
import { cookies } from "next/headers";
import { SESSION_COOKIE } from "@/server/session";

export const dynamic = "force-dynamic";

export async function POST(): Promise<Response> {
  (await cookies()).set(SESSION_COOKIE, "", { httpOnly: true, sameSite: "strict", path: "/", maxAge: 0 });
  return new Response(null, { status: 303, headers: { location: "/login" } });
}
