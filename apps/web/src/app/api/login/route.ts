// POST /api/login (form: user, password): set the session cookie and go to the dashboard.
import { cookies } from "next/headers";
import { checkLogin, cookieOptions, SESSION_COOKIE, signSession } from "@/server/session";

export const dynamic = "force-dynamic";

function redirect(req: Request, path: string): Response {
  // relative Location: correct behind any proxy or host name
  return new Response(null, { status: 303, headers: { location: path } });
}

export async function POST(req: Request): Promise<Response> {
  let user = "";
  let password = "";
  let next = "/";
  try {
    const form = await req.formData();
    user = String(form.get("user") ?? "");
    password = String(form.get("password") ?? "");
    const n = String(form.get("next") ?? "/");
    if (n.startsWith("/") && !n.startsWith("//")) next = n;
  } catch {
    return redirect(req, `/login?error=${encodeURIComponent("Send the sign-in form.")}`);
  }
  const verdict = checkLogin(user, password);
  if (!verdict.ok) {
    await new Promise((r) => setTimeout(r, 300)); // slow down guessing a little
    return redirect(req, `/login?error=${encodeURIComponent(verdict.message)}&user=${encodeURIComponent(user)}`);
  }
  const { value, maxAge } = signSession(verdict.user);
  (await cookies()).set(SESSION_COOKIE, value, cookieOptions(maxAge));
  return redirect(req, next);
}
