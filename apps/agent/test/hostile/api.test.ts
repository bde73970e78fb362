// Hostile callers of the API: no token, a wrong one, a foreign Origin, a fuzz of every procedure
// with bad input, configs that include a FIFO or /dev/zero, a body over the limit, a flood of
// unauthenticated requests with long paths, console input, a wrong method. Every answer is a 4xx
// with a message and no stack trace; the agent keeps answering. Needs root (the agent does).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { appRouter } from "../../src/api/root.ts";
import { Store } from "../../src/store/store.ts";
import { call, data, mutate, openSocket, query, startAgent, wsRequest, type HostileAgent } from "./support.ts";

const PROCEDURES = Object.entries(appRouter._def.procedures as unknown as Record<string, { _def: { type: string } }>).map(([path, p]) => ({ path, type: p._def.type }));

let agent: HostileAgent;
before(async () => {
  assert.equal(process.getuid?.(), 0, "the hostile suite needs root (it starts a real agent)");
  agent = await startAgent();
});
after(async () => {
  await agent.stop();
  rmSync(agent.lxcpath, { recursive: true, force: true });
});

/** Every answer of the suite: no stack trace, no path of the agent's sources. */
function clean(text: string, what: string): void {
  assert.ok(!/"stack"/.test(text), `${what}: a stack trace left the agent: ${text.slice(0, 300)}`);
  assert.ok(!/\/src\/(api|runtime|store)\/|node_modules|at .*\(.*:\d+:\d+\)/.test(text), `${what}: source paths left the agent: ${text.slice(0, 300)}`);
}

async function stillAnswers(): Promise<void> {
  assert.ok(agent.alive(), `the agent died: ${agent.log().slice(-2000)}`);
  assert.equal((await query(agent, "containers.list")).status, 200);
}

describe("auth matrix", () => {
  it(`refuses every procedure (${PROCEDURES.length}) without a token and with a wrong one, over HTTP`, async () => {
    for (const { path, type } of PROCEDURES) {
      for (const token of [null, "wrong", ""]) {
        const a = type === "mutation" ? await mutate(agent, path, { name: "x" }, token) : await query(agent, path, { name: "x" }, token);
        assert.equal(a.status, 401, `${path} with token ${token} answered ${a.status}`);
        clean(a.text, path);
      }
    }
  });

  it("refuses a WebSocket with a foreign Origin, without a token or with a wrong one", async () => {
    assert.equal(await openSocket(agent, { authorization: `Bearer ${agent.token}`, origin: "http://evil.example" }), 403);
    assert.equal(await openSocket(agent, { origin: "http://allowed.example" }), 401);
    assert.equal(await openSocket(agent, { authorization: "Bearer wrong" }), 401);
    const ok = await openSocket(agent, { authorization: `Bearer ${agent.token}`, origin: "http://allowed.example" });
    if (typeof ok === "number") assert.fail(`the right token and an allowed Origin were refused: ${ok}`);
    ok.close();
  });

  it("records a refused caller as anonymous, whatever x-corral-actor it claims; an authenticated one as it says", async () => {
    await call(agent, "/trpc/containers.list", { token: "wrong", headers: { "x-corral-actor": "dashboard:admin" } });
    await call(agent, "/trpc/containers.create", { headers: { "x-corral-actor": "dashboard:admin", "content-type": "text/plain" }, body: "x" });
    const audit = await data<Array<{ actor: string; detail: string; action: string }>>(query(agent, "audit.list", { limit: 50 }));
    assert.ok(!audit.some((r) => r.actor === "dashboard:admin" && /wrong token/.test(r.detail)), "a refused caller's x-corral-actor was believed");
    assert.ok(audit.some((r) => r.actor === "anonymous" && /wrong token/.test(r.detail)));
    assert.ok(audit.some((r) => r.actor === "dashboard:admin" && /JSON body/.test(r.detail)), "an authenticated caller's actor was not kept");
  });

  it("audits a wrong method (405)", async () => {
    const get = await call(agent, "/trpc/containers.delete?input=%7B%22name%22%3A%22x%22%7D");
    assert.equal(get.status, 405);
    clean(get.text, "GET of a mutation");
    const audit = await data<Array<{ action: string; result: string }>>(query(agent, "audit.list", { limit: 50 }));
    assert.ok(audit.some((r) => r.result === "refused" && /containers\.delete/.test(r.action)), "the 405 was not audited");
  });
});

