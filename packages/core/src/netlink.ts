// rtnetlink messages (rtnetlink(7), linux/rtnetlink.h, linux/if_link.h, linux/veth.h), built and
// read as bytes. Pure: the agent sends them through its syscall boundary. These are the requests
// LXC's network.c makes for a veth (create the pair, name, address and raise it), and what `ip`
// would send for the same commands.
import { parseIPv4, parseIPv6 } from "./ip.ts";

/** nlmsghdr: len u32, type u16, flags u16, seq u32, pid u32. */
const NLMSG_HDRLEN = 16;
const NLMSG_ERROR = 2;
const NLMSG_DONE = 3;

const RTM_NEWLINK = 16;
const RTM_DELLINK = 17;
const RTM_GETLINK = 18;
const RTM_NEWADDR = 20;
const RTM_GETADDR = 22;
const RTM_NEWROUTE = 24;
const RTM_GETROUTE = 26;

const NLM_F_REQUEST = 0x1;
const NLM_F_ACK = 0x4;
/** NLM_F_ROOT | NLM_F_MATCH: every object, in as many datagrams as it takes, then NLMSG_DONE */
const NLM_F_DUMP = 0x300;
const NLM_F_EXCL = 0x200;
const NLM_F_CREATE = 0x400;
const CREATE = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
const CHANGE = NLM_F_REQUEST | NLM_F_ACK;

const AF_UNSPEC = 0;
const AF_INET = 2;
const AF_INET6 = 10;
const IFF_UP = 0x1;

const IFLA_ADDRESS = 1;
const IFLA_IFNAME = 3;
const IFLA_MTU = 4;
const IFLA_MASTER = 10;
const IFLA_LINKINFO = 18;
const IFLA_NET_NS_PID = 19;
const IFLA_INFO_KIND = 1;
const IFLA_INFO_DATA = 2;
const VETH_INFO_PEER = 1;
const NLA_F_NESTED = 0x8000;

const IFA_ADDRESS = 1;
const IFA_LOCAL = 2;
const IFA_BROADCAST = 4;
/** no duplicate address detection: the address is usable at once, as the container starts */
const IFA_F_NODAD = 0x02;

const RTA_DST = 1;
const RTA_OIF = 4;
const RTA_GATEWAY = 5;
/** the table id when it does not fit rtmsg's u8 */
const RTA_TABLE = 15;
const RT_TABLE_MAIN = 254;
const RTPROT_BOOT = 3;
const RT_SCOPE_UNIVERSE = 0;
const RTN_UNICAST = 1;

/** An attribute: rtattr { len u16, type u16 } and its payload, padded to 4 bytes. */
function attr(type: number, payload: Buffer): Buffer {
  const len = 4 + payload.length;
  const buf = Buffer.alloc(align4(len));
  buf.writeUInt16LE(len, 0);
  buf.writeUInt16LE(type, 2);
  payload.copy(buf, 4);
  return buf;
}

const align4 = (n: number) => (n + 3) & ~3;
const nested = (type: number, ...children: Buffer[]) => attr(type | NLA_F_NESTED, Buffer.concat(children));
const u32 = (type: number, value: number) => attr(type, uint32(value));
const str = (type: number, value: string) => attr(type, Buffer.from(`${value}\0`));

function uint32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(value >>> 0);
  return b;
}

/** ifinfomsg: family u8, pad u8, type u16, index s32, flags u32, change u32. */
function ifinfo(index = 0, up = false): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt8(AF_UNSPEC, 0);
  b.writeInt32LE(index, 4);
  b.writeUInt32LE(up ? IFF_UP : 0, 8);
  b.writeUInt32LE(up ? IFF_UP : 0, 12);
  return b;
}

function message(type: number, flags: number, body: Buffer[]): Buffer {
  const payload = Buffer.concat(body);
  const hdr = Buffer.alloc(NLMSG_HDRLEN);
  hdr.writeUInt32LE(NLMSG_HDRLEN + payload.length, 0);
  hdr.writeUInt16LE(type, 4);
  hdr.writeUInt16LE(flags, 6);
  hdr.writeUInt32LE(1, 8); // seq: one request at a time on a socket
  return Buffer.concat([hdr, payload]);
}

/** A link picked by index, or by name when the index is 0 (rtnl_setlink looks IFLA_IFNAME up). */
export type LinkRef = { index: number } | { name: string };

function linkHeader(ref: LinkRef, up = false): Buffer[] {
  return "index" in ref ? [ifinfo(ref.index, up)] : [ifinfo(0, up), str(IFLA_IFNAME, ref.name)];
}

