// POST /api/login (form: user, password, next): set the session cookie and go to `next`, which must
// be a path on this dashboard. A refusal goes back to the sign-in page with a fixed error code.
// Failures are limited per address and overall (login-limiter.ts): during a lockout no password is
// checked, the right one included; each lockout is logged on the server.
import { cookies, headers } from "next/headers";
import { checkLogin, cookieOptions, SESSION_COOKIE, signSession } from "@/server/session";
import { loginLimits } from "@/server/env";
import { LoginLimiter } from "@/server/login-limiter";
import type { LoginErrorCode } from "@/lib/login-errors";
import { expected } from "@/lib/errors";

/** One limiter per server process (kept on globalThis: route bundles may be loaded more than once). */
const limiter: LoginLimiter = ((globalThis as { corralLoginLimiter?: LoginLimiter }).corralLoginLimiter ??= new LoginLimiter(loginLimits()));

/**
 * The caller's address: the dashboard's server (server.mjs) sets x-forwarded-for to the peer's
 * address, keeping the header only from a reverse proxy listed in CORRAL_TRUSTED_PROXIES, so a
 * caller cannot make one up to escape the per-address limit.
 */
async function clientAddress(): Promise<string> {
  const h = await headers();
  return (h.get("x-forwarded-for") ?? "").split(",")[0]!.trim().slice(0, 64) || "unknown";
}

function logLockout(l: { scope: string; address: string; failures: number; until: number }): void {
  process.stdout.write(`${JSON.stringify({ at: new Date().toISOString(), level: "warn", msg: "sign-in locked after failed attempts", ...l, until: new Date(l.until).toISOString() })}\n`);
}

export const dynamic = "force-dynamic";

function redirect(path: string): Response {
  // relative Location: correct behind any proxy or host name
  return new Response(null, { status: 303, headers: { location: path } });
}

/**
 * `next` as a path on this origin, or "/". Browsers read "/\evil.com" and "/<TAB>/evil.com" as
 * "//evil.com", another host: refuse backslashes and control characters outright, then keep only
 * what resolves to the same origin.
 */
function sameOriginPath(next: string): string {
   
  if (/[\\\u0000-\u001f\u007f]/.test(next)) return "/";
  try {
    const url = new URL(next, "http://x");
    return url.origin === "http://x" ? url.pathname + url.search + url.hash : "/";
  } catch (e) {
    expected(e, [TypeError], "reading a sign-in's next path"); // not a URL at all
    return "/";
  }
}

const refused = (code: LoginErrorCode, user?: string) =>
  redirect(`/login?error=${code}${user === undefined ? "" : `&user=${encodeURIComponent(user)}`}`);

export async function POST(req: Request): Promise<Response> {
  let user = "";
  let password = "";
  let next = "/";
  try {
    const form = await req.formData();
    user = formText(form, "user", "");
    password = formText(form, "password", "");
    next = sameOriginPath(formText(form, "next", "/"));
  } catch (e) {
    expected(e, [TypeError], "reading a sign-in form"); // not a form
    return refused("form");
  }
  const address = await clientAddress();
  const gate = limiter.check(address, Date.now());
  if (!gate.ok) {
    const res = refused("locked", user);
    res.headers.set("retry-after", String(Math.max(1, Math.ceil((gate.until - Date.now()) / 1000))));
    return res;
  }
  const verdict = checkLogin(user, password);
  if (!verdict.ok) {
    if (verdict.refusal === "wrong") {
      const lockout = limiter.failed(address, Date.now());
      if (lockout) logLockout(lockout);
    }
    await new Promise((r) => setTimeout(r, 300)); // slow down guessing a little
    return refused(verdict.refusal, user);
  }
  limiter.succeeded(address);
  const { value, maxAge } = signSession(verdict.user);
  (await cookies()).set(SESSION_COOKIE, value, cookieOptions(maxAge));
  return redirect(next);
}

/** A text field of a posted form (a file field, which a login form has none of, reads as missing). */
function formText(form: FormData, field: string, missing: string): string {
  const value = form.get(field);
  return typeof value === "string" ? value : missing;
}
