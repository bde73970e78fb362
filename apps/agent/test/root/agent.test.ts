// Root tests of the agent as a separate process: the API, the durable event stream, restarts and
// refusals. Needs root (real containers); fails without.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { StateEvent } from "@corral/core";
import { AgentProcess, freePort } from "./agent-process.ts";
import { AgentError } from "../../src/cli/agent-http.ts";
import { requireRoot, until } from "./harness.ts";
import { detectHierarchies } from "../../src/runtime/cgroup-hierarchies.ts";
import { Store } from "../../src/store/store.ts";
import { nodeHost } from "../../src/host/node-host.ts";

let agent: AgentProcess;
let lxcpath: string;

before(async () => {
  requireRoot();
  lxcpath = mkdtempSync(join(tmpdir(), "corral-agent-test-"));
  agent = new AgentProcess(lxcpath, await freePort(), "test-token-0123456789");
  await agent.start();
});

after(async () => {
  await agent.stop();
  rmSync(lxcpath, { recursive: true, force: true });
});

/** A live subscriber that records what it sees. */
function watch(from?: string) {
  const conn = agent.client("watcher");
  const seen: StateEvent[] = [];
  const resyncs: string[] = [];
  let lastId: string | undefined = from;
  const sub = conn.streams().events.onEvent.subscribe({ lastEventId: from }, {
    onData: (d) => {
      const item = d.data;
      lastId = d.id;
      if (item.kind === "event") seen.push(item.event);
      else resyncs.push(item.reason);
    },
  });
  return {
    seen,
    resyncs,
    lastId: () => lastId,
    close: () => {
      sub.unsubscribe();
      conn.close();
    },
  };
}

function assertNoGap(seen: StateEvent[], all: StateEvent[], what: string): void {
  assert.deepEqual(seen.map((e) => e.seq), all.map((e) => e.seq), `${what}: events missing, doubled or out of order`);
}