/** How the container end of a veth pair is born. */
export interface VethPeer {
  name: string;
  mtu?: number;
  /** "aa:bb:cc:dd:ee:ff" */
  hwaddr?: string;
  /** born in this process's network namespace, so it never has to be moved */
  netnsPid?: number;
}

/** `ip link add NAME [mtu M] type veth peer name PEER [address A] [mtu M] [netns PID]` */
export function newVethPair(name: string, peer: VethPeer): Buffer {
  const mtuAttr = peer.mtu ? [u32(IFLA_MTU, peer.mtu)] : [];
  const peerAttrs = [str(IFLA_IFNAME, peer.name), ...mtuAttr];
  if (peer.hwaddr !== undefined) peerAttrs.push(attr(IFLA_ADDRESS, parseHwaddr(peer.hwaddr)));
  if (peer.netnsPid !== undefined) peerAttrs.push(u32(IFLA_NET_NS_PID, peer.netnsPid));
  const peerInfo = nested(VETH_INFO_PEER, ifinfo(), ...peerAttrs);
  return message(RTM_NEWLINK, CREATE, [
    ifinfo(),
    str(IFLA_IFNAME, name),
    ...mtuAttr,
    nested(IFLA_LINKINFO, str(IFLA_INFO_KIND, "veth"), nested(IFLA_INFO_DATA, peerInfo)),
  ]);
}

/**
 * `ip link add NAME type bridge`, as lxc-net makes lxcbr0: a bridge with the kernel's defaults
 * (no STP, so a port forwards as soon as it is up). Create-exclusive: an existing link of that
 * name answers EEXIST.
 */
export function newBridge(name: string): Buffer {
  return message(RTM_NEWLINK, CREATE, [ifinfo(), str(IFLA_IFNAME, name), nested(IFLA_LINKINFO, str(IFLA_INFO_KIND, "bridge"))]);
}

export interface LinkChange {
  /** raise it (IFF_UP) */
  up?: boolean;
  /** a new name; only with a link picked by index */
  rename?: string;
  mtu?: number;
  /** the bridge's index (IFLA_MASTER) */
  master?: number;
  /** "aa:bb:cc:dd:ee:ff" */
  hwaddr?: string;
  /** move the link into this process's network namespace */
  netnsPid?: number;
}

/** `ip link set LINK [name N] [address A] [mtu M] [master B] [netns PID] [up]` */
export function setLink(ref: LinkRef, change: LinkChange): Buffer {
  if (change.rename !== undefined && !("index" in ref)) throw new Error("a rename picks the link by index");
  const attrs: Buffer[] = [];
  if (change.rename !== undefined) attrs.push(str(IFLA_IFNAME, change.rename));
  if (change.hwaddr !== undefined) attrs.push(attr(IFLA_ADDRESS, parseHwaddr(change.hwaddr)));
  if (change.mtu !== undefined) attrs.push(u32(IFLA_MTU, change.mtu));
  if (change.master !== undefined) attrs.push(u32(IFLA_MASTER, change.master));
  if (change.netnsPid !== undefined) attrs.push(u32(IFLA_NET_NS_PID, change.netnsPid));
  return message(RTM_NEWLINK, CHANGE, [...linkHeader(ref, change.up), ...attrs]);
}

/** `ip link del NAME` */
export function deleteLink(name: string): Buffer {
  return message(RTM_DELLINK, CHANGE, linkHeader({ name }));
}

/** `ip link show NAME`: the reply's ifinfomsg carries the index (see linkIndexOf). */
export function getLink(name: string): Buffer {
  return message(RTM_GETLINK, NLM_F_REQUEST, linkHeader({ name }));
}

/** `ip addr add ADDR/PREFIX [broadcast B] dev INDEX`, from LXC's "a.b.c.d/n [broadcast]" value. */
export function addIPv4Address(index: number, value: string): Buffer {
  const [cidr = "", broadcast] = value.trim().split(/\s+/);
  const { address, prefixLen } = splitPrefix(cidr, 32, value);
  const local = parseIPv4(address);
  const attrs = [attr(IFA_LOCAL, local), attr(IFA_ADDRESS, local)];
  if (broadcast) attrs.push(attr(IFA_BROADCAST, parseIPv4(broadcast)));
  return message(RTM_NEWADDR, CREATE, [ifaddrmsg(AF_INET, prefixLen, 0, index), ...attrs]);
}

