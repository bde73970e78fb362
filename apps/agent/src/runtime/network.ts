// veth networking, after start.c and network.c: the bridge and gateway are looked up before clone;
// once the child's network namespace exists, each pair is made with its container end born in
// it, the host end joins the bridge named by lxc.net.N.link, and the container end is addressed
// and brought up. All of it is rtnetlink requests (built in @corral/core) through the syscall
// boundary: no program is spawned. A link named corralbr0 (the managed bridge, bridge.ts) is made
// when missing, as lxc-net makes lxcbr0; any other missing bridge fails the start.
import { randomBytes, randomInt } from "node:crypto";
import { ERRNO, errnoName, rtnetlink, type NetConfig } from "@corral/core";
import type { Syscalls } from "../sys/syscalls.ts";
import { clashingNetworks, clashingRoutes, isManagedBridge, MANAGED_BRIDGE, managedBroadcast, managedSubnet } from "./bridge.ts";
import { unexpected } from "../errors.ts";

/** A network step that failed: what was being done, and the errno rtnetlink gave, if any. */
export class NetworkError extends Error {
  constructor(message: string, readonly errno?: number) {
    super(message);
    this.name = "NetworkError";
  }
}

/**
 * One veth pair of a container: the host end, the name the container end is born with in the
 * container's namespace, and what was looked up for it before clone.
 */
export interface VethPair {
  net: NetConfig;
  hostName: string;
  peerName: string;
  gateway?: string;
  gateway6?: string;
  /** lxc.net.N.hwaddr with its "x" placeholders filled in */
  hwaddr?: string;
  /** the index of the bridge named by lxc.net.N.link */
  master?: number;
}

/** Is a network namespace needed? Any lxc.net entry that is not "none". */
export function needsNetns(nets: readonly NetConfig[]): boolean {
  return nets.some((n) => n.type !== "none");
}

/** Only loopback to raise: an "empty" network with flags = up and no veth (LXC raises lo then). */
export function wantsLoopbackOnly(nets: readonly NetConfig[]): boolean {
  return !nets.some((n) => n.type === "veth") && nets.some((n) => n.type === "empty" && n.flags === "up");
}

/** Raise lo in the network namespace of `pid`. */
export function raiseLoopback(sys: Syscalls, pid: number): void {
  withRtnl(sys, pid, raiseLo);
}

function raiseLo(nl: Rtnl): void {
  nl.request(rtnetlink.setLink({ name: "lo" }, { up: true }), "raising lo");
}

/** An rtnetlink socket in the host's network namespace (pid 0) or in a process's. */
class Rtnl {
  private readonly sock: number;

  constructor(private readonly sys: Syscalls, pid = 0) {
    this.sock = sys.netlinkSocket(pid);
  }

  /** The errno a request gets; 0 when it is done. */
  errnoOf(request: Buffer): number {
    const errno = rtnetlink.replyErrno(this.sys.netlinkCall(this.sock, request));
    if (errno === undefined) throw new NetworkError("rtnetlink answered a change with something other than an ack");
    return errno;
  }

  /** Make a change, or throw naming `what` and the errno. */
  request(request: Buffer, what: string): void {
    const errno = this.errnoOf(request);
    if (errno !== 0) throw failed(what, errno);
  }

  linkIndex(name: string, what = `looking up link ${name}`): number {
    const index = this.findLink(name, what);
    if (index === undefined) throw failed(what, ERRNO.ENODEV);
    return index;
  }

  /** The link's index, or undefined when there is no link of that name. */
  findLink(name: string, what = `looking up link ${name}`): number | undefined {
    const reply = this.sys.netlinkCall(this.sock, rtnetlink.getLink(name));
    const errno = rtnetlink.replyErrno(reply);
    if (errno === ERRNO.ENODEV) return undefined;
    if (errno !== undefined) throw failed(what, errno);
    return rtnetlink.linkIndexOf(reply);
  }

  /** Every address of the family on the host (or the namespace), with the link it is on. */
  addresses(family: "IPv4" | "IPv6", what: string): rtnetlink.LinkAddress[] {
    try {
      return rtnetlink.parseAddresses(this.sys.netlinkCall(this.sock, rtnetlink.getAddresses(family)));
    } catch (e) {
      const errno = (e as { errno?: number }).errno;
      throw errno === undefined ? e : failed(what, errno);
    }
  }