describe("the agent's API and stream", () => {
  it("20 containers started while 3 clients watch: every client sees every event, in order", async () => {
    const watchers = [watch(), watch(), watch()];
    await new Promise((r) => setTimeout(r, 300));
    const { http } = agent.client();
    for (let i = 0; i < 20; i++) await http.containers.create.mutate({ name: `c${i}`, template: "host" });
    await Promise.all(Array.from({ length: 20 }, (_, i) => http.containers.start.mutate({ name: `c${i}`, command: ["sleep", "300"] })));
    const list = await http.containers.list.query();
    assert.equal(list.filter((c) => c.state === "RUNNING").length, 20);
    await Promise.all(Array.from({ length: 20 }, (_, i) => http.containers.stop.mutate({ name: `c${i}`, kill: true })));
    const all = (await http.events.list.query({ after: 0, limit: 10_000 })).events;
    assert.equal(all.length, 80, "STARTING RUNNING STOPPING STOPPED for each");
    for (const w of watchers) await until(() => w.seen.length >= all.length, 5000);
    watchers.forEach((w, i) => assertNoGap(w.seen, all, `watcher ${i}`));
    watchers.forEach((w) => w.close());
  });

  it("a client cut off mid-stream resumes from its cursor with nothing missing and nothing twice", async () => {
    const { http } = agent.client();
    const before = (await http.events.list.query({ after: 0, limit: 10_000 })).events;
    const first = watch(`${(await http.agent.info.query()).storeId}:0`);
    await until(() => first.seen.length >= before.length);
    await http.containers.start.mutate({ name: "c0", command: ["true"] });
    await until(() => first.seen.some((e) => e.container === "c0" && e.state === "RUNNING" && e.seq > before.at(-1)!.seq));
    const cursor = first.lastId()!;
    first.close();
    // Events happen while it is away.
    await http.containers.start.mutate({ name: "c1", command: ["true"] });
    await new Promise((r) => setTimeout(r, 300));
    const resumed = watch(cursor);
    const all = (await http.events.list.query({ after: 0, limit: 10_000 })).events;
    await until(() => first.seen.length + resumed.seen.length >= all.length);
    assertNoGap([...first.seen, ...resumed.seen], all, "first part + resumed part");
    resumed.close();
  });

  it("a cursor from another store gets an explicit resync", async () => {
    const w = watch("00000000-0000-0000-0000-000000000000:5");
    await until(() => w.resyncs.length > 0);
    assert.match(w.resyncs[0]!, /another store/);
    w.close();
  });

  it("refuses a start of a running container and a stop of a stopped one, changing nothing", async () => {
    const { http } = agent.client();
    await http.containers.start.mutate({ name: "c2", command: ["sleep", "300"] });
    const n = (await http.events.list.query({ container: "c2" })).events.length;
    await assert.rejects(http.containers.start.mutate({ name: "c2" }), /already running/);
    await http.containers.stop.mutate({ name: "c2", kill: true });
    await assert.rejects(http.containers.stop.mutate({ name: "c3" }), /not running/);
    await assert.rejects(http.containers.stop.mutate({ name: "nosuch" }), /no container named/);
    assert.equal((await http.events.list.query({ container: "c2" })).events.length, n + 2);
  });

  it("concurrent stops of one container are one stop", async () => {
    const { http } = agent.client();
    await http.containers.create.mutate({ name: "stopme", template: "host" });
    await http.containers.start.mutate({ name: "stopme", command: ["sh", "-c", "trap 'sleep 0.5; exit 0' PWR; while :; do sleep 0.1; done"] });
    const results = await Promise.allSettled([1, 2, 3].map(() => http.containers.stop.mutate({ name: "stopme", timeout: 5 })));
    assert.ok(results.every((r) => r.status === "fulfilled"), JSON.stringify(results));
    const states = (await http.events.list.query({ container: "stopme" })).events.map((e) => e.state);
    assert.deepEqual(states, ["STARTING", "RUNNING", "STOPPING", "STOPPED"]);
  });

  it("freezes and thaws through the cgroup freezer, with LXC's FREEZING, FROZEN, THAWED", async () => {
    const { http } = agent.client();
    await http.containers.create.mutate({ name: "icy", template: "host" });
    await http.containers.start.mutate({ name: "icy", command: ["sh", "-c", "while :; do echo tick; sleep 0.05; done"] });
    await http.containers.freeze.mutate({ name: "icy" });
    assert.equal((await http.containers.get.query({ name: "icy" })).state, "FROZEN");
    const history = async () => (await http.console.history.query({ name: "icy" })).length;
    const frozenAt = await history();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await history(), frozenAt, "no output while frozen");
    await assert.rejects(http.containers.freeze.mutate({ name: "icy" }), /FROZEN/);
    await http.containers.unfreeze.mutate({ name: "icy" });
    await new Promise((r) => setTimeout(r, 300));
    assert.ok((await history()) > frozenAt, "output again once thawed");
    await http.containers.freeze.mutate({ name: "icy" });
    await http.containers.stop.mutate({ name: "icy", kill: true });
    const states = (await http.events.list.query({ container: "icy" })).events.map((e) => e.state);
    assert.deepEqual(states, ["STARTING", "RUNNING", "FREEZING", "FROZEN", "THAWED", "RUNNING", "FREEZING", "FROZEN", "STOPPING", "STOPPED"]);
  });

  it("reboots: a kill and a start for an init that does not catch the reboot signal", async () => {
    const { http } = agent.client();
    await http.containers.create.mutate({ name: "rb", template: "host", config: "lxc.init.cmd = sleep 300\n" });
    await http.containers.start.mutate({ name: "rb" });
    const pid1 = (await http.containers.get.query({ name: "rb" })).pid;
    await http.containers.reboot.mutate({ name: "rb" });
    let c = await http.containers.get.query({ name: "rb" });
    for (let i = 0; i < 50 && !(c.state === "RUNNING" && c.pid !== pid1); i++) {
      await new Promise((r) => setTimeout(r, 100));
      c = await http.containers.get.query({ name: "rb" });
    }
    assert.equal(c.state, "RUNNING");
    assert.notEqual(c.pid, pid1);
    const events = (await http.events.list.query({ container: "rb" })).events;
    assert.deepEqual(events.map((e) => e.state), ["STARTING", "RUNNING", "STOPPING", "STOPPED", "STARTING", "RUNNING"]);
    assert.equal(events[3]!.detail.reboot, true);
    assert.equal(events[4]!.cause.request, "reboot");
    // An init that handles the reboot signal by exiting (a shell and SIGINT) is rebooted too.
    await http.containers.stop.mutate({ name: "rb", kill: true });
    await http.containers.start.mutate({ name: "rb", command: ["sh", "-c", "trap 'exit 130' INT; while :; do sleep 0.1; done"] });
    const pid2 = (await http.containers.get.query({ name: "rb" })).pid;
    await http.containers.reboot.mutate({ name: "rb" });
    c = await http.containers.get.query({ name: "rb" });
    for (let i = 0; i < 50 && !(c.state === "RUNNING" && c.pid !== pid2); i++) {
      await new Promise((r) => setTimeout(r, 100));
      c = await http.containers.get.query({ name: "rb" });
    }
    assert.equal(c.state, "RUNNING");
    assert.notEqual(c.pid, pid2);
    const last = (await http.events.list.query({ container: "rb" })).events.slice(-4);
    assert.deepEqual(last.map((e) => [e.state, e.cause.request]), [["STOPPING", "reboot"], ["STOPPED", "reboot"], ["STARTING", "reboot"], ["RUNNING", "reboot"]]);
    await http.containers.stop.mutate({ name: "rb", kill: true });
    await assert.rejects(http.containers.delete.mutate({ name: "nosuch" }), /no container named/);
    await http.containers.start.mutate({ name: "c7", command: ["sleep", "30"] });
    await assert.rejects(http.containers.delete.mutate({ name: "c7" }), /stop it before deleting/);
    await http.containers.abort.mutate({ name: "c7" });
    await http.containers.delete.mutate({ name: "rb" });
    assert.ok(!existsSync(join(lxcpath, "rb")));
  });

  it("keeps the console: history from the ring buffer, live output, and a reader resuming from its cursor", async () => {
    const conn = agent.client();
    await conn.http.containers.start.mutate({ name: "c5", command: ["sh", "-c", "echo hello-console; while read line; do echo got:$line; done"] });
    /** onOutput from `lastEventId`: the items, and the text so far */
    const read = (lastEventId: string | null) => {
      const items: Array<{ id: string; reset: boolean; text: string }> = [];
      const sub = conn.streams().console.onOutput.subscribe({ name: "c5", lastEventId }, { onData: ({ id, data }) => items.push({ id, ...data }) });
      return { items, text: () => items.map((i) => i.text).join(""), stop: () => sub.unsubscribe() };
    };
    const first = read(null);
    await until(() => first.text().includes("hello-console"));
    assert.equal(first.items[0]!.reset, true, "a new reader starts with the whole ring");
    await conn.http.console.write.mutate({ name: "c5", data: "ping\n" });
    await until(() => first.text().includes("got:ping"));
    first.stop();
    const cursor = first.items.at(-1)!.id;

    // while away, more output; coming back with the cursor brings only that
    await conn.http.console.write.mutate({ name: "c5", data: "pong\n" });
    for (let i = 0; i < 250 && !(await conn.http.console.history.query({ name: "c5" })).includes("got:pong"); i++) await new Promise((r) => setTimeout(r, 20));
    const resumed = read(cursor);
    await until(() => resumed.text().includes("got:pong"));
    assert.equal(resumed.items[0]!.reset, false);
    assert.doesNotMatch(resumed.text(), /hello-console|got:ping/);
    resumed.stop();
    // a cursor of another run (or made up) gets the whole ring again
    const foreign = read("0000abcd:12");
    await until(() => foreign.items.length > 0);
    assert.equal(foreign.items[0]!.reset, true);
    assert.match(foreign.text(), /hello-console[\s\S]*got:pong/);
    foreign.stop();
    assert.match(await conn.http.console.history.query({ name: "c5" }), /hello-console/);
    await conn.http.containers.abort.mutate({ name: "c5" });
    conn.close();
  });
});