/** `ip -6 addr add ADDR/PREFIX dev INDEX nodad`, from LXC's "2001:db8::2/64" value. */
export function addIPv6Address(index: number, value: string): Buffer {
  const { address, prefixLen } = splitPrefix(value.trim(), 128, value);
  const local = parseIPv6(address);
  return message(RTM_NEWADDR, CREATE, [ifaddrmsg(AF_INET6, prefixLen, IFA_F_NODAD, index), attr(IFA_LOCAL, local), attr(IFA_ADDRESS, local)]);
}

function splitPrefix(cidr: string, max: number, value: string): { address: string; prefixLen: number } {
  const [address = "", prefix = String(max)] = cidr.split("/");
  const prefixLen = Number(prefix);
  if (!/^\d{1,3}$/.test(prefix) || prefixLen > max) throw new Error(`"${value}": the prefix length is not 0 to ${max}`);
  return { address, prefixLen };
}

/** ifaddrmsg: family u8, prefixlen u8, flags u8, scope u8, index u32. */
function ifaddrmsg(family: number, prefixLen: number, flags: number, index: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt8(family, 0);
  b.writeUInt8(prefixLen, 1);
  b.writeUInt8(flags, 2);
  b.writeUInt8(RT_SCOPE_UNIVERSE, 3);
  b.writeUInt32LE(index, 4);
  return b;
}

/** `ip [-6] route add default via GATEWAY dev INDEX`; the family follows the gateway's. */
export function addDefaultRoute(index: number, gateway: string): Buffer {
  const v6 = gateway.includes(":");
  const rtmsg = Buffer.alloc(12);
  rtmsg.writeUInt8(v6 ? AF_INET6 : AF_INET, 0);
  rtmsg.writeUInt8(RT_TABLE_MAIN, 4);
  rtmsg.writeUInt8(RTPROT_BOOT, 5);
  rtmsg.writeUInt8(RT_SCOPE_UNIVERSE, 6);
  rtmsg.writeUInt8(RTN_UNICAST, 7);
  const via = v6 ? parseIPv6(gateway) : parseIPv4(gateway);
  return message(RTM_NEWROUTE, CREATE, [rtmsg, attr(RTA_GATEWAY, via), u32(RTA_OIF, index)]);
}

/**
 * `ip -4 addr show` / `ip -6 addr show`: a dump of every address of one family (the kernel
 * answers in several datagrams, ended by NLMSG_DONE; see parseAddresses).
 */
export function getAddresses(family: "IPv4" | "IPv6"): Buffer {
  return message(RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, [ifaddrmsg(family === "IPv4" ? AF_INET : AF_INET6, 0, 0, 0)]);
}

/** `ip -4 route show table all`: a dump of every IPv4 route (see parseRoutes). */
export function getRoutes(): Buffer {
  const rtmsg = Buffer.alloc(12);
  rtmsg.writeUInt8(AF_INET, 0);
  return message(RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP, [rtmsg]);
}

/** One IPv4 route of a dump: where it goes, through which link, in which table. */
export interface Route {
  /** "a.b.c.d", "0.0.0.0" for a default route */
  dst: string;
  prefixLength: number;
  table: number;
  /** RTN_*: 1 unicast, 2 local, 3 broadcast, ... */
  type: number;
  /** the output link's index, 0 when the route names none */
  oif: number;
}

/** The IPv4 routes in the answer to getRoutes; an NLMSG_ERROR in it throws with its errno. */
export function parseRoutes(reply: Buffer): Route[] {
  return readDump(reply, RTM_NEWROUTE, (body) => {
    if (body.readUInt8(0) !== AF_INET) return undefined;
    const attrs = readAttrs(body.subarray(12));
    const dst = attrs.get(RTA_DST);
    return {
      dst: dst ? [...dst].join(".") : "0.0.0.0",
      prefixLength: body.readUInt8(1),
      table: attrs.get(RTA_TABLE)?.readUInt32LE(0) ?? body.readUInt8(4),
      type: body.readUInt8(7),
      oif: attrs.get(RTA_OIF)?.readUInt32LE(0) ?? 0,
    };
  });
}