  /** Every IPv4 route of the host (or the namespace), of every table. */
  routes(what: string): rtnetlink.Route[] {
    try {
      return rtnetlink.parseRoutes(this.sys.netlinkCall(this.sock, rtnetlink.getRoutes()));
    } catch (e) {
      const errno = (e as { errno?: number }).errno;
      throw errno === undefined ? e : failed(what, errno);
    }
  }

  close(): void {
    this.sys.close(this.sock);
  }
}

function failed(what: string, errno: number): NetworkError {
  return new NetworkError(`${what}: ${errnoName(errno)} (${errno})`, errno);
}

function withRtnl<T>(sys: Syscalls, pid: number, work: (nl: Rtnl) => T): T {
  const nl = new Rtnl(sys, pid);
  try {
    return work(nl);
  } finally {
    nl.close();
  }
}

/**
 * The bridge's address for a gateway of `auto` (start.c looks it up before clone): its first IPv4
 * address, or its first IPv6 address that is not link-local. Asked of rtnetlink: a bridge with no
 * port has no carrier, and Node's networkInterfaces() leaves such a link out.
 */
function bridgeAddress(nl: Rtnl, link: string, family: "IPv4" | "IPv6", key: string): string {
  const index = nl.linkIndex(link, `finding bridge ${link} (${key} = auto)`);
  const addr = nl.addresses(family, `reading the addresses of ${link}`).find((a) => a.index === index && !(family === "IPv6" && a.scope !== 0));
  if (!addr) throw new NetworkError(`${key} = auto, but bridge ${link} has no ${family === "IPv6" ? "global IPv6" : "IPv4"} address`);
  return addr.address;
}

function gatewayOf(nl: Rtnl, net: NetConfig, family: "IPv4" | "IPv6"): string | undefined {
  const gateway = family === "IPv4" ? net.ipv4Gateway : net.ipv6Gateway;
  if (gateway === "auto") {
    const key = `lxc.net.${net.index}.ipv${family === "IPv4" ? 4 : 6}.gateway`;
    if (!net.link) throw new NetworkError(`${key} = auto needs lxc.net.${net.index}.link`);
    return bridgeAddress(nl, net.link, family, key);
  }
  return gateway && gateway !== "dev" ? gateway : undefined;
}

/**
 * The managed bridge, made when missing (lxc-net's start): the bridge link, its address, up. Two
 * starts racing to make it both succeed (EEXIST is fine). A bridge that exists but lacks its
 * address (made by hand, or the address removed) gets it back; one already addressed is left
 * alone. It is never made over a host network it would overlap.
 */
export function ensureManagedBridge(sys: Syscalls): void {
  withRtnl(sys, 0, ensureBridgeOn);
}

function ensureBridgeOn(nl: Rtnl): void {
  const { name, address, prefixLength } = MANAGED_BRIDGE;
  const what = `looking up the managed bridge ${name}`;
  let index = nl.findLink(name, what);
  const v4 = nl.addresses("IPv4", `reading the host's addresses for ${name}`);
  if (index !== undefined && v4.some((a) => a.index === index && a.address === address)) return;
  const routes = nl.routes(`reading the host's routes for ${name}`);
  const clashes = [...new Set([...clashingNetworks(v4.filter((a) => a.index !== index)), ...clashingRoutes(routes.filter((r) => r.oif !== index))])];
  if (clashes.length > 0) throw new NetworkError(`not making ${name} with ${managedSubnet()}: it overlaps the host's ${clashes.join(", ")}`);
  if (index === undefined) {
    const errno = nl.errnoOf(rtnetlink.newBridge(name));
    if (errno !== 0 && errno !== ERRNO.EEXIST) throw failed(`making the managed bridge ${name}`, errno);
    index = nl.linkIndex(name, what);
  }
  const errno = nl.errnoOf(rtnetlink.addIPv4Address(index, `${address}/${prefixLength} ${managedBroadcast()}`));
  if (errno !== 0 && errno !== ERRNO.EEXIST) throw failed(`adding ${address}/${prefixLength} to ${name}`, errno);
  nl.request(rtnetlink.setLink({ index }, { up: true }), `raising ${name}`);
}

