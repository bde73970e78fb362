// lxc.net.N.*: one network of the container, as LXC reads it. corral builds veth, empty and
// none; LXC's other types are reported as unsupported (the container is then refused at start).
import type { NetType } from "./config.ts";
import { isIPv4, isIPv6 } from "./ip.ts";
import { ConfigError, type NetDraft, type ParseContext, type Where } from "./lxc-config-context.ts";
import { ignored, unsigned } from "./lxc-config-values.ts";


const IFNAMSIZ = 16;

function interfaceName(value: string, where: Where): string {
  if (value.length >= IFNAMSIZ || !/^[^\s\/:]+$/.test(value) || value === "." || value === "..") {
    throw new ConfigError(where, `${JSON.stringify(value)} is not a valid interface name (at most 15 characters, no blanks, "/" or ":")`);
  }
  return value;
}

function ipv6Address(value: string, where: Where): string {
  const [address = "", prefix, ...more] = value.trim().split("/");
  const prefixOk = prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= 128);
  if (!isIPv6(address) || !prefixOk || more.length > 0) throw new ConfigError(where, `${JSON.stringify(value)} is not an IPv6 address like 2001:db8::5/64`);
  return value.trim();
}

function ipv4Address(value: string, where: Where): string {
  const [address = "", broadcast, ...rest] = value.split(/\s+/);
  const [ip = "", prefix, ...more] = address.split("/");
  const prefixOk = prefix === undefined || (/^\d{1,2}$/.test(prefix) && Number(prefix) <= 32);
  if (!isIPv4(ip) || !prefixOk || more.length > 0 || rest.length > 0 || (broadcast !== undefined && !isIPv4(broadcast))) {
    throw new ConfigError(where, `${JSON.stringify(value)} is not an IPv4 address like 10.0.3.5/24`);
  }
  return value;
}

const NET_TYPES: readonly NetType[] = ["veth", "empty", "none"];
const LXC_ONLY_NET_TYPES = ["macvlan", "ipvlan", "phys", "vlan"];

type NetHandler = (net: NetDraft, value: string, where: Where) => void;

const NET_KEYS: Readonly<Record<string, NetHandler>> = {
  link: (net, v, w) => (v === "" ? delete net.link : (net.link = interfaceName(v, w))),
  name: (net, v, w) => (v === "" ? delete net.name : (net.name = interfaceName(v, w))),
  "veth.pair": (net, v, w) => (v === "" ? delete net.vethPair : (net.vethPair = interfaceName(v, w))),
  hwaddr: (net, v, w) => {
    if (v === "") { delete net.hwaddr; return; }
    if (!/^([0-9a-fA-Fx]{2}:){5}[0-9a-fA-Fx]{2}$/.test(v)) throw new ConfigError(w, `${JSON.stringify(v)} is not a MAC address like 00:16:3e:xx:xx:xx`);
    // the kernel gives a veth no multicast or all-zero address (is_valid_ether_addr); an "x" in
    // the first byte's low digit is filled even (completeHwaddr), so it never makes one
    if (/^.[13579bdf]/i.test(v)) throw new ConfigError(w, `${JSON.stringify(v)} is a multicast MAC address (the first byte is odd); an interface cannot have one`);
    if (/^(00:){5}00$/.test(v)) throw new ConfigError(w, `${JSON.stringify(v)} is the all-zero MAC address; an interface cannot have it`);
    net.hwaddr = v;
  },
  "ipv4.address": (net, v, w) => (v === "" ? (net.ipv4Addresses = []) : net.ipv4Addresses.push(ipv4Address(v, w))),
  "ipv4.gateway": (net, v, w) => {
    if (v === "") { delete net.ipv4Gateway; return; }
    if (v !== "auto" && v !== "dev" && !isIPv4(v)) throw new ConfigError(w, `${JSON.stringify(v)} is not an IPv4 address, "auto" or "dev"`);
    net.ipv4Gateway = v;
  },
  "ipv6.address": (net, v, w) => (v === "" ? (net.ipv6Addresses = []) : net.ipv6Addresses.push(ipv6Address(v, w))),
  "ipv6.gateway": (net, v, w) => {
    if (v === "") { delete net.ipv6Gateway; return; }
    if (v !== "auto" && v !== "dev" && !isIPv6(v)) throw new ConfigError(w, `${JSON.stringify(v)} is not an IPv6 address, "auto" or "dev"`);
    net.ipv6Gateway = v;
  },
  flags: (net, v, w) => {
    if (v === "") { delete net.flags; return; }
    if (v !== "up") throw new ConfigError(w, `unknown flag ${JSON.stringify(v)} (only "up" exists)`);
    net.flags = "up";
  },
  mtu: (net, v, w) => {
    if (v === "") { delete net.mtu; return; }
    const mtu = unsigned(v, w);
    // a veth takes 68 (IPv4's minimum) to 65535 (ETH_MAX_MTU)
    if (mtu < 68 || mtu > 65535) throw new ConfigError(w, `${JSON.stringify(v)} is not an MTU from 68 to 65535`);
    net.mtu = mtu;
  },
};

const NET_KEYS_IGNORED = new Set(["script.up", "script.down"]);
const NET_KEYS_UNSUPPORTED = new Set([
  "l2proxy", "veth.mode", "veth.ipv4.route", "veth.ipv6.route",
  "veth.vlan.id", "veth.vlan.tagged.id", "veth.n_rxqueues", "veth.n_txqueues", "macvlan.mode",
  "vlan.id", "ipvlan.mode", "ipvlan.isolation",
]);

function setNetType(ctx: ParseContext, index: number, value: string, where: Where): void {
  ctx.forget(where.key);
  if ((NET_TYPES as readonly string[]).includes(value)) {
    ctx.skippedNets.delete(index);
    ctx.net(index, where).type = value as NetType;
  } else if (LXC_ONLY_NET_TYPES.includes(value)) {
    ctx.nets.delete(index);
    ctx.skippedNets.add(index);
    ctx.refuse(where, `not supported: network type "${value}"; corral builds veth, empty and none`);
  } else {
    throw new ConfigError(where, `unknown network type ${JSON.stringify(value)}`);
  }
}

export function applyNetKey(ctx: ParseContext, index: number, sub: string | undefined, value: string, where: Where): void {
  if (sub === undefined) {
    if (value !== "") throw new ConfigError(where, "takes no value (it only resets this network)");
    ctx.nets.delete(index);
    ctx.skippedNets.delete(index);
    // What earlier lines said about this network's keys goes with it.
    ctx.forgetPrefix(`lxc.net.${index}.`);
    return;
  }
  if (sub === "type") { setNetType(ctx, index, value, where); return; }
  const handler = NET_KEYS[sub];
  if (handler) {
    if (!ctx.skippedNets.has(index)) handler(ctx.net(index, where), value, where);
  } else if (NET_KEYS_IGNORED.has(sub)) {
    ignored("network scripts are not run by corral")(ctx, value, where);
  } else if (NET_KEYS_UNSUPPORTED.has(sub)) {
    ctx.forget(where.key);
    if (value !== "" && !(sub === "l2proxy" && value === "0")) ctx.refuse(where, `not supported: lxc.net.*.${sub}`);
  } else {
    throw new ConfigError(where, "unknown network key");
  }
}
