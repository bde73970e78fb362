// The lifecycle under a hostile load: hundreds of concurrent mutations on a few containers, then
// a consistency check (each container's state is the last event of its timeline, a running one
// has its init and its cgroup, a stopped one neither); and the agent SIGKILLed mid-start, again
// and again: each time the next agent records every container STOPPED and nothing is left
// behind. Needs root (real containers).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { data, mutate, query, startAgent, tempLxcpath, type HostileAgent } from "./support.ts";

const TRANSIENT = new Set(["STARTING", "STOPPING", "ABORTING", "FREEZING", "THAWED"]);

/** Every cgroup directory (any hierarchy) whose name starts with `prefix`. */
function cgroupsNamed(prefix: string): string[] {
  const found: string[] = [];
  for (const mount of readdirSync("/sys/fs/cgroup")) {
    const dir = join("/sys/fs/cgroup", mount);
    try {
      for (const entry of readdirSync(dir)) if (entry.startsWith(prefix)) found.push(join(dir, entry));
    } catch {
      // not a directory of cgroups
    }
  }
  return found;
}

interface Summary { name: string; state: string; pid?: number; cgroup?: string }
interface Event { seq: number; container: string; state: string; detail: { cgroup?: string } }

/** Waits for no container to be in a transient state; the list then. */
async function settled(agent: HostileAgent): Promise<Summary[]> {
  let list: Summary[] = [];
  for (let i = 0; i < 100; i++) {
    list = await data<Summary[]>(query(agent, "containers.list"));
    if (!list.some((c) => TRANSIENT.has(c.state))) return list;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`containers still in a transient state: ${JSON.stringify(list.filter((c) => TRANSIENT.has(c.state)))}`);
}

