// The soak: many start/stop cycles through the agent's API, and what the agent holds after them
// (RSS, open fds, cgroups, processes). A leak shows as a figure that grows with the cycles; the
// figures are reported, never asserted (`pnpm bench --only soak`).
import { readdirSync, readFileSync } from "node:fs";
import type { StateEvent } from "@corral/core";

export interface SoakResults {
  cycles: number;
  seconds: number;
  failed: number;
  /** at the start, after the first 1,000 cycles (the heap has grown to its working size), at the end, and once the agent has been quiet for a while (src/memory.ts gives a burst's heap back then) */
  rss_mb: { before: number; warm?: number; after: number; quiet?: number };
  fds: { before: number; after: number };
  left_behind: { cgroups: number; processes: number };
}

export interface SoakAgent {
  pid: number;
  mutate(path: string, input: unknown): Promise<unknown>;
  next(match: (e: StateEvent) => boolean): Promise<unknown>;
}

function rssMb(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Math.round(Number(m[1]) / 102.4) / 10 : Number.NaN;
}

const fdCount = (pid: number): number => readdirSync(`/proc/${pid}/fd`).length;

/** cgroup directories of the bench's container, in every hierarchy. */
function cgroupsOf(name: string): number {
  let n = 0;
  for (const h of readdirSync("/sys/fs/cgroup")) {
    try {
      n += readdirSync(`/sys/fs/cgroup/${h}`).filter((d) => d === `corral-${name}` || d.startsWith(`corral-${name}-`)).length;
    } catch {
      // not a hierarchy (a file of the unified root)
    }
  }
  return n;
}

/** Processes whose cgroup names the container (any left alive after its STOPPED). */
function processesOf(name: string): number {
  let n = 0;
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/cgroup`, "utf8").includes(`/corral-${name}`)) n++;
    } catch {
      // it ended while we looked
    }
  }
  return n;
}

/** How long the soak waits, once done, for the agent to give back the heap the cycles grew. */
const QUIET_WAIT_MS = 25_000;

/**
 * `cycles` lifecycles of container `name`: one start in two runs /bin/true to its end, the other
 * a sleeping init stopped with a kill, so both ways a run ends are exercised.
 */
export async function soak(agent: SoakAgent, name: string, cycles: number): Promise<SoakResults> {
  const before = { rss: rssMb(agent.pid), fds: fdCount(agent.pid) };
  const t0 = performance.now();
  let failed = 0;
  let warm: number | undefined;
  for (let i = 0; i < cycles; i++) {
    const stopped = agent.next((e) => e.container === name && e.state === "STOPPED");
    try {
      if (i % 2 === 0) {
        await agent.mutate("containers.start", { name, command: ["/bin/true"] });
      } else {
        await agent.mutate("containers.start", { name, command: ["/bin/sleep", "3600"] });
        await agent.mutate("containers.stop", { name, timeout: 0, kill: true });
      }
      await stopped;
    } catch (e) {
      failed++;
      process.stderr.write(`bench: soak cycle ${i} failed: ${(e as Error).message}\n`);
    }
    if ((i + 1) % 1000 === 0) process.stderr.write(`bench: soak ${i + 1}/${cycles}, agent RSS ${rssMb(agent.pid)} MB\n`);
    if (i + 1 === 1000) warm = rssMb(agent.pid);
  }
  const seconds = Math.round((performance.now() - t0) / 100) / 10;
  // let the agent's last cleanup and garbage collection settle before its figures are read
  await new Promise((r) => setTimeout(r, 2000));
  const after = rssMb(agent.pid);
  // the agent looks at its heap every 10 s and gives it back once quiet
  await new Promise((r) => setTimeout(r, QUIET_WAIT_MS));
  return {
    cycles,
    seconds,
    failed,
    rss_mb: { before: before.rss, warm, after, quiet: rssMb(agent.pid) },
    fds: { before: before.fds, after: fdCount(agent.pid) },
    left_behind: { cgroups: cgroupsOf(name), processes: processesOf(name) },
  };
}