describe("the agent's threads", () => {
  /** Scheduling policy of each thread of `pid`: field 41 of /proc/PID/task/TID/stat. */
  function policies(pid: number): Map<number, number> {
    return new Map(readdirSync(`/proc/${pid}/task`).map((tid) => {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "latin1");
      return [Number(tid), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[38])];
    }));
  }

  it("runs V8's background threads under SCHED_IDLE, and the main thread, libuv's pool and the store's checkpointer as before", () => {
    const byTid = policies(agent.pid!);
    const SCHED_OTHER = 0;
    const SCHED_IDLE = 5;
    assert.equal(byTid.get(agent.pid!), SCHED_OTHER, "the main thread");
    const idle = [...byTid.values()].filter((p) => p === SCHED_IDLE).length;
    const other = [...byTid.values()].filter((p) => p === SCHED_OTHER).length;
    // V8's platform: its worker threads (4 by default) and the timer of their delayed tasks.
    assert.ok(idle >= 5, `${idle} threads under SCHED_IDLE`);
    // The main thread, libuv's four and the checkpointer's (a worker thread, made after).
    assert.ok(other >= 6, `${other} threads under SCHED_OTHER`);
    assert.equal(idle + other, byTid.size, "a thread under another policy");
  });
});

describe("security", () => {
  async function status(path: string, headers: Record<string, string> = {}, method = "GET", body?: string): Promise<number> {
    const res = await fetch(`${agent.url}${path}`, { method, headers, body });
    return res.status;
  }

  it("refuses no token, a wrong token, a foreign Origin and a non-JSON mutation, and audits each", async () => {
    assert.equal(await status("/trpc/containers.list"), 401);
    assert.equal(await status("/trpc/containers.list", { authorization: "Bearer wrong" }), 401);
    assert.equal(await status("/trpc/containers.create", { authorization: `Bearer ${agent.token}`, "content-type": "text/plain" }, "POST", "name=x"), 415);
    const ws = await new Promise<number>((resolve) => {
      void import("ws").then(({ default: WebSocket }) => {
        const sock = new WebSocket(`ws://127.0.0.1:${agent.port}/trpc`, { headers: { authorization: `Bearer ${agent.token}`, origin: "http://evil.example" } });
        sock.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
        sock.on("open", () => resolve(101));
      });
    });
    assert.equal(ws, 403);
    const audit = await agent.client().http.audit.list.query({ limit: 50 });
    const refused = audit.filter((a) => a.result === "refused").map((a) => a.detail);
    assert.ok(refused.some((d) => /missing or wrong token/.test(d ?? "")));
    assert.ok(refused.some((d) => /origin http:\/\/evil.example/.test(d ?? "")));
    assert.ok(refused.some((d) => /JSON body/.test(d ?? "")));
  });

  it("refuses bad names with a message and creates nothing", async () => {
    const { http } = agent.client();
    const before = readdirSync(lxcpath).sort();
    for (const bad of ["../x", "a/b", "x".repeat(80), "", ".hidden"]) {
      await assert.rejects(http.containers.create.mutate({ name: bad, template: "host" }), /name/i, `accepted ${JSON.stringify(bad)}`);
    }
    assert.deepEqual(readdirSync(lxcpath).sort(), before);
    assert.ok(!existsSync(join(lxcpath, "..", "x")));
  });

  it("refuses a config with an unknown key, naming it and its line", async () => {
    const { http } = agent.client();
    await assert.rejects(http.containers.create.mutate({ name: "badcfg", config: "lxc.uts.name = x\nlxc.bogus.key = 1\n" }), /config:2: lxc\.bogus\.key: unknown configuration key/);
    assert.ok(!existsSync(join(lxcpath, "badcfg")));
  });

  it("refuses a config value that cannot work the same way in checkConfig, create and start: a 400 at its line, never a 500", async () => {
    const { http } = agent.client();
    for (const bad of ["lxc.cgroup2.memory.max = lots", "lxc.cgroup2.cpu.max = fast", "lxc.signal.halt = SIGNOPE", "lxc.cgroup2.memroy.max = 64M"]) {
      const check = await http.containers.checkConfig.query({ name: "vals", config: `lxc.uts.name = vals\n${bad}\n` });
      assert.ok(!check.ok, bad);
      assert.equal(check.line, 2, bad);
      assert.equal(check.key, bad.split(" = ")[0]);
      await assert.rejects(http.containers.create.mutate({ name: "vals", template: "host", config: `${bad}\n` }),
        (e: unknown) => e instanceof AgentError && e.httpStatus === 400 && e.message.includes(`config:1: ${bad.split(" = ")[0]}`), bad);
      assert.ok(!existsSync(join(lxcpath, "vals")), bad);
    }
    // a config edited on disk after create is refused by start, at its line
    await http.containers.create.mutate({ name: "vals", template: "host" });
    const lines = readFileSync(join(lxcpath, "vals", "config"), "utf8").split("\n").length;
    appendFileSync(join(lxcpath, "vals", "config"), "lxc.cgroup2.cpu.max = fast\n");
    await assert.rejects(http.containers.start.mutate({ name: "vals" }),
      (e: unknown) => e instanceof AgentError && e.httpStatus === 400 && e.message.includes(`vals/config:${lines}: lxc.cgroup2.cpu.max: "fast"`));
    assert.equal((await http.containers.get.query({ name: "vals" })).state, "STOPPED");
    await http.containers.delete.mutate({ name: "vals" });
  });
});