/** Inputs no procedure takes: wrong types, out of range, hostile strings, odd shapes. */
const BAD_INPUTS: unknown[] = [
  null, 0, -1, 1e308, "x", "", true, [], [1, 2], {},
  { name: null }, { name: 0 }, { name: "" }, { name: "../etc" }, { name: "a".repeat(300) }, { name: "x\u0000y" }, { name: ["a"] },
  { name: { __proto__: { polluted: 1 } } }, { name: "fz", timeout: "soon" }, { name: "fz", timeout: -5 }, { name: "fz", timeout: 1e9 },
  { name: "fz", command: "sh" }, { name: "fz", command: [1] }, { name: "fz", kill: "yes" }, { name: "fz", template: "nope" },
  { name: "fz", config: 123 }, { name: "fz", data: 5 }, { name: "fz", after: -1 }, { limit: 1e12 }, { limit: -1 }, { limit: "all" },
  { after: "x" }, { container: 5 }, { lastEventId: 12 }, { name: "fz", rootPassword: { x: 1 } },
  JSON.parse('{"__proto__": {"isAdmin": true}, "name": "fz"}'),
];
/** Bodies that are not JSON, or JSON no parser should be made to chew on. */
const BAD_BODIES = ["not json", "{", '{"name":', "\u0000", `${"[".repeat(20000)}${"]".repeat(20000)}`, `{"0":${'{"a":'.repeat(3000)}1${"}".repeat(3000)}}`];

