// Resource samples (src/metrics): which files each cgroup layout is read from, the rates a tick
// makes of them, the recent window, and the minutes the store keeps across a restart. On a fake
// host's files and a real SQLite store in a temp directory; no root.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { FakeFiles } from "../../src/host/fake.ts";
import { readPlan, type CgroupDirs } from "../../src/metrics/read-plan.ts";
import { HOST, Sampler, type SampleTarget } from "../../src/metrics/sampler.ts";
import { SampleRing } from "../../src/metrics/recent.ts";
import { SampleHistory } from "../../src/store/samples.ts";
import { Store } from "../../src/store/store.ts";
import type { Logger } from "../../src/log.ts";
import type { Sample, SampleTick } from "@corral/core";

/** The tick's sample of container "a", which it must have. */
function sampleOfA(tick: SampleTick): Sample {
  const s = tick.containers.a;
  assert.ok(s, "no sample of a in the tick");
  return s;
}

const quiet: Logger = { info: () => {}, error: () => {} };

/** A cgroup in the given hierarchies: controller -> [dir, version]; "" is the v2 directory. */
function dirs(map: Record<string, [string, 1 | 2]>): CgroupDirs {
  return { dirFor: (c) => { const d = map[c ?? ""]; return d && { dir: d[0], version: d[1] }; } };
}

const HYBRID_WITH_MEMORY = dirs({ "": ["/cg/unified/corral-a", 2], memory: ["/cg/memory/corral-a", 1] });

describe("readPlan", () => {
  it("hybrid host: cpu from v2's cpu.stat, memory from the v1 hierarchy it joined, no pids or I/O it did not join", () => {
    const plan = readPlan(HYBRID_WITH_MEMORY, ["vethA"]);
    assert.deepEqual(plan.files.map((f) => f.path), [
      "/cg/unified/corral-a/cpu.stat", "/cg/memory/corral-a/memory.usage_in_bytes", "/cg/memory/corral-a/memory.max_usage_in_bytes",
      "/cg/memory/corral-a/memory.limit_in_bytes", "/cg/memory/corral-a/memory.failcnt", "/cg/memory/corral-a/memory.oom_control",
    ]);
    assert.equal(plan.io, undefined);
    assert.deepEqual(plan.veths, [{ rx: "/sys/class/net/vethA/statistics/rx_bytes", tx: "/sys/class/net/vethA/statistics/tx_bytes" }]);
  });

  it("pure v2 with its controllers enabled: everything from the one directory", () => {
    const d = "/cg/corral-b";
    const plan = readPlan(dirs({ "": [d, 2], memory: [d, 2], pids: [d, 2], io: [d, 2] }), []);
    assert.deepEqual(plan.files.map((f) => f.path.slice(d.length + 1)), ["cpu.stat", "memory.current", "memory.peak", "memory.max", "memory.events", "pids.current"]);
    assert.equal(plan.io?.path, `${d}/io.stat`);
  });

  it("v1 only: cpuacct.usage and blkio where the container joined them", () => {
    const plan = readPlan(dirs({ cpuacct: ["/cg/cpuacct/c", 1], blkio: ["/cg/blkio/c", 1], pids: ["/cg/pids/c", 1] }), []);
    assert.deepEqual(plan.files.map((f) => f.path), ["/cg/cpuacct/c/cpuacct.usage", "/cg/pids/c/pids.current"]);
    assert.equal(plan.io?.path, "/cg/blkio/c/blkio.throttle.io_service_bytes");
  });
});

function setCounters(files: FakeFiles, cpuUsec: number, mem: number, oomKills: number, hostRx: number, hostTx: number): void {
  files.files.set("/cg/unified/corral-a/cpu.stat", `usage_usec ${cpuUsec}\nuser_usec ${cpuUsec}\nsystem_usec 0\n`);
  files.files.set("/cg/memory/corral-a/memory.usage_in_bytes", `${mem}\n`);
  files.files.set("/cg/memory/corral-a/memory.limit_in_bytes", "67108864\n");
  files.files.set("/cg/memory/corral-a/memory.failcnt", "0\n");
  files.files.set("/cg/memory/corral-a/memory.oom_control", `oom_kill_disable 0\nunder_oom 0\noom_kill ${oomKills}\n`);
  files.files.set("/sys/class/net/vethA/statistics/rx_bytes", `${hostRx}\n`);
  files.files.set("/sys/class/net/vethA/statistics/tx_bytes", `${hostTx}\n`);
}

