// The dashboard's sign-in under guessing: the limiter as a unit (per address, overall, lockouts
// that end), then the real dashboard server (apps/web/server.mjs, as the e2e runs it): a burst of wrong
// passwords locks the address, the right password is refused until the lockout ends, and the
// lockout is logged. Builds the dashboard first if its build is missing or stale (as the e2e does).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { LoginLimiter } from "../../../web/src/server/login-limiter.ts";
import ensureDashboardBuild from "../../../../e2e/support/global-setup.ts";
import { freePort } from "../root/agent-process.ts";
import { REPO, sleep } from "./support.ts";

const LIMITS = { maxFailures: 3, maxFailuresAll: 10, windowMs: 60_000, lockoutMs: 10_000, maxAddresses: 4 };

describe("the sign-in limiter", () => {
  it("locks an address after its failures, refuses it until the lockout ends, then lets it try again", () => {
    const l = new LoginLimiter(LIMITS);
    assert.equal(l.failed("a", 0), undefined);
    assert.equal(l.failed("a", 1), undefined);
    assert.deepEqual(l.failed("a", 2), { scope: "address", address: "a", failures: 3, until: 10_002 });
    assert.deepEqual(l.check("a", 5000), { ok: false, scope: "address", until: 10_002 });
    assert.deepEqual(l.check("b", 5000), { ok: true });
    assert.deepEqual(l.check("a", 10_002), { ok: true });
  });

  it("forgets failures older than the window, and an address's failures after a success", () => {
    const l = new LoginLimiter(LIMITS);
    l.failed("a", 0);
    l.failed("a", 1);
    assert.equal(l.failed("a", 70_000), undefined);
    l.failed("b", 0);
    l.failed("b", 1);
    l.succeeded("b");
    assert.equal(l.failed("b", 2), undefined);
  });

  it("locks everyone after too many failures overall, from however many addresses", () => {
    const l = new LoginLimiter(LIMITS);
    let lockout;
    for (let i = 0; i < 10 && !lockout; i++) lockout = l.failed(`spoofed-${i}`, i);
    assert.equal(lockout?.scope, "all");
    assert.equal(l.check("someone-new", 100).ok, false);
    assert.equal(l.check("someone-new", 20_000).ok, true);
  });

  it("remembers a bounded number of addresses", () => {
    const l = new LoginLimiter({ ...LIMITS, maxFailuresAll: 1000 });
    for (let i = 0; i < 1000; i++) l.failed(`x${i}`, i);
    assert.ok((l as unknown as { byAddress: Map<string, unknown> }).byAddress.size <= 4);
  });
});

describe("the dashboard's sign-in", () => {
  const WEB_DIR = join(REPO, "apps/web");
  const password = randomBytes(9).toString("base64url");
  let web: ChildProcess | undefined;
  let url = "";
  let log = "";

  before(async () => {
    ensureDashboardBuild();
    assert.ok(existsSync(join(WEB_DIR, ".next", "BUILD_ID")), "the dashboard is not built");
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    web = spawn(process.execPath, [join(WEB_DIR, "server.mjs"), "-p", String(port), "-H", "127.0.0.1"], {
      cwd: WEB_DIR,
      env: {
        ...process.env, NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1",
        CORRAL_WEB_AGENTS: JSON.stringify([{ name: "local", url: "http://127.0.0.1:9", token: "x" }]),
        CORRAL_WEB_PASSWORD: password, CORRAL_WEB_USER: "admin",
        CORRAL_WEB_LOGIN_MAX_FAILURES: "5", CORRAL_WEB_LOGIN_LOCKOUT_SECONDS: "3",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    web.stdout!.on("data", (d) => (log += d));
    web.stderr!.on("data", (d) => (log += d));
    for (let i = 0; i < 200; i++) {
      if (web.exitCode !== null) throw new Error(`the dashboard exited: ${log}`);
      try {
        if ((await fetch(`${url}/login`)).status < 500) return;
      } catch {
        // not listening yet
      }
      await sleep(150);
    }
    throw new Error(`the dashboard did not start: ${log}`);
  });
  after(async () => {
    if (!web || web.exitCode !== null) return;
    const gone = new Promise((r) => web!.once("exit", r));
    web.kill("SIGTERM");
    await gone;
  });

  const signIn = async (pw: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${url}/api/login`, { method: "POST", body: new URLSearchParams({ user: "admin", password: pw, next: "/" }), redirect: "manual", headers });
    return { location: res.headers.get("location") ?? "", cookie: res.headers.get("set-cookie") ?? "" };
  };

  it("limits a caller by its real address, whatever x-forwarded-for it makes up", async () => {
    const guesses: string[] = [];
    for (let i = 0; i < 12; i++) guesses.push((await signIn(`forged-${i}`, { "x-forwarded-for": `203.0.113.${i + 1}` })).location);
    const checked = guesses.filter((l) => /error=wrong/.test(l)).length;
    assert.ok(checked <= 5, `${checked} of 12 guesses from made-up addresses had their password checked`);
    assert.ok(guesses.slice(-3).every((l) => /error=locked/.test(l)), guesses.join(" "));
    // the lockout (3 s here) ends before the next test
    await sleep(3500);
  });

  it("locks out a burst of wrong passwords; the right one is refused until the lockout ends, and it is logged", async () => {
    const guesses = await Promise.all(Array.from({ length: 40 }, (_, i) => signIn(`guess-${i}`)));
    assert.ok(guesses.every((g) => /error=(wrong|locked)/.test(g.location)), JSON.stringify(guesses.slice(0, 3)));
    const checked = guesses.filter((g) => /error=wrong/.test(g.location)).length;
    assert.ok(checked <= 5, `${checked} of 40 parallel guesses had their password checked`);
    const during = await signIn(password);
    assert.match(during.location, /error=locked/, "the right password got in during the lockout");
    assert.equal(during.cookie, "");
    assert.match(log, /sign-in locked after failed attempts/);
    // the lockout ends (3 s here), then the right password gets in
    let after = during;
    for (let i = 0; i < 50 && /error=locked/.test(after.location); i++) {
      await sleep(200);
      after = await signIn(password);
    }
    assert.equal(after.location, "/");
    assert.match(after.cookie, /corral_session=/);
  });
});
