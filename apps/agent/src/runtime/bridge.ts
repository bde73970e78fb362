// The managed bridge, like LXC's lxc-net makes lxcbr0: corralbr0 with a private IPv4 subnet, made
// by the agent through rtnetlink the first time a container needs it, and the addresses corral
// hands out on it. No NAT and no DHCP: the host reaches its containers over the bridge, and each
// container's address is written into its config at create and set before its init runs.
// Runs on the host.
import { isIPv4, parseIPv4 } from "@corral/core";

export const MANAGED_BRIDGE = {
  name: "corralbr0",
  /** the bridge's own address, the containers' gateway */
  address: "10.0.5.1",
  prefixLength: 24,
} as const;

/** "10.0.5.0/24" */
export function managedSubnet(): string {
  return `${networkAddress(MANAGED_BRIDGE.address, MANAGED_BRIDGE.prefixLength)}/${MANAGED_BRIDGE.prefixLength}`;
}

/** "10.0.5.255" */
export function managedBroadcast(): string {
  const { address, prefixLength } = MANAGED_BRIDGE;
  return toText((toNumber(networkAddress(address, prefixLength)) | ~maskOf(prefixLength)) >>> 0);
}

export function isManagedBridge(link: string | undefined): boolean {
  return link === MANAGED_BRIDGE.name;
}

const toNumber = (ip: string) => parseIPv4(ip).readUInt32BE(0);
const toText = (n: number) => [24, 16, 8, 0].map((s) => (n >>> s) & 0xff).join(".");
const maskOf = (prefixLength: number) => (prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0);

function networkAddress(ip: string, prefixLength: number): string {
  return toText((toNumber(ip) & maskOf(prefixLength)) >>> 0);
}

/** Do a.b.c.d/p and e.f.g.h/q share any address? */
export function subnetsOverlap(a: string, b: string): boolean {
  const [ipA = "", pA = "32"] = a.split("/");
  const [ipB = "", pB = "32"] = b.split("/");
  const shorter = Math.min(Number(pA), Number(pB));
  const mask = maskOf(shorter);
  return ((toNumber(ipA) & mask) >>> 0) === ((toNumber(ipB) & mask) >>> 0);
}

/**
 * The host's IPv4 networks (from an rtnetlink address dump, the bridge's own left out by the
 * caller) that overlap the managed subnet: made there, the bridge would steal a real network's
 * traffic. As "a.b.c.d/p on link N".
 */
export function clashingNetworks(addresses: ReadonlyArray<{ index: number; family: string; address: string; prefixLength: number }>): string[] {
  const subnet = managedSubnet();
  return addresses
    .filter((a) => a.family === "IPv4" && !a.address.startsWith("127.") && subnetsOverlap(`${a.address}/${a.prefixLength}`, subnet))
    .map((a) => `${a.address}/${a.prefixLength} on link ${a.index}`);
}

/**
 * The host's IPv4 routes (an rtnetlink route dump, the bridge's own left out by the caller) that
 * overlap the managed subnet: a VPN's 10.0.0.0/8, say, whose traffic for 10.0.5.x the bridge
 * would take. Only the main table's unicast routes to a network (not the default route, which
 * overlaps everything and is less specific than the bridge's). As "a.b.c.d/p on link N".
 */
export function clashingRoutes(routes: ReadonlyArray<{ dst: string; prefixLength: number; table: number; type: number; oif: number }>): string[] {
  const subnet = managedSubnet();
  return routes
    .filter((r) => r.table === 254 && r.type === 1 && r.prefixLength > 0 && subnetsOverlap(`${r.dst}/${r.prefixLength}`, subnet))
    .map((r) => `route ${r.dst}/${r.prefixLength} on link ${r.oif}`);
}

/** The IPv4 addresses (without prefix) in LXC address values ("10.0.5.2/24 10.0.5.255"). */
export function addressesIn(values: readonly string[]): string[] {
  return values.map((v) => v.trim().split(/[\s/]/)[0] ?? "").filter(Boolean);
}

/**
 * The lowest address of the managed subnet that is neither the network, the broadcast, the
 * bridge's own, nor in `used`; as "a.b.c.d/24". Throws when the subnet is full.
 */
export function nextFreeAddress(used: Iterable<string>): string {
  const taken = new Set<number>();
  for (const u of used) {
    // not an IPv4 address: it cannot take one of ours
    if (isIPv4(u)) taken.add(toNumber(u));
  }
  taken.add(toNumber(MANAGED_BRIDGE.address));
  const base = toNumber(networkAddress(MANAGED_BRIDGE.address, MANAGED_BRIDGE.prefixLength));
  const size = 2 ** (32 - MANAGED_BRIDGE.prefixLength);
  for (let host = 1; host < size - 1; host++) {
    if (!taken.has(base + host)) return `${toText(base + host)}/${MANAGED_BRIDGE.prefixLength}`;
  }
  throw new Error(`no free address left on ${MANAGED_BRIDGE.name} (${managedSubnet()})`);
}

/** The IPv4 address values lxc.net.N.ipv4.address lines give, read from config text without parsing it all. */
export function ipv4AddressesInConfigText(text: string): string[] {
  const values: string[] = [];
  for (const line of text.split("\n")) {
    const m = /^\s*lxc\.net\.\d+\.ipv4\.address\s*=\s*(.+?)\s*$/.exec(line);
    if (m?.[1]) values.push(m[1]);
  }
  return addressesIn(values);
}
