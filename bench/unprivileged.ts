// The unprivileged section: a busybox /bin/true lifecycle of an unprivileged container (lxc.idmap,
// root inside is host uid 100000) through the agent, beside lxc-start -F of the same config, in
// the same run. The config has an empty network (a network namespace with lo only): LXC cannot
// mount sysfs for a user namespace that shares the host's network, so the same config for both
// needs one. corral runs it twice: on the rootfs chowned by the map (`create --unprivileged`, the
// one LXC runs too) and on a rootfs owned by host root, idmapped at each start.
import { appendFileSync, chmodSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { createContainer } from "../apps/agent/src/containers/create.ts";
import { LxcPath } from "../apps/agent/src/containers/lxcpath.ts";
import type { Watcher } from "./agent.ts";
import { have, runCommand, type Skipped } from "./peers.ts";
import type { Stat } from "./stats.ts";

const MAP = ["lxc.idmap = u 0 100000 65536", "lxc.idmap = g 0 100000 65536"];
const EMPTY_NET = "lxc.net.0.type = empty";

export interface UnprivilegedContext {
  work: string;
  /** the agent's lxcpath */
  lxcpath: string;
  watcher: Watcher;
  mutate: (path: string, input: unknown) => Promise<unknown>;
  measure: (run: (i: number) => Promise<void>) => Promise<Stat>;
  say: (name: string, s: Stat) => void;
}

export interface UnprivilegedResults {
  lifecycle: Record<string, Stat>;
  ratios: { corral_shifted_over_lxc_start: number | null; corral_idmapped_over_lxc_start: number | null; target: number };
  skipped: Skipped[];
}

/**
 * LXC, as root, writes the maps through newuidmap, which wants root's ranges in /etc/subuid and
 * /etc/subgid (the agent, root, writes /proc/PID/uid_map itself). Added when missing, as the bench
 * installs its peers.
 */
function ensureRootSubids(): void {
  for (const file of ["/etc/subuid", "/etc/subgid"]) {
    const text = (() => {
      try {
        return readFileSync(file, "utf8");
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
        return "";
      }
    })();
    if (/^root:100000:65536$/m.test(text)) continue;
    process.stderr.write(`bench: adding root:100000:65536 to ${file} (lxc-start's newuidmap needs it)\n`);
    appendFileSync(file, `${text && !text.endsWith("\n") ? "\n" : ""}root:100000:65536\n`);
  }
}

async function lifecycleThroughAgent(ctx: UnprivilegedContext, name: string): Promise<Stat> {
  return ctx.measure(async () => {
    const stopped = ctx.watcher.next((e) => e.container === name && e.state === "STOPPED");
    await ctx.mutate("containers.start", { name, command: ["/bin/true"] });
    await stopped;
  });
}

export async function unprivilegedSection(ctx: UnprivilegedContext): Promise<UnprivilegedResults> {
  const agentPath = new LxcPath(ctx.lxcpath);
  createContainer(agentPath, { name: "unpriv-shifted", template: "busybox", unprivileged: true, config: `${EMPTY_NET}\n` });
  createContainer(agentPath, { name: "unpriv-idmapped", template: "busybox", config: `${[...MAP, EMPTY_NET].join("\n")}\n` });
  const lifecycle: Record<string, Stat> = {};
  const skipped: Skipped[] = [];
  lifecycle.corral_agent_shifted = await lifecycleThroughAgent(ctx, "unpriv-shifted");
  ctx.say("unpriv shifted", lifecycle.corral_agent_shifted);
  lifecycle.corral_agent_idmapped = await lifecycleThroughAgent(ctx, "unpriv-idmapped");
  ctx.say("unpriv idmapped", lifecycle.corral_agent_idmapped);

  if (!have("lxc-start")) skipped.push({ peer: "lxc_start_unprivileged", reason: "lxc-start is not installed" });
  else {
    ensureRootSubids();
    // LXC's child walks to the rootfs as the mapped root: every directory on the way must let it.
    const rootfs = join(agentPath.dir("unpriv-shifted"), "rootfs");
    for (const dir of [ctx.work, ctx.lxcpath, agentPath.dir("unpriv-shifted")]) chmodSync(dir, 0o711);
    const lxcpath = join(ctx.work, "lxc-unpriv");
    mkdirSync(join(lxcpath, "peer"), { recursive: true });
    writeFileSync(join(lxcpath, "peer", "config"), [
      `lxc.rootfs.path = dir:${rootfs}`, "lxc.uts.name = peer", "lxc.mount.auto = proc:mixed sys:ro", "lxc.autodev = 1",
      "lxc.cap.drop = sys_module mac_admin mac_override sys_time", EMPTY_NET, "lxc.apparmor.profile = unconfined", ...MAP, "",
    ].join("\n"));
    try {
      lifecycle.lxc_start = await ctx.measure(() => runCommand("lxc-start", ["-P", lxcpath, "-n", "peer", "-F", "--", "/bin/true"]));
      ctx.say("unpriv lxc-start", lifecycle.lxc_start);
    } catch (e) {
      skipped.push({ peer: "lxc_start_unprivileged", reason: (e as Error).message });
      process.stderr.write(`bench: unprivileged lxc-start skipped: ${(e as Error).message}\n`);
    }
  }
  const ratio = (a?: Stat, b?: Stat) => (a && b ? Math.round((a.median_ms / b.median_ms) * 100) / 100 : null);
  return {
    lifecycle,
    ratios: {
      corral_shifted_over_lxc_start: ratio(lifecycle.corral_agent_shifted, lifecycle.lxc_start),
      corral_idmapped_over_lxc_start: ratio(lifecycle.corral_agent_idmapped, lifecycle.lxc_start),
      target: 0.5,
    },
    skipped,
  };
}
