// Which files a container's sample is read from, decided once per run from the hierarchies its
// cgroup joined (a pure function), and the reading of them through the host's files. Runs in the
// host's namespaces: every path is on the host.
//
//   measure   cgroup v2 (the container's v2 directory)    cgroup v1 (where its controller is)
//   cpu       cpu.stat usage_usec (always there in v2)    cpuacct.usage
//   memory    memory.current, .peak, .max, .events        memory.usage_in_bytes, .max_usage_in_bytes,
//                                                         .limit_in_bytes, .failcnt, .oom_control
//   io        io.stat                                     blkio.throttle.io_service_bytes
//   pids      pids.current                                pids.current
//   network   /sys/class/net/<host veth>/statistics/{rx,tx}_bytes (the container's tx is the host end's rx)
//
// On a hybrid host a container is in v2 and only in the v1 hierarchies its config's keys need
// (runtime/cgroups.ts), so a container without a memory key has no memory figures there.
import { join } from "node:path";
import {
  parseBlkioServiceBytes, parseCounter, parseCpuacctUsageUsec, parseCpuStatUsec, parseIoStat, parseMemoryLimitV1,
  parseMemoryMax, parseOomKills, type Counters, type IoBytes,
} from "@corral/core";
import type { HostFiles } from "../host/host.ts";
import { expected } from "../errors.ts";

/** What a plan needs of a ContainerCgroup: the directory holding a controller (none: the v2 one). */
export interface CgroupDirs {
  dirFor(controller?: string): { dir: string; version: 1 | 2 } | undefined;
}

type Reader<T> = (text: string) => T | undefined;
interface FileRead<K extends keyof Counters> {
  path: string;
  field: K;
  parse: Reader<Counters[K]>;
}

export interface ReadPlan {
  files: Array<FileRead<keyof Counters>>;
  io?: { path: string; parse: (text: string) => IoBytes };
  /** host ends of the veths: rx is what the container sent */
  veths: Array<{ rx: string; tx: string }>;
}

function file<K extends keyof Counters>(dir: string, name: string, field: K, parse: Reader<Counters[K]>): FileRead<keyof Counters> {
  return { path: join(dir, name), field, parse };
}

/** The files to read for a container whose cgroup is `cgroup` and whose veths' host ends are `veths`. Pure. */
export function readPlan(cgroup: CgroupDirs, veths: readonly string[]): ReadPlan {
  const files: ReadPlan["files"] = [];
  const v2 = cgroup.dirFor();
  const cpuacct = cgroup.dirFor("cpuacct");
  if (v2) files.push(file(v2.dir, "cpu.stat", "cpuUsec", parseCpuStatUsec));
  else if (cpuacct) files.push(file(cpuacct.dir, "cpuacct.usage", "cpuUsec", parseCpuacctUsageUsec));

  const mem = cgroup.dirFor("memory");
  if (mem?.version === 2) {
    files.push(file(mem.dir, "memory.current", "memBytes", parseCounter), file(mem.dir, "memory.peak", "memPeak", parseCounter),
      file(mem.dir, "memory.max", "memLimit", parseMemoryMax), file(mem.dir, "memory.events", "oomKills", parseOomKills));
  } else if (mem) {
    files.push(file(mem.dir, "memory.usage_in_bytes", "memBytes", parseCounter), file(mem.dir, "memory.max_usage_in_bytes", "memPeak", parseCounter),
      file(mem.dir, "memory.limit_in_bytes", "memLimit", parseMemoryLimitV1), file(mem.dir, "memory.failcnt", "memFailcnt", parseCounter),
      file(mem.dir, "memory.oom_control", "oomKills", parseOomKills));
  }

  const pids = cgroup.dirFor("pids");
  if (pids) files.push(file(pids.dir, "pids.current", "pids", parseCounter));

  const io = cgroup.dirFor("io");
  const blkio = cgroup.dirFor("blkio");
  const ioRead = io?.version === 2 ? { path: join(io.dir, "io.stat"), parse: parseIoStat }
    : blkio ? { path: join(blkio.dir, "blkio.throttle.io_service_bytes"), parse: parseBlkioServiceBytes } : undefined;

  const net = veths.map((v) => ({ rx: `/sys/class/net/${v}/statistics/rx_bytes`, tx: `/sys/class/net/${v}/statistics/tx_bytes` }));
  return { files, io: ioRead, veths: net };
}

/** Errors that mean the cgroup or the veth went meanwhile (the container stopped), or a file this kernel lacks. */
const GONE = ["ENOENT", "ENODEV", "ESRCH", "EINVAL"];

/**
 * Read one container's counters. A file that is not there is left out of this reading, and out of
 * the plan for the next ones when it is a file this kernel lacks (memory.peak before Linux 5.19,
 * oom_kill in oom_control before 4.13): nothing is read twice in vain.
 */
export function readCounters(files: HostFiles, plan: ReadPlan, t: number): Counters {
  const c: Counters = { t };
  const read = (path: string): string | undefined => {
    try {
      return files.readSmall(path);
    } catch (e) {
      expected(e, GONE, `reading ${path} for a sample`);
      return undefined;
    }
  };
  for (const [i, f] of [...plan.files].entries()) {
    const text = read(f.path);
    const value = text === undefined ? undefined : f.parse(text);
    if (value === undefined) {
      // the cgroup itself going shows as its first file missing: keep the plan for that case
      if (text !== undefined || (i > 0 && read(plan.files[0]!.path) !== undefined)) plan.files = plan.files.filter((x) => x !== f);
      continue;
    }
    (c as unknown as Record<string, unknown>)[f.field] = value;
  }
  if (plan.io) {
    const text = read(plan.io.path);
    if (text !== undefined) {
      const io = plan.io.parse(text);
      c.ioRead = io.read;
      c.ioWrite = io.write;
    }
  }
  for (const v of plan.veths) {
    const sent = read(v.rx);
    const received = read(v.tx);
    if (sent === undefined || received === undefined) continue;
    c.netTx = (c.netTx ?? 0) + (parseCounter(sent) ?? 0);
    c.netRx = (c.netRx ?? 0) + (parseCounter(received) ?? 0);
  }
  return c;
}
