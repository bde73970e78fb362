// A bad day for the store: a corrupt corral.db is refused at start (with the way out) and
// salvaged on request; a disk that fills up under the lxcpath turns writes into 507s while reads
// and refusals keep their answers, and the agent works again, without a restart, once space is
// back. Needs root (the agent, and a tmpfs mount).
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { closeSync, existsSync, fstatSync, openSync, readdirSync, rmSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { Store } from "../../src/store/store.ts";
import { AgentExited, call, data, mutate, query, startAgent, tempLxcpath, type HostileAgent } from "./support.ts";

const cleanups: Array<() => void | Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** A store holding `n` events, then garbage written over pages in its second half. */
function corruptStore(lxcpath: string, n: number): void {
  const path = join(lxcpath, "corral.db");
  const store = new Store(path);
  for (let i = 0; i < n; i++) store.appendEvent(`c${i % 5}`, i % 2 ? "RUNNING" : "STOPPED", { actor: "test" }, { pad: "x".repeat(200) });
  store.appendEvent("c0", "STOPPED", { actor: "test" }, {});
  store.close();
  const fd = openSync(path, "r+");
  try {
    const size = fstatSync(fd).size;
    const garbage = Buffer.alloc(3 * 4096, 0x5a);
    writeSync(fd, garbage, 0, garbage.length, Math.floor((size * 0.6) / 4096) * 4096);
  } finally {
    closeSync(fd);
  }
}

describe("a corrupt store", () => {
  it("stops the agent at start with a clear message and the way out; salvage on request starts a new store", async () => {
    const lxcpath = tempLxcpath("corrupt");
    cleanups.push(() => rmSync(lxcpath, { recursive: true, force: true }));
    corruptStore(lxcpath, 3000);
    const refused = await startAgent({ lxcpath }).then(
      async (a) => {
        await a.stop();
        return undefined;
      },
      (e: unknown) => e,
    );
    assert.ok(refused instanceof AgentExited, "the agent started on a corrupt store");
    assert.equal(refused.code, 1);
    assert.match(refused.log, /corrupt/);
    assert.match(refused.log, /CORRAL_SALVAGE_STORE=1/);
    assert.match(refused.log, /move the file .* aside/);

    const agent = await startAgent({ lxcpath, env: { CORRAL_SALVAGE_STORE: "1" } });
    cleanups.push(() => agent.stop());
    const aside = readdirSync(lxcpath).filter((f) => f.startsWith("corral.db.corrupt-"));
    assert.ok(aside.length >= 1, `the corrupt store was not set aside: ${readdirSync(lxcpath).join(", ")}`);
    const events = await data<{ storeId: string; events: unknown[] }>(query(agent, "events.list", { limit: 100_000 }));
    assert.ok(events.events.length > 1000, `only ${events.events.length} events were salvaged`);
    assert.ok(events.events.length <= 3001);
    // a new store: a client's old cursor gets a resync, and the store is sound for writes again
    assert.equal((await mutate(agent, "containers.create", { name: "after", template: "host" })).status, 200);
    assert.equal((await query(agent, "audit.list", { limit: 10 })).status, 200);
  });
});

describe("a full disk", () => {
  let agent: HostileAgent | undefined;
  it("answers writes with 507 and reads as usual, refusals still answered, and recovers when space returns", async () => {
    const lxcpath = tempLxcpath("full");
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=16m", "corral-hostile", lxcpath]);
    cleanups.push(() => {
      execFileSync("umount", ["-l", lxcpath]);
      rmSync(lxcpath, { recursive: true, force: true });
    });
    agent = await startAgent({ lxcpath });
    cleanups.push(() => agent!.stop());
    assert.equal((await mutate(agent, "containers.create", { name: "before", template: "host" })).status, 200);
    assert.equal((await mutate(agent, "containers.create", { name: "idle", template: "host" })).status, 200);
    const started = await mutate(agent, "containers.start", { name: "before", command: ["sleep", "1000"] });
    assert.equal(started.status, 200, started.text.slice(0, 300));

    const filler = join(lxcpath, "filler");
    fill(filler);
    const statuses: number[] = [];
    let i = 0;
    for (; i < 40 && !statuses.includes(507); i++) {
      const a = await mutate(agent, "containers.create", { name: `full${i}`, template: "host" });
      statuses.push(a.status);
      assert.ok(a.status === 200 || a.status === 507, `a create on a full disk answered ${a.status}: ${a.text.slice(0, 300)}`);
      assert.ok(!/"stack"/.test(a.text));
      if (a.status === 507) assert.match(a.json.error.message, /cannot be written|disk is full/);
      fill(`${filler}${i}`);
    }
    assert.ok(statuses.includes(507), `no write answered 507 on a full disk: ${statuses.join(", ")}`);
    const answers: string[] = [`creates ${statuses.join(" ")}`];
    // more writes of other kinds, the lifecycle's included: done (200), refused (4xx) or a 507,
    // never a 500 or no answer
    for (const [path, input] of [["containers.delete", { name: "before" }], ["console.write", { name: "before", data: "x" }],
      ["containers.start", { name: "idle", command: ["sleep", "1000"] }], ["containers.freeze", { name: "before" }],
      ["containers.stop", { name: "before", kill: true }]] as const) {
      const a = await mutate(agent, path, input);
      answers.push(`${path} ${a.status}`);
      assert.ok(a.status === 507 || (a.status >= 400 && a.status < 500) || a.status === 200, `${path} on a full disk answered ${a.status}: ${a.text.slice(0, 300)}`);
      assert.ok(!/"stack"/.test(a.text));
    }
    // a container whose init dies while the disk is full: its state moves on, its STOPPED waits for the store
    const pid = (await data<{ pid?: number; state: string }>(query(agent, "containers.get", { name: "before" }))).pid;
    if (pid) {
      process.kill(pid, "SIGKILL");
      let state = "";
      for (let k = 0; k < 50 && state !== "STOPPED"; k++) {
        await new Promise((r) => setTimeout(r, 100));
        state = (await data<{ state: string }>(query(agent, "containers.get", { name: "before" }))).state;
      }
      answers.push(`init killed: ${state}`);
      assert.equal(state, "STOPPED", "a container whose init died on a full disk did not end STOPPED");
    }
    console.log(`# full disk: ${answers.join(", ")}`);
    // reads work
    for (const [path, input] of [["containers.list"], ["agent.info"], ["audit.list"], ["events.list", {}], ["containers.checkConfig", { name: "x", config: "lxc.uts.name = x\n" }]] as const) {
      const a = await query(agent, path, input);
      assert.equal(a.status, 200, `${path} failed on a full disk: ${a.text.slice(0, 300)}`);
    }
    assert.equal((await query(agent, "containers.get", { name: "before" })).status, 200);
    // refusals are answered though they cannot be audited
    for (let k = 0; k < 20; k++) assert.equal((await call(agent, "/trpc/containers.list", { token: "wrong" })).status, 401);
    assert.equal((await call(agent, "/trpc/containers.create", { body: "x", headers: { "content-type": "text/plain" } })).status, 415);

    // space returns: the same agent takes writes again
    for (const f of readdirSync(lxcpath).filter((f) => f.startsWith("filler"))) unlinkSync(join(lxcpath, f));
    const again = await mutate(agent, "containers.create", { name: "again", template: "host" });
    assert.equal(again.status, 200, again.text.slice(0, 300));
    // no change was lost: each container's state is the last one its timeline holds
    let agree = false;
    for (let k = 0; k < 50 && !agree; k++) {
      const list = await data<Array<{ name: string; state: string }>>(query(agent, "containers.list"));
      const events = (await data<{ events: Array<{ container: string; state: string }> }>(query(agent, "events.list", { limit: 100_000 }))).events;
      agree = list.every((c) => (events.filter((e) => e.container === c.name).at(-1)?.state ?? "STOPPED") === c.state);
      if (!agree) await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(agree, "a container's state and the last event of its timeline disagree after the disk was full");
    for (const name of ["before", "idle"]) await mutate(agent, "containers.abort", { name });
    const audit = await data<Array<{ action: string; target: string | null; result: string }>>(query(agent, "audit.list", { limit: 50 }));
    assert.ok(audit.some((r) => r.action === "containers.create" && r.target === "again" && r.result === "ok"));
    assert.ok(existsSync(join(lxcpath, "again", "config")));
    assert.ok(agent.alive());
  });
});

/** Fills the filesystem that holds `path` until a write fails with ENOSPC. */
function fill(path: string): void {
  const fd = openSync(path, "w");
  const chunk = Buffer.alloc(256 * 1024, 1);
  try {
    for (;;) {
      try {
        writeSync(fd, chunk);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ENOSPC") throw e;
        // then the last few bytes
        for (let size = chunk.length / 2; size >= 512; size /= 2) {
          try {
            writeSync(fd, chunk, 0, size);
          } catch {
            // full at this size: try smaller
          }
        }
        return;
      }
    }
  } finally {
    closeSync(fd);
  }
}
