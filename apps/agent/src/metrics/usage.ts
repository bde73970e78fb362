// What a running container uses now, for GET /metrics: its counters read through the sampler's
// read plan (read-plan.ts: cgroup v2 or v1, wherever its controllers are, and its veths), plus
// the resident memory of its processes, which any host has (a container in no memory cgroup,
// as on a hybrid host where corral joins a v1 hierarchy only for a key that needs it, has only
// that).
import type { Counters } from "@corral/core";
import { expected } from "../errors.ts";
import type { HostFiles } from "../host/host.ts";
import type { ContainerCgroup } from "../runtime/cgroups.ts";
import { readCounters, readPlan } from "./read-plan.ts";

export interface Usage extends Omit<Counters, "t"> {
  /** the resident memory of the container's processes, summed */
  rssBytes: number;
  /** its processes (cgroup.procs) */
  procs: number;
}

export function readUsage(files: HostFiles, cg: ContainerCgroup, veths: readonly string[]): Usage {
  const counters: Partial<Counters> = readCounters(files, readPlan(cg, veths), Date.now());
  delete counters.t;
  const pids = cg.pids();
  let rssBytes = 0;
  for (const pid of pids) {
    try {
      const kb = /^VmRSS:\s+(\d+) kB$/m.exec(files.readText(`/proc/${pid}/status`))?.[1];
      if (kb) rssBytes += Number(kb) * 1024;
    } catch (e) {
      expected(e, ["ENOENT", "ESRCH"], `reading the memory of ${pid} in ${cg.name}`); // it ended meanwhile
    }
  }
  return { ...counters, rssBytes, procs: pids.length };
}
