// The agent's API is root-equivalent: every call carries the token, compared in constant time.
// The token is made on first start as a 0600 file in the lxcpath; CORRAL_TOKEN overrides it.
import { randomBytes, timingSafeEqual, createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import type { IncomingMessage } from "node:http";
import { tokenPath } from "./token-file.ts";

export { TOKEN_FILE, tokenPath } from "./token-file.ts";

/** The token to require: CORRAL_TOKEN, or the lxcpath's token file, made on first use. */
export function loadOrCreateToken(lxcpath: string, override?: string): string {
  if (override) return override;
  const path = tokenPath(lxcpath);
  if (existsSync(path)) return readFileSync(path, "utf8").trim();
  const token = randomBytes(32).toString("hex");
  writeFileSync(path, `${token}\n`, { mode: 0o600, flag: "wx" });
  return token;
}

/** Constant-time comparison (hashing first makes the lengths equal). */
export function tokenMatches(given: string | undefined, expected: string): boolean {
  if (!given) return false;
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The token a request carries: "Authorization: Bearer <token>". */
export function requestToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  const m = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  return m?.[1];
}

/**
 * The WebSocket upgrade's Origin: absent (not a browser) is fine, since the token is still
 * required; a browser's Origin must be on the allowlist.
 */
export function originAllowed(origin: string | undefined, allowlist: readonly string[]): boolean {
  return origin === undefined || allowlist.includes(origin);
}