function setup(dir: string) {
  const files = new FakeFiles();
  files.files.set("/proc/meminfo", "MemTotal:        4000000 kB\nMemFree: 1 kB\n");
  let now = 16_666_667 * 60_000; // a whole minute
  let targets: SampleTarget[] = [{ name: "a", run: "corral-a@1", cgroup: HYBRID_WITH_MEMORY, veths: ["vethA"] }];
  const store = new Store(join(dir, "corral.db"));
  const sampler = new Sampler(files, () => targets, store.samples, quiet, { now: () => now });
  return {
    files, store, sampler,
    advance: (ms: number) => (now += ms),
    now: () => now,
    setTargets: (t: SampleTarget[]) => (targets = t),
  };
}

describe("Sampler", () => {
  it("makes rates of two readings: CPU % of a core, memory against its limit, the veth's bytes as the container sees them", async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "corral-sampler-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const { files, store, sampler, advance } = setup(dir);
    setCounters(files, 1_000_000, 1000, 0, 0, 0);
    const first = await sampler.tick();
    assert.equal(sampleOfA(first).cpu, null); // one reading is no rate
    assert.equal(sampleOfA(first).mem, 1000);
    assert.equal(sampleOfA(first).memLimit, 67108864);
    advance(2000);
    setCounters(files, 2_500_000, 3000, 1, 4000, 100); // 1.5 s of CPU in 2 s; the host end received 4000: the container sent it
    const next = await sampler.tick();
    assert.equal(sampleOfA(next).cpu, 75);
    assert.equal(sampleOfA(next).oomKills, 1);
    assert.equal(sampleOfA(next).netTx, 2000);
    assert.equal(sampleOfA(next).netRx, 50);
    assert.equal(sampleOfA(next).memPeak, null); // no memory.max_usage_in_bytes here: left out, not read again
    assert.equal(next.host.cpu, 75);
    assert.equal(next.host.running, 1);
    assert.equal(next.host.memLimit, null); // /proc/meminfo is read when the sampler starts
    store.close();
  });

  it("keeps the recent window, replays ticks after a cursor, and forgets a stopped container once it leaves the window", async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "corral-sampler-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const { files, store, sampler, advance, now, setTargets } = setup(dir);
    const start = now();
    for (let i = 0; i < 5; i++) {
      setCounters(files, i * 200_000, 1000 + i, 0, 0, 0);
      await sampler.tick();
      advance(2000);
    }
    assert.deepEqual(sampler.recent("a", start, now()).map((s) => s.cpu), [null, 10, 10, 10, 10]);
    assert.deepEqual(sampler.ticksAfter(start + 4000).map((k) => k.t), [start + 6000, start + 8000]);
    assert.deepEqual(Object.keys(sampler.ticksAfter(start, "nope")[0]!.containers), []);
    setTargets([]);
    await sampler.tick();
    assert.equal(sampler.recent("a", start, now() + 1).length, 5); // its last points stay for the graph
    advance(11 * 60_000);
    await sampler.tick();
    assert.equal(sampler.recent("a", 0, now() + 1).length, 0);
    store.close();
  });

  it("a new run (the same cgroup name, a new start) reads its own veths, and its first sample has no rate", async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "corral-sampler-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const { files, store, sampler, advance, setTargets } = setup(dir);
    setCounters(files, 5_000_000, 1000, 0, 0, 0);
    await sampler.tick();
    advance(2000);
    setTargets([{ name: "a", run: "corral-a@2", cgroup: HYBRID_WITH_MEMORY, veths: ["vethB"] }]);
    setCounters(files, 10, 1000, 0, 0, 0);
    files.files.set("/sys/class/net/vethB/statistics/rx_bytes", "0\n");
    files.files.set("/sys/class/net/vethB/statistics/tx_bytes", "0\n");
    assert.equal(sampleOfA(await sampler.tick()).cpu, null);
    advance(2000);
    setCounters(files, 2_000_010, 1000, 0, 0, 0);
    files.files.set("/sys/class/net/vethB/statistics/tx_bytes", "6000\n");
    const next = sampleOfA(await sampler.tick());
    assert.equal(next.cpu, 100);
    assert.equal(next.netRx, 3000);
    store.close();
  });

  it("stores one point a minute a container and the host's, which a new store on the same file reads back", async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "corral-sampler-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const { files, store, sampler, advance, now } = setup(dir);
    const start = now();
    for (let i = 0; i <= 90; i++) { // three minutes at 2 s, and the first tick of the fourth
      setCounters(files, i * 400_000, 1000 + i, 0, 0, 0);
      await sampler.tick();
      advance(2000);
    }
    assert.deepEqual(store.samples.range("a", 0, now()).map((s) => [s.t - start, s.cpu]), [[0, 20], [60_000, 20], [120_000, 20]]);
    assert.equal(store.samples.range(HOST, 0, now()).length, 3);
    store.close();
    const again = new Store(join(dir, "corral.db"));
    const restarted = new Sampler(files, () => [], again.samples, quiet, { now: () => now() });
    // nothing recent in a new agent: the range comes from the store's minutes
    assert.deepEqual(restarted.range("a", start, now()).samples.map((s) => s.mem), [1029, 1059, 1089]);
    again.close();
  });
});

