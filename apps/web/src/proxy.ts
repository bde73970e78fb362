// Every page and API route needs a session, except the sign-in page and its POST: pages redirect
// to /login, API routes answer 401. (Next 16's "proxy", formerly middleware; Node runtime.)
import { NextResponse, type NextRequest } from "next/server";
import { SESSION_COOKIE, verifySession } from "./server/session.ts";

const PUBLIC = new Set(["/login", "/api/login"]);

export function proxy(req: NextRequest): NextResponse {
  const { pathname, search } = req.nextUrl;
  if (PUBLIC.has(pathname)) return NextResponse.next();
  if (verifySession(req.cookies.get(SESSION_COOKIE)?.value)) return NextResponse.next();
  if (pathname.startsWith("/api/")) {
    return NextResponse.json({ error: { message: "Sign in first.", code: "UNAUTHORIZED" } }, { status: 401 });
  }
  const login = req.nextUrl.clone();
  login.pathname = "/login";
  login.search = pathname === "/" ? "" : `?next=${encodeURIComponent(pathname + search)}`;
  return NextResponse.redirect(login);
}

export const config = {
  // everything but Next's own static assets
  matcher: ["/((?!_next/static|_next/image|favicon.ico).*)"],
};
