// veth networking, as start.c does it: the pair is created on the host before clone, the host end
// joins the bridge named by lxc.net.N.link, and once the child's network namespace exists the
// other end is moved in, renamed, addressed and brought up. Runs in the host's namespaces, through
// iproute2 (ip, nsenter): spawned only for containers that have a network.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import type { NetConfig } from "@corral/core";

export class NetworkError extends Error {
  constructor(readonly step: string, message: string) {
    super(`${step}: ${message}`);
    this.name = "NetworkError";
  }
}

function run(step: string, cmd: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { timeout: 10_000 }, (err, stdout, stderr) => {
      if (err) reject(new NetworkError(step, `${cmd} ${args.join(" ")}: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** One veth pair made for a container: host end, and the temporary name of the container end. */
export interface VethPair {
  net: NetConfig;
  hostName: string;
  peerName: string;
  gateway?: string;
}

/** Is a network namespace needed? Any lxc.net entry that is not "none". */
export function needsNetns(nets: readonly NetConfig[]): boolean {
  return nets.some((n) => n.type !== "none");
}

/** The first IPv4 address of a bridge, for ipv4.gateway = auto (start.c looks it up before clone). */
export async function bridgeAddress(link: string): Promise<string> {
  const out = await run("network", "ip", ["-j", "-4", "addr", "show", "dev", link]);
  const info = JSON.parse(out) as Array<{ addr_info?: Array<{ local?: string }> }>;
  const addr = info[0]?.addr_info?.[0]?.local;
  if (!addr) throw new NetworkError("network", `ipv4.gateway = auto, but bridge ${link} has no IPv4 address`);
  return addr;
}

/** Create the veth pairs of a container before clone; undo on failure. */
export async function createVeths(nets: readonly NetConfig[]): Promise<VethPair[]> {
  const made: VethPair[] = [];
  try {
    for (const net of nets.filter((n) => n.type === "veth")) {
      const id = randomBytes(3).toString("hex");
      const pair: VethPair = { net, hostName: net.vethPair ?? `veth${id}`, peerName: `vp${id}` };
      if (net.ipv4Gateway === "auto") {
        if (!net.link) throw new NetworkError("network", `lxc.net.${net.index}.ipv4.gateway = auto needs lxc.net.${net.index}.link`);
        pair.gateway = await bridgeAddress(net.link);
      } else if (net.ipv4Gateway && net.ipv4Gateway !== "dev") {
        pair.gateway = net.ipv4Gateway;
      }
      await run("network", "ip", ["link", "add", pair.hostName, "type", "veth", "peer", "name", pair.peerName]);
      made.push(pair);
      const up = ["link", "set", pair.hostName, ...(net.mtu ? ["mtu", String(net.mtu)] : [])];
      if (net.link) up.push("master", net.link);
      await run("network", "ip", [...up, "up"]);
    }
    return made;
  } catch (e) {
    await deleteVeths(made);
    throw e;
  }
}

/** The `ip -batch` lines that configure the container's side, run inside its network namespace. Pure. */
export function insideCommands(pairs: readonly VethPair[]): string[] {
  const lines = ["link set lo up"];
  for (const p of pairs) {
    const name = p.net.name ?? `eth${p.net.index}`;
    lines.push(`link set ${p.peerName} name ${name}`);
    if (p.net.hwaddr) lines.push(`link set ${name} address ${p.net.hwaddr}`);
    if (p.net.mtu) lines.push(`link set ${name} mtu ${p.net.mtu}`);
    for (const addr of p.net.ipv4Addresses) lines.push(`addr add ${addr.split(/\s+/)[0]} dev ${name}`);
    if (p.net.flags === "up" || p.net.ipv4Addresses.length > 0) lines.push(`link set ${name} up`);
    if (p.gateway) lines.push(`route add default via ${p.gateway} dev ${name}`);
  }
  return lines;
}

/** Move the container ends into the init's network namespace and configure them there. */
export async function configureInside(pid: number, pairs: readonly VethPair[]): Promise<void> {
  for (const p of pairs) await run("network", "ip", ["link", "set", p.peerName, "netns", String(pid)]);
  await run("network", "nsenter", ["-t", String(pid), "-n", "ip", "-batch", "-"], insideCommands(pairs).join("\n") + "\n");
}

/** Delete host ends (which deletes the pair); a pair already gone with its namespace is fine. */
export async function deleteVeths(pairs: readonly VethPair[]): Promise<void> {
  for (const p of pairs) {
    if (!(await deleteLink(p.hostName))) await deleteLink(p.peerName);
  }
}

/** Delete links by name (a restarted agent's leftovers); those already gone are fine. */
export async function deleteLinks(names: readonly string[]): Promise<void> {
  for (const name of names) await deleteLink(name);
}

async function deleteLink(name: string): Promise<boolean> {
  try {
    await run("network", "ip", ["link", "del", name]);
    return true;
  } catch {
    return false; // already gone: the namespace took the pair with it
  }
}
