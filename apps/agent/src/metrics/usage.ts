// What a running container uses now, read from its cgroups (and its processes) through the host
// port: CPU seconds (cgroup v2 cpu.stat, which every v2 cgroup has, else v1 cpuacct.usage),
// memory from the cgroup that holds the memory controller (v2 memory.current and memory.max, v1
// memory.usage_in_bytes and memory.limit_in_bytes), the resident memory of its processes (for a
// container in no memory cgroup, as on a hybrid host where corral joins a v1 hierarchy only for a
// key that needs it), pids, and the OOM kills.
import { join } from "node:path";
import { expected } from "../errors.ts";
import type { HostFiles } from "../host/host.ts";
import type { ContainerCgroup } from "../runtime/cgroups.ts";

export interface Usage {
  cpuSeconds?: number;
  /** the memory cgroup's own figure (page cache included), when the container has one */
  memoryBytes?: number;
  /** its limit; undefined when there is none */
  memoryLimitBytes?: number;
  /** the resident memory of the container's processes, summed */
  rssBytes: number;
  /** its processes */
  pids: number;
  oomKills: number;
}

/** v1's "no limit": the largest page-aligned signed 64-bit value, or near it. */
const V1_UNLIMITED = 2 ** 62;

export function readUsage(files: HostFiles, cg: ContainerCgroup): Usage {
  const read = (dir: string, file: string): string | undefined => {
    try {
      return files.readText(join(dir, file));
    } catch (e) {
      expected(e, ["ENOENT", "ENODEV", "ESRCH"], `reading ${file} of ${cg.name}`); // gone meanwhile, or not on this kernel
      return undefined;
    }
  };
  const usage: Usage = { rssBytes: 0, pids: 0, oomKills: 0 };
  const v2 = cg.dirFor();
  const cpuStat = v2 && read(v2.dir, "cpu.stat");
  const usec = cpuStat && /^usage_usec (\d+)$/m.exec(cpuStat)?.[1];
  if (usec) usage.cpuSeconds = Number(usec) / 1e6;
  else {
    const cpuacct = cg.dirFor("cpuacct");
    const ns = cpuacct && read(cpuacct.dir, "cpuacct.usage");
    if (ns) usage.cpuSeconds = Number(ns) / 1e9;
  }
  const memory = cg.dirFor("memory");
  if (memory) {
    const current = read(memory.dir, memory.version === 2 ? "memory.current" : "memory.usage_in_bytes");
    if (current) usage.memoryBytes = Number(current);
    const limit = read(memory.dir, memory.version === 2 ? "memory.max" : "memory.limit_in_bytes")?.trim();
    if (limit && limit !== "max" && Number(limit) < V1_UNLIMITED) usage.memoryLimitBytes = Number(limit);
    try {
      usage.oomKills = cg.oomKills();
    } catch (e) {
      expected(e, ["ENOENT", "ENODEV"], `reading the OOM kills of ${cg.name}`);
    }
  }
  const pids = cg.pids();
  usage.pids = pids.length;
  for (const pid of pids) {
    const status = read("/proc", `${pid}/status`);
    const kb = status && /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
    if (kb) usage.rssBytes += Number(kb) * 1024;
  }
  return usage;
}
