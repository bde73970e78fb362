// Signed session cookies: "<base64url(JSON {user, exp, sid})>.<base64url(HMAC-SHA256)>". Any
// dashboard server with the same key accepts one until it expires or its sid is signed out
// (revocations.ts: a list every such server reads). Server only.
import { createHmac, timingSafeEqual, createHash, randomBytes } from "node:crypto";
import { revokedDir, sessionHours, sessionSecret, webPassword, webUser } from "./env.ts";
import { RevocationList } from "./revocations.ts";
import type { LoginErrorCode } from "../lib/login-errors.ts";
import { expected } from "../lib/errors.ts";

export const SESSION_COOKIE = "corral_session";

export interface Session {
  user: string;
  /** ms since the epoch */
  exp: number;
  /** the session's own id, which sign-out lists as revoked */
  sid: string;
}

/** One list per process (on globalThis: the proxy and the route handlers are separate bundles). */
function revocations(): RevocationList {
  const g = globalThis as { corralRevocations?: RevocationList };
  return (g.corralRevocations ??= new RevocationList(revokedDir()));
}

function mac(payload: string): string {
  return createHmac("sha256", sessionSecret()).update(payload).digest("base64url");
}

function sameString(a: string, b: string): boolean {
  const ha = createHash("sha256").update(a).digest();
  const hb = createHash("sha256").update(b).digest();
  return timingSafeEqual(ha, hb);
}

export function signSession(user: string, now = Date.now()): { value: string; maxAge: number } {
  const maxAge = Math.round(sessionHours() * 3600);
  const sid = randomBytes(18).toString("base64url");
  const payload = Buffer.from(JSON.stringify({ user, exp: now + maxAge * 1000, sid } satisfies Session)).toString("base64url");
  return { value: `${payload}.${mac(payload)}`, maxAge };
}

export function verifySession(value: string | undefined, now = Date.now()): Session | null {
  if (!value) return null;
  const dot = value.indexOf(".");
  if (dot <= 0) return null;
  const payload = value.slice(0, dot);
  if (!sameString(value.slice(dot + 1), mac(payload))) return null;
  try {
    const s = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Partial<Session>;
    // a cookie without a sid (signed before sign-out could revoke one) cannot be signed out: refused
    if (typeof s.user !== "string" || typeof s.exp !== "number" || typeof s.sid !== "string" || s.exp <= now) return null;
    if (revocations().isRevoked(s.sid, s.exp)) return null;
    return { user: s.user, exp: s.exp, sid: s.sid };
  } catch (e) {
    expected(e, [SyntaxError], "reading a session cookie"); // signed by us, yet not JSON: refused
    return null;
  }
}

/** Signs the session out on every dashboard server that shares the key. */
export function revokeSession(session: Session): void {
  revocations().revoke(session.sid, session.exp);
}

export type LoginVerdict = { ok: true; user: string } | { ok: false; refusal: Exclude<LoginErrorCode, "form"> };

export function checkLogin(user: string, password: string): LoginVerdict {
  const expected = webPassword();
  if (expected === undefined) return { ok: false, refusal: "disabled" };
  const userOk = sameString(user.trim(), webUser());
  const passOk = sameString(password, expected);
  return userOk && passOk ? { ok: true, user: webUser() } : { ok: false, refusal: "wrong" };
}

export const cookieOptions = (maxAge: number) =>
  ({ httpOnly: true, sameSite: "strict", path: "/", maxAge, secure: process.env.CORRAL_WEB_SECURE_COOKIE === "1" }) as const;