describe("SampleHistory", () => {
  it("prunes rows past the retention, and the oldest past its row cap", (t) => {
    const dir = mkdtempSync(join(tmpdir(), "corral-sampler-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const store = new Store(join(dir, "corral.db"));
    // the store's own handle, for a history with small bounds
    const history = new SampleHistory((store as unknown as { db: never }).db, 10 * 60_000, 6);
    const point = (t: number) => ({ t, cpu: 1, mem: 1, memPeak: null, memLimit: null, oomKills: null, ioRead: null, ioWrite: null, netRx: null, netTx: null, pids: null });
    for (let m = 0; m < 5; m++) history.write(new Map([["a", point(m * 60_000)], ["b", point(m * 60_000)]]), m * 60_000);
    assert.equal(history.rows(), 6); // 10 written, capped at 6: the oldest minutes went
    assert.deepEqual(history.range("a", 0, 1e9).map((s) => s.t), [120_000, 180_000, 240_000]);
    history.write(new Map([["a", point(20 * 60_000)]]), 20 * 60_000);
    assert.deepEqual(history.range("a", 0, 1e12).map((s) => s.t), [1_200_000]); // older than 10 minutes: gone
    store.close();
  });
});

describe("SampleRing", () => {
  const sample = (t: number): Sample => ({ t, cpu: t / 1000, mem: t, memPeak: null, memLimit: null, oomKills: 0, ioRead: null, ioWrite: null, netRx: null, netTx: null, pids: 1 });

  it("grows from a small room to its capacity, then keeps the newest samples in order", () => {
    const ring = new SampleRing(100);
    for (let i = 1; i <= 250; i++) ring.push(sample(i * 1000));
    assert.equal(ring.size, 100);
    const all = ring.range(0, Number.POSITIVE_INFINITY);
    assert.deepEqual(all.map((s) => s.t), Array.from({ length: 100 }, (_, k) => (151 + k) * 1000));
    assert.equal(all[0]!.mem, 151_000);
    assert.equal(ring.lastTime(), 250_000);
  });

  it("answers a range while it has grown but not wrapped", () => {
    const ring = new SampleRing(300);
    for (let i = 1; i <= 40; i++) ring.push(sample(i * 1000));
    assert.deepEqual(ring.range(35_000, 38_000).map((s) => s.t), [35_000, 36_000, 37_000]);
    assert.equal(ring.size, 40);
  });
});