/** Each container's state agrees with its timeline, its init and its cgroup. */
async function checkConsistent(agent: HostileAgent, prefix: string): Promise<void> {
  const list = await settled(agent);
  let events: Event[] = [];
  let disagree: string[] = [];
  for (let i = 0; i < 25; i++) {
    events = (await data<{ events: Event[] }>(query(agent, "events.list", { limit: 100_000 }))).events;
    const fresh = await data<Summary[]>(query(agent, "containers.list"));
    disagree = fresh.filter((c) => (events.filter((e) => e.container === c.name).at(-1)?.state ?? "STOPPED") !== c.state).map((c) => c.name);
    if (disagree.length === 0) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.deepEqual(disagree, [], "containers whose state is not the last event of their timeline");
  for (const c of list.filter((c) => c.name.startsWith(prefix))) {
    const detail = await data<Summary>(query(agent, "containers.get", { name: c.name }));
    if (detail.state === "RUNNING" || detail.state === "FROZEN") {
      assert.ok(detail.pid && existsSync(`/proc/${detail.pid}`), `${c.name} is ${detail.state} with no init`);
      assert.ok(detail.cgroup && cgroupsNamed(detail.cgroup).length > 0, `${c.name} is ${detail.state} with no cgroup`);
    } else if (detail.state === "STOPPED") {
      assert.deepEqual(cgroupsNamed(`corral-${c.name}`), [], `${c.name} is STOPPED and its cgroups are left`);
    }
  }
}

let agent: HostileAgent;
before(async () => {
  agent = await startAgent();
});
after(async () => {
  await agent.stop();
  rmSync(agent.lxcpath, { recursive: true, force: true });
});

/** What the agent may keep after the mutations (it grew by some 35 MB, and kept it, before src/memory.ts). */
const RSS_MARGIN_MB = 15;

describe("concurrent mutations", () => {
  it("400 of them on 8 containers, 40 at a time: no stack trace, the agent alive, every container consistent", async () => {
    const names = Array.from({ length: 8 }, (_, i) => `hl${i}`);
    for (const name of names) assert.equal((await mutate(agent, "containers.create", { name, template: "host" })).status, 200);
    const rssBefore = agent.rssMB();
    let seed = 0x5eed;
    const random = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const verbs: Array<[string, (name: string) => unknown]> = [
      ["containers.start", (name) => ({ name, command: ["sleep", "1000"] })],
      ["containers.start", (name) => ({ name, command: ["true"] })],
      ["containers.stop", (name) => ({ name, kill: true })],
      ["containers.stop", (name) => ({ name, timeout: 0, wait: false })],
      ["containers.abort", (name) => ({ name })],
      ["containers.killNow", (name) => ({ name })],
      ["containers.freeze", (name) => ({ name })],
      ["containers.unfreeze", (name) => ({ name })],
      ["containers.reboot", (name) => ({ name })],
    ];
    const statuses = new Map<string, number>();
    const errors: string[] = [];
    for (let burst = 0; burst < 10; burst++) {
      await Promise.all(Array.from({ length: 40 }, async () => {
        const [path, input] = verbs[Math.floor(random() * verbs.length)]!;
        const a = await mutate(agent, path, input(names[Math.floor(random() * names.length)]!));
        statuses.set(String(a.status), (statuses.get(String(a.status)) ?? 0) + 1);
        assert.ok(!/"stack"/.test(a.text), `${path}: a stack trace left the agent`);
        if (a.status >= 500) errors.push(`${path} ${a.status}: ${a.json?.error?.message ?? a.text.slice(0, 200)}`);
      }));
    }
    console.log(`# concurrent mutations: 400, statuses ${JSON.stringify(Object.fromEntries(statuses))}${errors.length ? `; 5xx: ${[...new Set(errors)].slice(0, 5).join(" | ")}` : ""}`);
    assert.ok(agent.alive(), agent.log().slice(-2000));
    await checkConsistent(agent, "hl");
    for (const name of names) await mutate(agent, "containers.abort", { name });
    await checkConsistent(agent, "hl");
    assert.deepEqual(cgroupsNamed("corral-hl"), [], "cgroups left after every container was aborted");
    // and the memory the burst took comes back once the agent is quiet (src/memory.ts)
    const settled = Date.now() + 45_000;
    while (agent.rssMB() > rssBefore + RSS_MARGIN_MB && Date.now() < settled) await new Promise((r) => setTimeout(r, 1000));
    console.log(`# concurrent mutations: agent RSS ${rssBefore.toFixed(0)} MB before, ${agent.rssMB().toFixed(0)} MB once quiet`);
    assert.ok(agent.rssMB() <= rssBefore + RSS_MARGIN_MB, `the agent kept ${(agent.rssMB() - rssBefore).toFixed(0)} MB after the mutations`);
  });
});

describe("an abort racing a networked start", () => {
  const BRIDGE = "corralhl0";
  before(() => execFileSync("sh", ["-c", `ip link del ${BRIDGE} 2>/dev/null; ip link add ${BRIDGE} type bridge && ip addr add 10.253.0.1/24 dev ${BRIDGE} && ip link set ${BRIDGE} up`]));
  after(() => execFileSync("sh", ["-c", `ip link del ${BRIDGE} 2>/dev/null || true`]));

  it("30 times, aborted at once and a little later: a 409 or a start, never a 500, and no veth or cgroup left", async () => {
    const net = `lxc.net.0.type = veth\nlxc.net.0.link = ${BRIDGE}\nlxc.net.0.flags = up\nlxc.net.0.ipv4.address = 10.253.0.2/24\n`;
    assert.equal((await mutate(agent, "containers.create", { name: "hlnet", template: "host", config: net })).status, 200);
    const statuses = new Map<number, number>();
    for (let i = 0; i < 30; i++) {
      const starting = mutate(agent, "containers.start", { name: "hlnet", command: ["sleep", "1000"] });
      // from at once to a few ms in: the abort lands in each step of the start in turn
      await new Promise((r) => setTimeout(r, i % 6));
      const aborting = mutate(agent, "containers.abort", { name: "hlnet" });
      for (const a of await Promise.all([starting, aborting])) {
        statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
        assert.ok(a.status === 200 || a.status === 409, `${a.status}: ${a.text.slice(0, 300)}`);
      }
      await settled(agent);
      // a start the abort missed (it came after RUNNING) is aborted now
      await mutate(agent, "containers.abort", { name: "hlnet" });
      await settled(agent);
    }
    console.log(`# abort racing a networked start: 30 rounds, statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
    await checkConsistent(agent, "hlnet");
    assert.deepEqual(cgroupsNamed("corral-hlnet"), []);
    const ports = execFileSync("ip", ["-o", "link", "show", "master", BRIDGE], { encoding: "utf8" }).trim();
    assert.equal(ports, "", `veths left on the bridge: ${ports}`);
  });
});

describe("the agent killed mid-start", () => {
  it("10 times: every container is recorded STOPPED by the next agent and nothing is left", async () => {
    const lxcpath = tempLxcpath("kill");
    let current: HostileAgent | undefined = await startAgent({ lxcpath });
    const names = Array.from({ length: 4 }, (_, i) => `hk${i}`);
    try {
      for (const name of names) assert.equal((await mutate(current, "containers.create", { name, template: "host" })).status, 200);
      for (let round = 0; round < 10; round++) {
        const starts = names.map((name) => mutate(current!, "containers.start", { name, command: ["sleep", "1000"] }).catch(() => undefined));
        await new Promise((r) => setTimeout(r, round * 3));
        const port = current.port;
        const token = current.token;
        process.kill(current.pid, "SIGKILL");
        await current.exited;
        await Promise.all(starts);
        current = await startAgent({ lxcpath, port, token });
        const list = await settled(current);
        assert.ok(list.every((c) => c.state === "STOPPED"), `after a kill in round ${round}: ${JSON.stringify(list)}`);
        assert.deepEqual(cgroupsNamed("corral-hk"), [], `cgroups left after a kill in round ${round}`);
        await checkConsistent(current, "hk");
      }
      console.log("# agent SIGKILLed mid-start 10 times: every container STOPPED, 0 cgroups left");
    } finally {
      await current.stop();
      rmSync(lxcpath, { recursive: true, force: true });
    }
  });
});
