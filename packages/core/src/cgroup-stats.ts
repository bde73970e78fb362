// The cgroup files a container's samples are read from, parsed. Pure: the agent reads the text
// (apps/agent/src/metrics/sampler.ts), these turn it into numbers. Both cgroup versions:
//   v2  cpu.stat (usage_usec), memory.current, memory.peak, memory.max, memory.events (oom_kill),
//       io.stat (rbytes=, wbytes=), pids.current
//   v1  cpuacct.usage (ns), memory.usage_in_bytes, memory.max_usage_in_bytes, memory.limit_in_bytes,
//       memory.failcnt, memory.oom_control (oom_kill), blkio.throttle.io_service_bytes, pids.current

/** A v1 memory limit at or above this is "no limit" (the kernel writes PAGE_COUNTER_MAX pages, about 2^63). */
const V1_UNLIMITED = 2 ** 62;

/** One number on its own ("123\n"); undefined for anything else. */
export function parseCounter(text: string): number | undefined {
  const t = text.trim();
  if (!/^\d+$/.test(t)) return undefined;
  return Number(t);
}

/** "key value" lines (cpu.stat, memory.events, memory.oom_control) as a map; lines that are not are skipped. */
export function parseFlatKeyed(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    const m = /^(\S+)\s+(\d+)$/.exec(line.trim());
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

/** cpu.stat's usage_usec, in microseconds. */
export function parseCpuStatUsec(text: string): number | undefined {
  return parseFlatKeyed(text).get("usage_usec");
}

/** cpuacct.usage (nanoseconds) in microseconds. */
export function parseCpuacctUsageUsec(text: string): number | undefined {
  const ns = parseCounter(text);
  return ns === undefined ? undefined : ns / 1000;
}

/** memory.max (v2): null for "max" (no limit). */
export function parseMemoryMax(text: string): number | null | undefined {
  if (text.trim() === "max") return null;
  return parseCounter(text);
}

/** memory.limit_in_bytes (v1): null for the kernel's "unlimited". */
export function parseMemoryLimitV1(text: string): number | null | undefined {
  const n = parseCounter(text);
  if (n === undefined) return undefined;
  return n >= V1_UNLIMITED ? null : n;
}

/** memory.events (v2) or memory.oom_control (v1, kernel 4.13 on): the oom_kill count. */
export function parseOomKills(text: string): number | undefined {
  return parseFlatKeyed(text).get("oom_kill");
}

export interface IoBytes {
  read: number;
  write: number;
}

/** io.stat (v2): "MAJ:MIN rbytes=N wbytes=N rios=N ..." per device, summed. */
export function parseIoStat(text: string): IoBytes {
  const io = { read: 0, write: 0 };
  for (const line of text.split("\n")) {
    for (const field of line.trim().split(/\s+/).slice(1)) {
      const [key, value] = field.split("=");
      const n = Number(value);
      if (!Number.isFinite(n)) continue;
      if (key === "rbytes") io.read += n;
      else if (key === "wbytes") io.write += n;
    }
  }
  return io;
}

/** blkio.throttle.io_service_bytes (v1): "MAJ:MIN Read N" / "Write N" per device, summed ("Total" lines skipped). */
export function parseBlkioServiceBytes(text: string): IoBytes {
  const io = { read: 0, write: 0 };
  for (const line of text.split("\n")) {
    const m = /^\d+:\d+\s+(Read|Write)\s+(\d+)$/.exec(line.trim());
    if (!m) continue;
    if (m[1] === "Read") io.read += Number(m[2]);
    else io.write += Number(m[2]);
  }
  return io;
}