/** The messages of `type` in a dump's answer (datagrams back to back, up to NLMSG_DONE), read by `read`. */
function readDump<T>(reply: Buffer, type: number, read: (body: Buffer) => T | undefined): T[] {
  const out: T[] = [];
  for (let off = 0; off + NLMSG_HDRLEN <= reply.length; ) {
    const len = reply.readUInt32LE(off);
    if (len < NLMSG_HDRLEN || off + len > reply.length) throw new Error("a truncated rtnetlink message");
    const msgType = reply.readUInt16LE(off + 4);
    if (msgType === NLMSG_ERROR) {
      const errno = -reply.readInt32LE(off + NLMSG_HDRLEN);
      if (errno !== 0) throw Object.assign(new Error(`rtnetlink refused the dump: errno ${errno}`), { errno });
    } else if (msgType === NLMSG_DONE) {
      break;
    } else if (msgType === type) {
      const item = read(reply.subarray(off + NLMSG_HDRLEN, off + len));
      if (item !== undefined) out.push(item);
    }
    off += align4(len);
  }
  return out;
}

/** One address of a dump: the link it is on, and "a.b.c.d" or an IPv6 text with its prefix. */
export interface LinkAddress {
  index: number;
  family: "IPv4" | "IPv6";
  address: string;
  prefixLength: number;
  /** RT_SCOPE_*: 0 universe (global), 253 link, 254 host */
  scope: number;
}

/**
 * The addresses in the answer to getAddresses: the RTM_NEWADDR messages of its datagrams, read
 * back to back. An NLMSG_ERROR in it throws with its errno (as `errno` on the Error).
 */
export function parseAddresses(reply: Buffer): LinkAddress[] {
  return readDump(reply, RTM_NEWADDR, (body): LinkAddress | undefined => {
    const family = body.readUInt8(0) === AF_INET ? "IPv4" : body.readUInt8(0) === AF_INET6 ? "IPv6" : undefined;
    const attrs = readAttrs(body.subarray(8));
    const raw = attrs.get(IFA_LOCAL) ?? attrs.get(IFA_ADDRESS);
    if (!family || !raw) return undefined;
    return { index: body.readUInt32LE(4), family, address: family === "IPv4" ? [...raw].join(".") : ipv6Text(raw), prefixLength: body.readUInt8(1), scope: body.readUInt8(3) };
  });
}

/** The top-level attributes of a message body: type (NLA_F_NESTED stripped) to payload; the first of each. */
function readAttrs(buf: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  for (let off = 0; off + 4 <= buf.length; ) {
    const len = buf.readUInt16LE(off);
    if (len < 4) break;
    const type = buf.readUInt16LE(off + 2) & ~NLA_F_NESTED;
    if (!out.has(type)) out.set(type, buf.subarray(off + 4, off + len));
    off += align4(len);
  }
  return out;
}

/** RFC 5952 text: lower-case hex, the longest run of two or more zero groups as "::". */
export function ipv6Text(raw: Buffer): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(raw.readUInt16BE(i));
  let best = { at: -1, len: 1 };
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.len) best = { at: i, len: j - i };
    i = j === i ? i + 1 : j;
  }
  const hex = (gs: number[]) => gs.map((g) => g.toString(16)).join(":");
  return best.at < 0 ? hex(groups) : `${hex(groups.slice(0, best.at))}::${hex(groups.slice(best.at + best.len))}`;
}

/** What a reply says: the errno of an NLMSG_ERROR (0 for an ack), or a message of another type. */
export function replyErrno(reply: Buffer): number | undefined {
  if (reply.length < NLMSG_HDRLEN + 4 || reply.readUInt16LE(4) !== NLMSG_ERROR) return undefined;
  const error = reply.readInt32LE(NLMSG_HDRLEN);
  return error === 0 ? 0 : -error;
}

/** The index in the ifinfomsg of an RTM_NEWLINK reply to getLink. */
export function linkIndexOf(reply: Buffer): number {
  if (reply.length < NLMSG_HDRLEN + 16 || reply.readUInt16LE(4) !== RTM_NEWLINK) throw new Error("not a link description");
  return reply.readInt32LE(NLMSG_HDRLEN + 4);
}


/**
 * A MAC address with LXC's "x" placeholders filled in (lxc.net.N.hwaddr = 00:16:3e:xx:xx:xx),
 * as rand_complete_hwaddr does: random hex digits, the first octet kept unicast. `nibble` gives
 * random numbers 0..15.
 */
export function completeHwaddr(text: string, nibble: () => number): string {
  return text.replace(/[xX]/g, (_, offset: number) => "0123456789abcdef"[offset === 1 ? nibble() & 0x0e : nibble() & 0x0f]!);
}

function parseHwaddr(text: string): Buffer {
  const parts = text.split(":");
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{2}$/.test(p))) throw new Error(`"${text}" is not a MAC address`);
  return Buffer.from(parts.map((p) => parseInt(p, 16)));
}
