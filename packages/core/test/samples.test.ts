// The cgroup files a sample is read from, and the samples made of them.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  downsample, mergeSamples, parseBlkioServiceBytes, parseCounter, parseCpuacctUsageUsec, parseCpuStatUsec, parseIoStat,
  parseMemoryLimitV1, parseMemoryMax, parseOomKills, sumSamples, toSample, type Sample,
} from "../src/index.ts";

test("cpu: v2's cpu.stat usage_usec, v1's cpuacct.usage in ns", () => {
  assert.equal(parseCpuStatUsec("usage_usec 123456\nuser_usec 100000\nsystem_usec 23456\nnr_periods 0\n"), 123456);
  assert.equal(parseCpuStatUsec("user_usec 1\n"), undefined);
  assert.equal(parseCpuacctUsageUsec("2500000\n"), 2500);
  assert.equal(parseCpuacctUsageUsec("garbage"), undefined);
});

test("memory: a counter, a limit or none, in both versions", () => {
  assert.equal(parseCounter("4096\n"), 4096);
  assert.equal(parseCounter("-1\n"), undefined);
  assert.equal(parseMemoryMax("max\n"), null);
  assert.equal(parseMemoryMax("67108864\n"), 67108864);
  assert.equal(parseMemoryLimitV1("9223372036854771712\n"), null);
  assert.equal(parseMemoryLimitV1("33554432\n"), 33554432);
});

test("OOM kills: memory.events (v2) and memory.oom_control (v1)", () => {
  assert.equal(parseOomKills("low 0\nhigh 0\nmax 12\noom 2\noom_kill 1\noom_group_kill 0\n"), 1);
  assert.equal(parseOomKills("oom_kill_disable 0\nunder_oom 0\noom_kill 3\n"), 3);
  assert.equal(parseOomKills("oom_kill_disable 0\nunder_oom 0\n"), undefined); // a kernel before 4.13
});

test("I/O: io.stat and blkio's service bytes, summed over devices", () => {
  assert.deepEqual(parseIoStat("8:0 rbytes=1000 wbytes=200 rios=3 wios=1 dbytes=0 dios=0\n8:16 rbytes=24 wbytes=0 rios=1 wios=0\n"), { read: 1024, write: 200 });
  assert.deepEqual(parseIoStat(""), { read: 0, write: 0 });
  assert.deepEqual(parseBlkioServiceBytes("8:0 Read 4096\n8:0 Write 512\n8:0 Sync 0\n8:0 Total 4608\n8:16 Read 4\nTotal 4612\n"), { read: 4100, write: 512 });
});

test("toSample: rates between two readings; none from a first reading or a counter that went back", () => {
  const first = toSample(undefined, { t: 0, cpuUsec: 1_000_000, memBytes: 10, memLimit: null, ioRead: 0, netRx: 100, pids: 3 });
  assert.equal(first.cpu, null);
  assert.equal(first.netRx, null);
  assert.equal(first.mem, 10);
  assert.equal(first.memLimit, null);
  assert.equal(first.pids, 3);
  const next = toSample({ t: 0, cpuUsec: 1_000_000, ioRead: 0, netRx: 100 }, { t: 2000, cpuUsec: 2_000_000, ioRead: 4096, netRx: 50 });
  assert.equal(next.cpu, 50); // 1 s of CPU in 2 s: half a core
  assert.equal(next.ioRead, 2048);
  assert.equal(next.netRx, null); // went back: a new veth, not a negative rate
  assert.equal(next.mem, null); // not measured: no memory cgroup
});

const point = (t: number, cpu: number | null, mem: number | null, oomKills: number | null = null): Sample =>
  ({ t, cpu, mem, memPeak: null, memLimit: 100, oomKills, ioRead: null, ioWrite: null, netRx: null, netTx: null, pids: null });

test("mergeSamples: rates averaged, levels at their highest, counts at their last; nulls ignored", () => {
  const m = mergeSamples([point(0, 10, 5, 0), point(2000, null, 9, 1), point(4000, 30, 7, 1)], 0);
  assert.equal(m.cpu, 20);
  assert.equal(m.mem, 9);
  assert.equal(m.oomKills, 1);
  assert.equal(m.memLimit, 100);
  assert.equal(m.ioRead, null);
});

test("downsample: one point a bucket, stamped with the bucket's start", () => {
  const series = [point(60_000, 10, 1), point(62_000, 20, 2), point(119_000, 30, 3), point(120_000, 40, 4), point(300_000, 50, 5)];
  const out = downsample(series, 60_000);
  assert.deepEqual(out.map((s) => [s.t, s.cpu, s.mem]), [[60_000, 20, 3], [120_000, 40, 4], [300_000, 50, 5]]);
  assert.deepEqual(downsample([], 60_000), []);
});

test("sumSamples: the host's point is the sum over containers that have each field", () => {
  const host = sumSamples([point(0, 10, 100), point(0, 5.5, null), point(0, null, 50)], 0);
  assert.equal(host.cpu, 15.5);
  assert.equal(host.mem, 150);
  assert.equal(host.ioRead, null);
  assert.equal(host.running, 3);
});
