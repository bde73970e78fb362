// The sign-in page: a plain form (works without JavaScript) posting to /api/login.
import { redirect } from "next/navigation";
import { currentSession } from "@/server/auth";
import { webPassword, webUser } from "@/server/env";
import { LOGIN_ERRORS, loginErrorText } from "@/lib/login-errors";

export const dynamic = "force-dynamic";

export default async function LoginPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  if (await currentSession()) redirect("/");
  const q = await searchParams;
  const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
  const error = loginErrorText(one(q.error));
  const next = one(q.next) ?? "/";
  const disabled = webPassword() === undefined;
  return (
    <div className="login-page">
      <form className="login-card" method="post" action="/api/login" data-testid="login-form">
        <div className="brand big">
          <span className="logo" aria-hidden>◧</span> corral
        </div>
        <p className="muted">Sign in to the dashboard.</p>
        <input type="hidden" name="next" value={next} />
        <label>
          User
          <input className="input" name="user" defaultValue={one(q.user) ?? webUser()} autoComplete="username" required data-testid="login-user" />
        </label>
        <label>
          Password
          <input className="input" name="password" type="password" autoComplete="current-password" autoFocus required data-testid="login-password" />
        </label>
        {(error || disabled) && (
          <div className="notice error" role="alert" data-testid="login-error">
            {error ?? LOGIN_ERRORS.disabled}
          </div>
        )}
        <button className="btn primary wide" type="submit" data-testid="login-submit">Sign in</button>
      </form>
    </div>
  );
}