describe("restarts", () => {
  it("after a crash the timeline is whole, leftovers are gone, and autostart containers start", async () => {
    const { http } = agent.client();
    await http.containers.create.mutate({ name: "auto", template: "host", config: "lxc.start.auto = 1\nlxc.init.cmd = sleep 300\n" });
    await http.containers.create.mutate({ name: "broken", config: "lxc.rootfs.path = dir:/nonexistent\n" });
    await assert.rejects(http.containers.start.mutate({ name: "broken" }), /start failed at setup: rootfs \/nonexistent does not exist/);
    await http.containers.start.mutate({ name: "c6", command: ["sleep", "300"] });
    const cgroup = (await http.containers.get.query({ name: "c6" })).cgroup!;
    const before = (await http.events.list.query({ after: 0, limit: 10_000 })).events;
    await agent.stop("SIGKILL");
    // PDEATHSIG: the container dies with its agent; the new agent finds its cgroup and cleans it.
    await agent.start();
    const after = (await http.events.list.query({ after: 0, limit: 10_000 })).events;
    assert.deepEqual(after.slice(0, before.length), before, "the timeline before the crash is whole");
    const recovered = after.find((e) => e.seq > before.at(-1)!.seq && e.container === "c6")!;
    assert.equal(recovered.state, "STOPPED");
    assert.equal(recovered.cause.actor, "agent");
    assert.match((await http.containers.get.query({ name: "broken" })).lastError ?? "", /^setup: rootfs \/nonexistent does not exist/, "the last failed start survives the restart");
    assert.equal((await http.containers.get.query({ name: "c6" })).lastExit, undefined, "c6 ended with the agent, not with an exit of its own");
    for (const mount of readdirSync("/sys/fs/cgroup")) {
      assert.ok(!existsSync(join("/sys/fs/cgroup", mount, cgroup)), `cgroup ${cgroup} left in ${mount}`);
    }
    let autoState = "";
    for (let i = 0; i < 50 && autoState !== "RUNNING"; i++) {
      autoState = (await http.containers.get.query({ name: "auto" })).state;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(autoState, "RUNNING", "lxc.start.auto = 1 started it");
    await http.containers.stop.mutate({ name: "auto", kill: true });
  });

  it("after a crash during STARTING, the planned cgroup is removed if empty, never one that runs something", async () => {
    const { http } = agent.client();
    for (const name of ["half", "taken"]) await http.containers.create.mutate({ name, template: "host" });
    await agent.stop("SIGKILL");
    // What a start cut short leaves: STARTING with its planned cgroup, made (empty: PDEATHSIG
    // killed the init). "taken"'s planned name was never made here, and a process of someone
    // else's now runs in a cgroup of that name.
    const v2 = detectHierarchies(nodeHost.files).find((h) => h.version === 2)!.mountPoint;
    const store = new Store(join(agent.lxcpath, "corral.db"));
    for (const name of ["half", "taken"]) store.appendEvent(name, "STARTING", { actor: "test" }, { cgroup: `corral-${name}` });
    store.close();
    mkdirSync(join(v2, "corral-half"));
    mkdirSync(join(v2, "corral-taken"));
    const other = spawn("sleep", ["60"], { stdio: "ignore" });
    try {
      writeFileSync(join(v2, "corral-taken", "cgroup.procs"), String(other.pid));
      await agent.start();
      assert.ok(!existsSync(join(v2, "corral-half")), "the empty planned cgroup is gone");
      assert.ok(existsSync(join(v2, "corral-taken")), "a planned name that holds a process is left alone");
      assert.equal(other.exitCode, null, "and the process in it was not killed");
      for (const name of ["half", "taken"]) assert.equal((await http.containers.get.query({ name })).state, "STOPPED");
    } finally {
      other.kill("SIGKILL");
      await until(() => other.exitCode !== null || other.signalCode !== null, 5000);
      rmdirSync(join(v2, "corral-taken"));
    }
  });
});

