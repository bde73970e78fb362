// The cli section: the corral command as an operator runs it (bin/corral.mjs, what setup links
// onto the PATH) against a running agent, beside LXC's own tools on an LXC container and Node's
// bare start-up (`node -e 0`), all in one run and interleaved, round by round, so that the load
// of the moment weighs on each alike. Both lxcpaths hold the same number of containers, one of
// them running. Issue 13's targets: `corral ls` and `corral info` at most 2 x `node -e 0`,
// `corral start` to RUNNING at most 3 x (reported, not asserted).
import { spawn } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { createContainer } from "../apps/agent/src/containers/create.ts";
import { LxcPath } from "../apps/agent/src/containers/lxcpath.ts";
import { AgentUnderTest, freePort } from "./agent.ts";
import { have, runCommand } from "./peers.ts";
import { stat, type Stat } from "./stats.ts";

const REPO = join(import.meta.dirname, "..");
const CORRAL = join(REPO, "apps/agent/bin/corral.mjs");
/** containers in each lxcpath, as an operator's host might list */
const CONTAINERS = 10;
const WARMUP = 2;
export const CLI_TARGETS = { ls: 2, info: 2, start: 3 } as const;

export interface CliResults {
  rounds: number;
  containers: number;
  node: Stat;
  corral_ls: Stat;
  corral_info: Stat;
  corral_start: Stat;
  lxc_ls?: Stat;
  lxc_info?: Stat;
  /** medians over medians */
  ratios: Record<"ls_over_node" | "info_over_node" | "start_over_node" | "ls_over_lxc_ls" | "info_over_lxc_info", number | null>;
  targets: typeof CLI_TARGETS;
  /** the 1-minute load average before and after the rounds: what else the machine was doing */
  load_average?: { before: number; after: number };
  skipped?: string;
}

/** One command to its end, its wall time in ms; rejects with its stderr if it fails. */
function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { env, stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve(performance.now() - t0) : reject(new Error(`${cmd} ${args.join(" ")}: exit ${code}: ${err.trim().slice(-300)}`))));
  });
}

/** An LXC lxcpath of CONTAINERS busybox containers over `rootfs`, the first one running. */
async function lxcSide(work: string, rootfs: string): Promise<{ lxcpath: string; close(): Promise<void> }> {
  const lxcpath = join(work, "cli-lxc");
  for (let i = 0; i < CONTAINERS; i++) {
    mkdirSync(join(lxcpath, `c${i}`), { recursive: true });
    writeFileSync(join(lxcpath, `c${i}`, "config"), [
      `lxc.rootfs.path = dir:${rootfs}`, `lxc.uts.name = c${i}`, "lxc.mount.auto = proc:mixed sys:ro", "lxc.autodev = 1",
      "lxc.net.0.type = none", "lxc.apparmor.profile = unconfined", "lxc.init.cmd = /bin/sleep 3600", "",
    ].join("\n"));
  }
  await runCommand("lxc-start", ["-P", lxcpath, "-n", "c0", "-d"]);
  await runCommand("lxc-wait", ["-P", lxcpath, "-n", "c0", "-s", "RUNNING", "-t", "10"]);
  return { lxcpath, close: () => runCommand("lxc-stop", ["-P", lxcpath, "-n", "c0", "-k"]).catch(() => undefined) };
}

export async function cliSection(opts: { work: string; rounds: number }): Promise<CliResults> {
  const lxcpath = join(opts.work, "cli-corral");
  mkdirSync(lxcpath, { recursive: true });
  const store = new LxcPath(lxcpath);
  createContainer(store, { name: "c0", template: "busybox" });
  for (let i = 1; i < CONTAINERS; i++) createContainer(store, { name: `c${i}`, template: "host" });
  const agent = new AgentUnderTest(lxcpath, await freePort());
  await agent.start();
  const env = { ...process.env, CORRAL_AGENT: `http://127.0.0.1:${agent.port}`, CORRAL_TOKEN: agent.token, CORRAL_LXCPATH: lxcpath };
  const corral = (...args: string[]) => timed(CORRAL, args, env);
  let lxc: Awaited<ReturnType<typeof lxcSide>> | undefined;
  let skipped: string | undefined;
  try {
    await corral("start", "c0", "--", "sleep", "3600");
    if (have("lxc-ls")) {
      try {
        lxc = await lxcSide(opts.work, join(lxcpath, "c0", "rootfs"));
      } catch (e) {
        skipped = `LXC's side: ${(e as Error).message}`;
      }
    } else {
      skipped = "LXC's tools are not installed";
    }
    const loadBefore = loadavg()[0]!;
    const samples: Record<string, number[]> = { node: [], corral_ls: [], corral_info: [], corral_start: [], lxc_ls: [], lxc_info: [] };
    for (let round = -WARMUP; round < opts.rounds; round++) {
      const took: Record<string, number> = {};
      took.node = await timed(process.execPath, ["-e", "0"], env);
      took.corral_ls = await corral("ls");
      if (lxc) took.lxc_ls = await timed("lxc-ls", ["-P", lxc.lxcpath, "-f"], env);
      took.corral_info = await corral("info", "c0");
      if (lxc) took.lxc_info = await timed("lxc-info", ["-P", lxc.lxcpath, "-n", "c0"], env);
      // the start request to RUNNING (the agent answers once it is), then an untimed abort
      took.corral_start = await corral("start", "c1", "--", "sleep", "3600");
      await corral("abort", "c1");
      if (round >= 0) for (const [k, v] of Object.entries(took)) samples[k]!.push(v);
    }
    const s = (k: string) => (samples[k]!.length ? stat(samples[k]!) : undefined);
    const ratio = (a?: Stat, b?: Stat) => (a && b ? Math.round((a.median_ms / b.median_ms) * 100) / 100 : null);
    const results: CliResults = {
      rounds: opts.rounds,
      containers: CONTAINERS,
      node: s("node")!,
      corral_ls: s("corral_ls")!,
      corral_info: s("corral_info")!,
      corral_start: s("corral_start")!,
      lxc_ls: s("lxc_ls"),
      lxc_info: s("lxc_info"),
      ratios: {
        ls_over_node: ratio(s("corral_ls"), s("node")),
        info_over_node: ratio(s("corral_info"), s("node")),
        start_over_node: ratio(s("corral_start"), s("node")),
        ls_over_lxc_ls: ratio(s("corral_ls"), s("lxc_ls")),
        info_over_lxc_info: ratio(s("corral_info"), s("lxc_info")),
      },
      targets: CLI_TARGETS,
      load_average: { before: Math.round(loadBefore * 100) / 100, after: Math.round(loadavg()[0]! * 100) / 100 },
      ...(skipped ? { skipped } : {}),
    };
    process.stderr.write(`bench: cli ${JSON.stringify(results.ratios)}\n`);
    return results;
  } finally {
    await lxc?.close();
    await agent.stop();
    rmSync(lxcpath, { recursive: true, force: true });
  }
}
