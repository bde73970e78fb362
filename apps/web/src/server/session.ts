// Signed session cookies: "<base64url(JSON {user, exp})>.<base64url(HMAC-SHA256)>". Server only.
import { createHmac, timingSafeEqual, createHash } from "node:crypto";
import { sessionHours, sessionSecret, webPassword, webUser } from "./env.ts";
import type { LoginErrorCode } from "../lib/login-errors.ts";
import { expected } from "../lib/errors.ts";

export const SESSION_COOKIE = "corral_session";

export interface Session {
  user: string;
  /** ms since the epoch */
  exp: number;
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
  const payload = Buffer.from(JSON.stringify({ user, exp: now + maxAge * 1000 } satisfies Session)).toString("base64url");
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
    if (typeof s.user !== "string" || typeof s.exp !== "number" || s.exp <= now) return null;
    return { user: s.user, exp: s.exp };
  } catch (e) {
    expected(e, [SyntaxError], "reading a session cookie"); // signed by us, yet not JSON: refused
    return null;
  }
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
