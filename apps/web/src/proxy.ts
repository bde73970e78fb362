// Every page and API route needs a session, except the sign-in page and its POST: pages redirect
// to /login, API routes answer 401. Every request that may change something (any method but GET
// and HEAD, the sign-in POST included) must come from the dashboard's own pages: a browser names
// the page's origin in Origin and says "same-origin" in Sec-Fetch-Site, so a foreign value of
// either is refused (403). Clients that send neither (curl, scripts) are not browsers and carry
// no ambient cookie to abuse. (Next 16's "proxy", formerly middleware; Node runtime.)
import { NextResponse, type NextRequest } from "next/server";
import { SESSION_COOKIE, verifySession } from "./server/session.ts";

const PUBLIC = new Set(["/login", "/api/login"]);

function crossSite(req: NextRequest): boolean {
  if (req.method === "GET" || req.method === "HEAD") return false;
  const origin = req.headers.get("origin");
  // the host the browser addressed, as Next's own server-action check reads it: req.nextUrl says
  // "localhost" for a server listening on 127.0.0.1, and http behind a TLS proxy
  const host = req.headers.get("x-forwarded-host") ?? req.headers.get("host");
  if (origin !== null && (!URL.canParse(origin) || new URL(origin).host !== host)) return true;
  const site = req.headers.get("sec-fetch-site");
  return site !== null && site !== "same-origin" && site !== "none";
}

export function proxy(req: NextRequest): NextResponse {
  const { pathname, search } = req.nextUrl;
  if (crossSite(req)) {
    return NextResponse.json({ error: { message: "Cross-site request refused.", code: "CROSS_SITE" } }, { status: 403 });
  }
  if (PUBLIC.has(pathname)) return NextResponse.next();
  if (verifySession(req.cookies.get(SESSION_COOKIE)?.value)) return NextResponse.next();
  if (pathname.startsWith("/api/")) {
    return NextResponse.json({ error: { message: "Sign in first.", code: "UNAUTHORIZED" } }, { status: 401 });
  }
  const login = req.nextUrl.clone();
  login.pathname = "/login";
  // a shared link (a view in its query) opens once signed in
  login.search = pathname === "/" && !search ? "" : `?next=${encodeURIComponent(pathname + search)}`;
  return NextResponse.redirect(login);
}

export const config = {
  // everything but Next's own static assets
  matcher: ["/((?!_next/static|_next/image|favicon.ico).*)"],
};
