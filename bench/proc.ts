// What the bench reads of a process and of the host: an agent's RSS and CPU time, and what a
// section left behind (cgroups, processes).
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Math.round((Number(m?.[1]) / 1024) * 10) / 10;
}

export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export function leftovers(prefix: string): { cgroups: number; processes: number } {
  let cgroups = 0;
  for (const m of readdirSync("/sys/fs/cgroup")) {
    const base = join("/sys/fs/cgroup", m);
    try {
      cgroups += readdirSync(base).filter((d) => d.startsWith(`corral-${prefix}`)).length;
    } catch {
      // not a directory
    }
  }
  const processes = Number(execFileSync("sh", ["-c", "ps -eo args | grep -c '^sleep 3600$' || true"], { encoding: "utf8" }).trim());
  return { cgroups, processes };
}