describe("fuzz", () => {
  it("answers every procedure's bad inputs with a 4xx and a message, never a 500 or a stack trace", async () => {
    let requests = 0;
    const statuses = new Map<number, number>();
    for (const { path, type } of PROCEDURES.filter((p) => p.type !== "subscription")) {
      for (const input of BAD_INPUTS) {
        const a = type === "mutation" ? await mutate(agent, path, input) : await query(agent, path, input);
        requests++;
        statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
        assert.ok(a.status < 500, `${path} ${JSON.stringify(input ?? null).slice(0, 80)} answered ${a.status}: ${a.text.slice(0, 300)}`);
        clean(a.text, path);
        if (a.status >= 400) assert.ok(typeof a.json?.error?.message === "string" && a.json.error.message.length > 0, `${path}: no message`);
      }
      if (type === "mutation") {
        for (const body of BAD_BODIES) {
          const a = await call(agent, `/trpc/${path}`, { body });
          requests++;
          assert.ok(a.status >= 400 && a.status < 500, `${path} body ${body.slice(0, 20)} answered ${a.status}: ${a.text.slice(0, 300)}`);
          clean(a.text, path);
        }
      } else {
        for (const raw of ["%7B", "%ZZ", "{\"name\":", "[[[[", "null"]) {
          const a = await call(agent, `/trpc/${path}?input=${raw}`);
          requests++;
          assert.ok(a.status < 500, `${path} ?input=${raw} answered ${a.status}: ${a.text.slice(0, 300)}`);
          clean(a.text, path);
        }
      }
    }
    console.log(`# fuzz: ${requests} requests, statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
    await stillAnswers();
  });

  it("answers 2,000 random inputs (seeded) across every procedure without a 500 or a stack trace", async () => {
    const random = mulberry32(0xc0ffee);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const KEYS = ["name", "timeout", "kill", "wait", "command", "template", "config", "release", "rootPassword", "sshKey", "after", "before", "limit", "container", "lastEventId", "data", "__proto__", "constructor"];
    const STRINGS = ["", "nosuch", "../../etc/passwd", "a".repeat(5000), "\u0000", "lxc.include = /dev/zero\n", "lxc.bogus = 1", "💥", "%00", "bookworm", "host", "busybox", "-1", "NaN"];
    const value = (depth: number): unknown => {
      switch (Math.floor(random() * (depth > 2 ? 5 : 7))) {
        case 0: return pick(STRINGS);
        case 1: return pick([0, -1, 1.5, 1e21, -1e21, 2 ** 53, 65536, 3600.5]);
        case 2: return pick([true, false, null]);
        case 3: return pick(STRINGS) + Math.floor(random() * 1000);
        case 4: return Math.floor(random() * 100_000);
        case 5: return Array.from({ length: Math.floor(random() * 4) }, () => value(depth + 1));
        default: return Object.fromEntries(Array.from({ length: Math.floor(random() * 4) }, () => [pick(KEYS), value(depth + 1)]));
      }
    };
    const targets = PROCEDURES.filter((p) => p.type !== "subscription" && p.path !== "containers.create");
    let requests = 0;
    for (let i = 0; i < 2000; i++) {
      const { path, type } = pick(targets);
      // the names of containers that exist are never drawn: nothing here should start anything
      const input = random() < 0.7 ? { ...(value(0) as object), name: pick(["nosuch", "", "../x", 7, null, "a".repeat(100)]) } : value(0);
      const a = type === "mutation" ? await mutate(agent, path, input) : await query(agent, path, input);
      requests++;
      assert.ok(a.status < 500, `${path} ${JSON.stringify(input ?? null).slice(0, 200)} answered ${a.status}: ${a.text.slice(0, 300)}`);
      clean(a.text, path);
    }
    console.log(`# random fuzz: ${requests} requests`);
    await stillAnswers();
  });

  it("names the field of a bad input in a 400", async () => {
    const a = await query(agent, "containers.get", { name: 0 });
    assert.equal(a.status, 400);
    assert.match(a.json.error.message, /name/);
    const b = await mutate(agent, "containers.stop", { name: "fz", timeout: "soon" });
    assert.equal(b.status, 400);
    assert.match(b.json.error.message, /timeout/);
    const c = await query(agent, "containers.get", "x");
    assert.equal(c.status, 400);
    assert.match(c.json.error.message, /input/);
  });

  it("answers bad messages on the WebSocket with errors that carry no stack trace", async () => {
    const sock = await openSocket(agent, { authorization: `Bearer ${agent.token}` });
    assert.ok(typeof sock !== "number");
    try {
      let id = 1;
      for (const { path, type } of PROCEDURES) {
        for (const input of [null, 5, { name: 0 }, { name: "../x" }, { lastEventId: 12 }, { container: [] }]) {
          const m = await wsRequest(sock, { id: id++, method: type, params: { path, input } });
          const text = JSON.stringify(m);
          clean(text, `ws ${path}`);
          if (m.error) assert.ok(m.error.data.httpStatus < 500, `ws ${path} ${JSON.stringify(input)}: ${text.slice(0, 300)}`);
          if (type === "subscription" && !m.error) sock.send(JSON.stringify({ id: id - 1, method: "subscription.stop" }));
        }
      }
      const unknown = await wsRequest(sock, { id: id++, method: "query", params: { path: "no.such.thing", input: null } });
      assert.equal(unknown.error.data.httpStatus, 404);
      clean(JSON.stringify(unknown), "ws unknown procedure");
    } finally {
      sock.close();
    }
    await stillAnswers();
  });
});

describe("config includes", () => {
  it("refuses an include of a FIFO or /dev/zero as a bad config, at its line, without blocking", async () => {
    const fifo = join(agent.lxcpath, "pipe.conf");
    execFileSync("mkfifo", [fifo]);
    const dir = join(agent.lxcpath, "conf.d");
    mkdirSync(dir);
    execFileSync("ln", ["-s", "/dev/zero", join(dir, "10-zero.conf")]);
    for (const [include, why] of [[fifo, /FIFO/], ["/dev/zero", /character device/], [dir, /character device/], ["/dev/null", /character device/]] as const) {
      const a = await query(agent, "containers.checkConfig", { name: "inc", config: `lxc.uts.name = inc\nlxc.include = ${include}\n` });
      assert.equal(a.status, 200, a.text);
      const r = a.json.result.data;
      assert.equal(r.ok, false, `an include of ${include} was accepted`);
      assert.equal(r.line, 2);
      assert.equal(r.key, "lxc.include");
      assert.match(r.message, why);
      assert.ok(typeof r.file === "string");
    }
    // and a create with such a config is refused, leaving nothing behind
    const c = await mutate(agent, "containers.create", { name: "inc", config: `lxc.include = ${fifo}\n` });
    assert.equal(c.status, 400, c.text);
    assert.ok(!existsSync(join(agent.lxcpath, "inc")));
    await stillAnswers();
  });

  it("refuses to start a container whose include has become a FIFO since its create, naming it; get still answers", async () => {
    const shared = join(agent.lxcpath, "shared.conf");
    writeFileSync(shared, "lxc.signal.halt = SIGTERM\n");
    assert.equal((await mutate(agent, "containers.create", { name: "turned", template: "host", config: `lxc.include = ${shared}\n` })).status, 200);
    rmSync(shared);
    execFileSync("mkfifo", [shared]);
    const start = await mutate(agent, "containers.start", { name: "turned" });
    assert.equal(start.status, 400, start.text.slice(0, 300));
    assert.match(start.json.error.message, /FIFO/);
    const get = await query(agent, "containers.get", { name: "turned" });
    assert.equal(get.status, 200);
    assert.ok(get.json.result.data.warnings.some((w: string) => /FIFO/.test(w)));
    assert.equal(get.json.result.data.state, "STOPPED");
    // the config itself a FIFO (root did it by hand): list, get and start answer, none blocks
    assert.equal((await mutate(agent, "containers.create", { name: "piped", template: "host" })).status, 200);
    const config = join(agent.lxcpath, "piped", "config");
    rmSync(config);
    execFileSync("mkfifo", [config]);
    assert.equal((await query(agent, "containers.list")).status, 200);
    const piped = await query(agent, "containers.get", { name: "piped" });
    assert.equal(piped.status, 200, piped.text.slice(0, 300));
    assert.ok(piped.json.result.data.warnings.some((w: string) => /FIFO/.test(w)));
    const refused = await mutate(agent, "containers.start", { name: "piped" });
    assert.equal(refused.status, 400, refused.text.slice(0, 300));
    await stillAnswers();
  });
});

describe("limits", () => {
  it("answers a body over 2 MiB with 413 before parsing it, and a big frame closes only its socket", async () => {
    const big = JSON.stringify({ name: "big", config: "a".repeat(3 * 1024 * 1024) });
    // Again and again: the answer comes before the body is read, and a client still sending
    // must read it, not a reset (one in four failed with EPIPE when the connection was closed).
    const input: unknown = JSON.parse(big);
    for (let i = 0; i < 20; i++) {
      const a = await mutate(agent, "containers.create", input);
      assert.equal(a.status, 413);
      clean(a.text, "413");
    }
    assert.ok(!existsSync(join(agent.lxcpath, "big")));
    // a config of 1 MiB still goes through the limit (it is refused by the parser or taken, never 413)
    const ok = await mutate(agent, "containers.checkConfig", { name: "big", config: `# ${"x".repeat(1024 * 1024 - 10)}\n` });
    assert.notEqual(ok.status, 413);
    const sock = await openSocket(agent, { authorization: `Bearer ${agent.token}` });
    assert.ok(typeof sock !== "number");
    const closed = new Promise<number>((resolve) => sock.on("close", (code) => resolve(code)));
    sock.send(big);
    assert.equal(await closed, 1009, "a frame over the limit did not close the socket with 1009 (message too big)");
    await stillAnswers();
  });

  it("adds less than 200 KB to the audit log for 300 unauthenticated requests with 10 KB paths", async () => {
    // an agent of its own, so that no earlier refusal has used up this address's window
    const fresh = await startAgent();
    try {
      const size = async () => (await query(fresh, "audit.list", { limit: 5000 })).text.length;
      const before = await size();
      const long = "A".repeat(10_000);
      for (let i = 0; i < 300; i += 30) {
        await Promise.all(Array.from({ length: 30 }, (_, j) => call(fresh, `/trpc/${long}${i + j}`, { token: null, headers: { "x-corral-actor": "dashboard:admin" } })));
      }
      const added = (await size()) - before;
      const rows = await data<Array<{ actor: string; action: string }>>(query(fresh, "audit.list", { limit: 5000 }));
      console.log(`# audit flood: 300 requests with 10 KB paths added ${added} bytes (${rows.length} rows)`);
      assert.ok(added < 200_000, `the flood added ${added} bytes to the audit log`);
      assert.ok(rows.length > 0 && rows.every((r) => r.actor === "anonymous" && r.action.length < 250));
      assert.ok(fresh.alive());
    } finally {
      await fresh.stop();
      rmSync(fresh.lxcpath, { recursive: true, force: true });
    }
  });

  it("stores console input as a byte count, never the bytes, and a create's root password as hidden", async () => {
    await mutate(agent, "console.write", { name: "nosuch", data: "hunter2\r" });
    await mutate(agent, "containers.create", { name: "pw", template: "debian", rootPassword: "s3cret-pw", release: "no-such-release" });
    const text = (await query(agent, "audit.list", { limit: 100 })).text;
    assert.ok(!text.includes("hunter2"), "console input reached the audit log");
    assert.ok(!text.includes("s3cret-pw"), "a root password reached the audit log");
  });
});

describe("the agent after all this", () => {
  it("is alive, answers, and left nothing in the lxcpath but what was asked", async () => {
    await stillAnswers();
    const left = readdirSync(agent.lxcpath).filter((f) => !/^(corral\.db.*|pipe\.conf|shared\.conf|conf\.d|fz|pw|inc|turned|piped)$/.test(f));
    assert.deepEqual(left, []);
  });

  it("wrote the refusals it did not write one by one as summaries when it stopped", async () => {
    await agent.stop();
    const store = new Store(join(agent.lxcpath, "corral.db"));
    try {
      // the auth matrix alone made 60 refusals of unauthenticated calls from this address
      const summaries = store.auditLog(5000).filter((r) => r.action === "refused requests (summary)" && r.actor === "anonymous");
      const counted = summaries.reduce((n, r) => n + Number(/^(\d+) more/.exec(r.detail ?? "")?.[1] ?? 0), 0);
      assert.ok(counted >= 55 && summaries.every((r) => /401 missing or wrong token/.test(r.detail ?? "")), `summaries: ${JSON.stringify(summaries).slice(0, 500)}`);
      assert.ok(store.auditLog(5000).every((r) => r.action.length <= 250), "a long path was kept whole");
    } finally {
      store.close();
    }
  });
});

/** A small seeded PRNG, so that a failing fuzz input comes back on the next run. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