/**
 * Before clone, as start.c does: each veth's names, its gateway (`auto`: the bridge's address) and
 * its bridge looked up, so that a wrong link fails the start before anything is made. The managed
 * bridge is made first when a veth names it and it is missing.
 */
export function planVeths(sys: Syscalls, nets: readonly NetConfig[]): VethPair[] {
  const veths = nets.filter((n) => n.type === "veth");
  if (veths.length === 0) return [];
  return withRtnl(sys, 0, (nl) => {
    if (veths.some((n) => isManagedBridge(n.link))) ensureBridgeOn(nl);
    return veths.map((net) => {
      const pair: VethPair = {
        net,
        hostName: net.vethPair ?? `veth${randomBytes(3).toString("hex")}`,
        peerName: net.name ?? `eth${net.index}`,
        gateway: gatewayOf(nl, net, "IPv4"),
        gateway6: gatewayOf(nl, net, "IPv6"),
      };
      if (net.hwaddr) pair.hwaddr = rtnetlink.completeHwaddr(net.hwaddr, () => randomInt(16));
      if (net.link) pair.master = nl.linkIndex(net.link, `finding bridge ${net.link} (lxc.net.${net.index}.link)`);
      return pair;
    });
  });
}

/**
 * At CONFIGURE, once the init's network namespace exists: each pair is created with its container
 * end born in that namespace, already named, with its hwaddr and mtu (LXC creates it on the host
 * and moves it, but a move waits for an RCU grace period: 15 to 40 ms here). The host end goes up
 * on its bridge; inside, lo and the container end go up with their addresses and default route.
 * On failure the pairs made are deleted.
 */
export function createVeths(sys: Syscalls, pid: number, pairs: readonly VethPair[]): void {
  const made: VethPair[] = [];
  try {
    withRtnl(sys, 0, (nl) => {
      for (const p of pairs) {
        const peer = { name: p.peerName, mtu: p.net.mtu, hwaddr: p.hwaddr, netnsPid: pid };
        nl.request(rtnetlink.newVethPair(p.hostName, peer), `creating the veth pair ${p.hostName}`);
        made.push(p);
        nl.request(rtnetlink.setLink({ name: p.hostName }, { up: true, master: p.master }), `raising ${p.hostName}${p.net.link ? ` on ${p.net.link}` : ""}`);
      }
    });
    withRtnl(sys, pid, (nl) => {
      raiseLo(nl);
      for (const p of pairs) configureInside(nl, p);
    });
  } catch (e) {
    deleteVeths(sys, made);
    throw e;
  }
}

/** The container end, on a socket in the container's namespace: addresses, up, default routes. */
function configureInside(nl: Rtnl, p: VethPair): void {
  const name = p.peerName;
  const index = nl.linkIndex(name);
  for (const addr of p.net.ipv4Addresses) nl.request(rtnetlink.addIPv4Address(index, addr), `adding ${addr} to ${name}`);
  for (const addr of p.net.ipv6Addresses) nl.request(rtnetlink.addIPv6Address(index, addr), `adding ${addr} to ${name}`);
  const addressed = p.net.ipv4Addresses.length + p.net.ipv6Addresses.length > 0;
  if (p.net.flags === "up" || addressed) nl.request(rtnetlink.setLink({ index }, { up: true }), `raising ${name}`);
  for (const via of [p.gateway, p.gateway6]) {
    if (via) nl.request(rtnetlink.addDefaultRoute(index, via), `adding the default route via ${via}`);
  }
}

/**
 * Delete the host ends, which deletes each pair (one already gone with its namespace is fine).
 * Never the container end's name: that name lives in the container, and the host may have a link
 * of that name too. Never throws: it runs while undoing and stopping. False if some link could not
 * be removed.
 */
export function deleteVeths(sys: Syscalls, pairs: readonly VethPair[]): boolean {
  return deleteLinks(sys, pairs.map((p) => p.hostName));
}

/** Delete links of the host by name (a restarted agent's leftovers); those already gone are fine. */
export function deleteLinks(sys: Syscalls, names: readonly string[]): boolean {
  if (names.length === 0) return true;
  try {
    return withRtnl(sys, 0, (nl) => names.map((name) => [0, ERRNO.ENODEV].includes(nl.errnoOf(rtnetlink.deleteLink(name)))).every(Boolean));
  } catch (e) {
    unexpected(`deleting links ${names.join(", ")}`, e);
    return false;
  }
}
