// POST /api/login (form: user, password, next): set the session cookie and go to `next`, which must
// be a path on this dashboard. A refusal goes back to the sign-in page with a fixed error code.
import { cookies } from "next/headers";
import { checkLogin, cookieOptions, SESSION_COOKIE, signSession } from "@/server/session";
import type { LoginErrorCode } from "@/lib/login-errors";

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
  // eslint-disable-next-line no-control-regex
  if (/[\\\u0000-\u001f\u007f]/.test(next)) return "/";
  try {
    const url = new URL(next, "http://x");
    return url.origin === "http://x" ? url.pathname + url.search + url.hash : "/";
  } catch {
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
    user = String(form.get("user") ?? "");
    password = String(form.get("password") ?? "");
    next = sameOriginPath(String(form.get("next") ?? "/"));
  } catch {
    return refused("form");
  }
  const verdict = checkLogin(user, password);
  if (!verdict.ok) {
    await new Promise((r) => setTimeout(r, 300)); // slow down guessing a little
    return refused(verdict.refusal, user);
  }
  const { value, maxAge } = signSession(verdict.user);
  (await cookies()).set(SESSION_COOKIE, value, cookieOptions(maxAge));
  return redirect(next);
}
