// Sign-out everywhere (src/server/revocations.ts, session.ts): two dashboard servers, each with its
// own view of one revocation directory, as two processes sharing a key would have; a session
// signed out on one is refused by the other, and expired hours are cleaned up.
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { RevocationList } from "../src/server/revocations.ts";

const dir = mkdtempSync(join(tmpdir(), "corral-revoked-"));
after(() => rmSync(dir, { recursive: true, force: true }));
process.env.CORRAL_WEB_SECRET = "a key shared by both servers, 32+ chars";
process.env.CORRAL_WEB_REVOKED_DIR = join(dir, "shared");

const HOUR = 3600_000;

test("a session signed out on one server is refused by another that reads the same list", () => {
  const a = new RevocationList(join(dir, "list"));
  const b = new RevocationList(join(dir, "list"));
  const exp = Date.now() + 2 * HOUR;
  assert.equal(b.isRevoked("sessionAAAAAAAAAAAAAAAA", exp), false);
  a.revoke("sessionAAAAAAAAAAAAAAAA", exp);
  assert.equal(b.isRevoked("sessionAAAAAAAAAAAAAAAA", exp), true);
  assert.equal(b.isRevoked("sessionBBBBBBBBBBBBBBBB", exp), false, "only that session");
  a.revoke("sessionBBBBBBBBBBBBBBBB", exp);
  assert.equal(b.isRevoked("sessionBBBBBBBBBBBBBBBB", exp), true, "what was added since is read too");
});

test("a half-written line is read once it is whole; a bad id is refused", () => {
  const list = new RevocationList(join(dir, "partial"));
  const exp = Date.now() + HOUR;
  list.revoke("sessionCCCCCCCCCCCCCCCC", exp);
  const file = join(dir, "partial", `${Math.floor(exp / HOUR)}.revoked`);
  writeFileSync(file, "sessionCCCCCCCCCCCCCCCC\nsessionDDDD", { flag: "w" });
  const reader = new RevocationList(join(dir, "partial"));
  assert.equal(reader.isRevoked("sessionDDDD", exp), false);
  writeFileSync(file, "DDDDDDDDDDDD\n", { flag: "a" });
  assert.equal(reader.isRevoked("sessionDDDDDDDDDDDDDDDD", exp), true);
  assert.throws(() => list.revoke("../../etc", exp), /not a session id/);
});

test("files of hours that have passed are deleted at the next sign-out", () => {
  const list = new RevocationList(join(dir, "prune"));
  const now = Date.now();
  list.revoke("sessionEEEEEEEEEEEEEEEE", now - 2 * HOUR, now - 3 * HOUR);
  assert.equal(readdirSync(join(dir, "prune")).length, 1);
  list.revoke("sessionFFFFFFFFFFFFFFFF", now + HOUR, now);
  assert.deepEqual(readdirSync(join(dir, "prune")), [`${Math.floor((now + HOUR) / HOUR)}.revoked`]);
});

test("signing out a cookie makes it refused; another session of the same user still works", async () => {
  const { signSession, verifySession, revokeSession } = await import("../src/server/session.ts");
  const one = signSession("admin");
  const two = signSession("admin");
  const session = verifySession(one.value);
  assert.ok(session);
  revokeSession(session);
  assert.equal(verifySession(one.value), null);
  assert.ok(verifySession(two.value));
  // a second server's view of the list: a fresh RevocationList on the same directory
  const other = new RevocationList(process.env.CORRAL_WEB_REVOKED_DIR!);
  assert.equal(other.isRevoked(session.sid, session.exp), true);
});

test("a signed cookie without a session id (from before sign-out could revoke one) is refused", async () => {
  const { createHmac } = await import("node:crypto");
  const { verifySession } = await import("../src/server/session.ts");
  const payload = Buffer.from(JSON.stringify({ user: "admin", exp: Date.now() + HOUR })).toString("base64url");
  const mac = createHmac("sha256", process.env.CORRAL_WEB_SECRET!).update(payload).digest("base64url");
  assert.equal(verifySession(`${payload}.${mac}`), null);
});
