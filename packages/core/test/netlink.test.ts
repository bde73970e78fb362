// rtnetlink messages: decoded back and checked field by field against the kernel's structs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { rtnetlink } from "../src/index.ts";

interface Attr { type: number; payload: Buffer }

/** The rtattrs in buf, in order (NLA_F_NESTED stripped from the type). */
function attrs(buf: Buffer): Attr[] {
  const out: Attr[] = [];
  for (let off = 0; off + 4 <= buf.length; ) {
    const len = buf.readUInt16LE(off);
    out.push({ type: buf.readUInt16LE(off + 2) & 0x7fff, payload: buf.subarray(off + 4, off + len) });
    off += (len + 3) & ~3;
  }
  return out;
}
const attr = (list: Attr[], type: number) => list.find((a) => a.type === type)?.payload;
const cstr = (b: Buffer | undefined) => b?.subarray(0, b.indexOf(0)).toString();

function header(msg: Buffer) {
  return { len: msg.readUInt32LE(0), type: msg.readUInt16LE(4), flags: msg.readUInt16LE(6) };
}

test("a veth pair: RTM_NEWLINK, create-exclusive with an ack, the peer nested in linkinfo", () => {
  const msg = rtnetlink.newVethPair("vethab", { name: "eth0", mtu: 1400, hwaddr: "00:16:3e:00:00:01", netnsPid: 4242 });
  assert.deepEqual(header(msg), { len: msg.length, type: 16, flags: 0x1 | 0x4 | 0x200 | 0x400 });
  const top = attrs(msg.subarray(16 + 16));
  assert.equal(cstr(attr(top, 3)), "vethab");
  assert.equal(attr(top, 4)?.readUInt32LE(0), 1400);
  const linkinfo = attrs(attr(top, 18)!);
  assert.equal(cstr(attr(linkinfo, 1)), "veth");
  const peer = attr(attrs(attr(linkinfo, 2)!), 1)!;
  const peerAttrs = attrs(peer.subarray(16));
  assert.equal(cstr(attr(peerAttrs, 3)), "eth0");
  assert.equal(attr(peerAttrs, 4)?.readUInt32LE(0), 1400);
  assert.deepEqual([...attr(peerAttrs, 1)!], [0, 0x16, 0x3e, 0, 0, 1]);
  assert.equal(attr(peerAttrs, 19)?.readUInt32LE(0), 4242);
  // without the options, only the name
  const plain = attrs(attr(attrs(attr(attrs(attr(attrs(rtnetlink.newVethPair("v", { name: "p" }).subarray(32)), 18)!), 2)!), 1)!.subarray(16));
  assert.deepEqual(plain.map((a) => a.type), [3]);
});

test("setLink picks by name or index and carries each change", () => {
  const byName = rtnetlink.setLink({ name: "vethab" }, { up: true, master: 7 });
  assert.deepEqual(header(byName), { len: byName.length, type: 16, flags: 0x1 | 0x4 });
  assert.equal(byName.readInt32LE(16 + 4), 0);
  assert.deepEqual([byName.readUInt32LE(16 + 8), byName.readUInt32LE(16 + 12)], [1, 1]);
  const named = attrs(byName.subarray(32));
  assert.equal(cstr(attr(named, 3)), "vethab");
  assert.equal(attr(named, 10)?.readUInt32LE(0), 7);

  const byIndex = rtnetlink.setLink({ index: 12 }, { rename: "eth0", hwaddr: "aa:bb:cc:dd:ee:0f", netnsPid: 4242 });
  assert.equal(byIndex.readInt32LE(16 + 4), 12);
  assert.equal(byIndex.readUInt32LE(16 + 12), 0, "not up: the flags are left alone");
  const changes = attrs(byIndex.subarray(32));
  assert.equal(cstr(attr(changes, 3)), "eth0");
  assert.deepEqual([...attr(changes, 1)!], [0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0x0f]);
  assert.equal(attr(changes, 19)?.readUInt32LE(0), 4242);
  assert.throws(() => rtnetlink.setLink({ name: "x" }, { rename: "y" }), /by index/);
  assert.throws(() => rtnetlink.setLink({ index: 1 }, { hwaddr: "aa:bb" }), /not a MAC address/);
});

test("an IPv4 address with its prefix and optional broadcast, and a default route", () => {
  const addr = rtnetlink.addIPv4Address(5, "10.0.3.7/24 10.0.3.255");
  assert.equal(header(addr).type, 20);
  assert.deepEqual([addr[16], addr[17], addr.readUInt32LE(20)], [2, 24, 5]);
  const a = attrs(addr.subarray(24));
  assert.deepEqual([...attr(a, 2)!], [10, 0, 3, 7]);
  assert.deepEqual([...attr(a, 1)!], [10, 0, 3, 7]);
  assert.deepEqual([...attr(a, 4)!], [10, 0, 3, 255]);
  assert.equal(attr(attrs(rtnetlink.addIPv4Address(5, "10.0.3.7").subarray(24)), 4), undefined);
  assert.equal(rtnetlink.addIPv4Address(5, "10.0.3.7")[17], 32);
  assert.throws(() => rtnetlink.addIPv4Address(5, "10.0.3.7/33"), /prefix/);
  assert.throws(() => rtnetlink.addIPv4Address(5, "10.0.300.7/24"), /not an IPv4 address/);

  const route = rtnetlink.addDefaultRoute(5, "10.0.3.1");
  assert.equal(header(route).type, 24);
  assert.deepEqual([route[16], route[17], route[20], route[23]], [2, 0, 254, 1]);
  const r = attrs(route.subarray(28));
  assert.deepEqual([...attr(r, 5)!], [10, 0, 3, 1]);
  assert.equal(attr(r, 4)?.readUInt32LE(0), 5);
});

test("an IPv6 address without duplicate address detection, and an IPv6 default route", () => {
  const addr = rtnetlink.addIPv6Address(5, "fd77::2/64");
  assert.equal(header(addr).type, 20);
  assert.deepEqual([addr[16], addr[17], addr[18], addr.readUInt32LE(20)], [10, 64, 0x02, 5]);
  assert.equal(attr(attrs(addr.subarray(24)), 2)!.toString("hex"), "fd770000000000000000000000000002");
  assert.equal(rtnetlink.addIPv6Address(5, "2001:db8::5")[17], 128);
  assert.throws(() => rtnetlink.addIPv6Address(5, "fd77::2/129"), /prefix/);
  const route = rtnetlink.addDefaultRoute(5, "fd77::1");
  assert.equal(route[16], 10);
  assert.equal(attr(attrs(route.subarray(28)), 5)!.toString("hex"), "fd770000000000000000000000000001");
});

test("replies: an ack is errno 0, an error its errno, a link description its index", () => {
  const error = (errno: number) => {
    const b = Buffer.alloc(36);
    b.writeUInt32LE(36, 0);
    b.writeUInt16LE(2, 4);
    b.writeInt32LE(-errno, 16);
    return b;
  };
  assert.equal(rtnetlink.replyErrno(error(0)), 0);
  assert.equal(rtnetlink.replyErrno(error(19)), 19);
  const link = Buffer.alloc(32);
  link.writeUInt16LE(16, 4);
  link.writeInt32LE(9, 20);
  assert.equal(rtnetlink.replyErrno(link), undefined);
  assert.equal(rtnetlink.linkIndexOf(link), 9);
  assert.throws(() => rtnetlink.linkIndexOf(error(0)), /not a link/);
});

test("an hwaddr's x placeholders are filled, the first octet kept unicast", () => {
  assert.equal(rtnetlink.completeHwaddr("00:16:3e:xx:xx:xx", () => 15), "00:16:3e:ff:ff:ff");
  assert.equal(rtnetlink.completeHwaddr("xx:16:3e:00:00:01", () => 15), "fe:16:3e:00:00:01");
  assert.equal(rtnetlink.completeHwaddr("00:16:3e:00:00:01", () => 15), "00:16:3e:00:00:01");
});

test("a bridge: RTM_NEWLINK, create-exclusive with an ack, its name and kind \"bridge\" in linkinfo", () => {
  const msg = rtnetlink.newBridge("corralbr0");
  assert.deepEqual(header(msg), { len: msg.length, type: 16, flags: 0x1 | 0x4 | 0x200 | 0x400 });
  assert.equal(msg.readUInt8(16), 0, "AF_UNSPEC");
  assert.equal(msg.readInt32LE(16 + 4), 0, "no index: a new link");
  assert.deepEqual([msg.readUInt32LE(16 + 8), msg.readUInt32LE(16 + 12)], [0, 0], "made down; raised by setLink once addressed");
  const top = attrs(msg.subarray(32));
  assert.deepEqual(top.map((a) => a.type), [3, 18]);
  assert.equal(cstr(attr(top, 3)), "corralbr0");
  assert.equal(msg.readUInt16LE(32 + 16 + 2), 18 | 0x8000, "linkinfo is nested");
  const linkinfo = attrs(attr(top, 18)!);
  assert.deepEqual(linkinfo.map((a) => a.type), [1]);
  assert.equal(cstr(attr(linkinfo, 1)), "bridge");
  assert.equal(attr(top, 3)!.length, "corralbr0".length + 1, "NUL-terminated");
});

test("an address dump: RTM_GETADDR with NLM_F_DUMP for one family, and its answer read back", () => {
  const v4 = rtnetlink.getAddresses("IPv4");
  assert.deepEqual(header(v4), { len: 24, type: 22, flags: 0x1 | 0x300 });
  assert.deepEqual([...v4.subarray(16)], [2, 0, 0, 0, 0, 0, 0, 0], "ifaddrmsg: AF_INET, every link");
  assert.equal(rtnetlink.getAddresses("IPv6").readUInt8(16), 10);

  // two datagrams back to back, as the native call returns a dump: addresses, then NLMSG_DONE
  const ifaddr = (family: number, prefix: number, scope: number, index: number, attrsOf: Buffer[]) => {
    const body = Buffer.concat([Buffer.from([family, prefix, 0, scope, index & 0xff, 0, 0, 0]), ...attrsOf]);
    const hdr = Buffer.alloc(16);
    hdr.writeUInt32LE(16 + body.length, 0);
    hdr.writeUInt16LE(20, 4);
    return Buffer.concat([hdr, body]);
  };
  const rta = (type: number, payload: number[]) => {
    const b = Buffer.alloc((4 + payload.length + 3) & ~3);
    b.writeUInt16LE(4 + payload.length, 0);
    b.writeUInt16LE(type, 2);
    Buffer.from(payload).copy(b, 4);
    return b;
  };
  const label = rta(3, [...Buffer.from("corralbr0\0")]);
  const done = Buffer.alloc(20);
  done.writeUInt32LE(20, 0);
  done.writeUInt16LE(3, 4);
  const reply = Buffer.concat([
    ifaddr(2, 24, 0, 29, [rta(1, [10, 0, 5, 1]), rta(2, [10, 0, 5, 1]), label]),
    ifaddr(2, 8, 254, 1, [rta(1, [127, 0, 0, 1])]),
    ifaddr(10, 64, 253, 29, [rta(1, [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])]),
    done,
    ifaddr(2, 24, 0, 99, [rta(2, [1, 2, 3, 4])]), // after NLMSG_DONE: not read
  ]);
  assert.deepEqual(rtnetlink.parseAddresses(reply), [
    { index: 29, family: "IPv4", address: "10.0.5.1", prefixLength: 24, scope: 0 },
    { index: 1, family: "IPv4", address: "127.0.0.1", prefixLength: 8, scope: 254 },
    { index: 29, family: "IPv6", address: "fe80::1", prefixLength: 64, scope: 253 },
  ]);
  const refused = Buffer.alloc(36);
  refused.writeUInt32LE(36, 0);
  refused.writeUInt16LE(2, 4);
  refused.writeInt32LE(-22, 16);
  assert.throws(() => rtnetlink.parseAddresses(refused), (e: Error & { errno?: number }) => e.errno === 22);
  assert.throws(() => rtnetlink.parseAddresses(reply.subarray(0, 30)), /truncated/);
});

test("IPv6 text: the longest run of zero groups shortened, as RFC 5952 says", () => {
  const text = (s: string) => rtnetlink.ipv6Text(Buffer.from(s.replaceAll(":", ""), "hex"));
  assert.equal(text("fd00:0000:0000:0000:0000:0000:0000:0002"), "fd00::2");
  assert.equal(text("2001:0db8:0000:0001:0000:0000:0000:0001"), "2001:db8:0:1::1");
  assert.equal(text("0000:0000:0000:0000:0000:0000:0000:0000"), "::");
  assert.equal(text("2001:0db8:0001:0002:0003:0004:0005:0006"), "2001:db8:1:2:3:4:5:6");
  assert.equal(text("2001:0000:0db8:0000:0001:0000:0000:0001"), "2001:0:db8:0:1::1");
});

test("a route dump: RTM_GETROUTE with NLM_F_DUMP for IPv4, and its routes read back with their table, type and link", () => {
  const req = rtnetlink.getRoutes();
  assert.deepEqual(header(req), { len: 28, type: 26, flags: 0x1 | 0x300 });
  assert.equal(req.readUInt8(16), 2, "rtmsg: AF_INET");
  const route = (rtm: number[], attrsOf: Array<[number, number[]]>) => {
    const body = Buffer.concat([Buffer.from(rtm), ...attrsOf.map(([type, p]) => {
      const b = Buffer.alloc((4 + p.length + 3) & ~3);
      b.writeUInt16LE(4 + p.length, 0);
      b.writeUInt16LE(type, 2);
      Buffer.from(p).copy(b, 4);
      return b;
    })]);
    const hdr = Buffer.alloc(16);
    hdr.writeUInt32LE(16 + body.length, 0);
    hdr.writeUInt16LE(24, 4);
    return Buffer.concat([hdr, body]);
  };
  const u32le = (n: number) => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24];
  const done = Buffer.alloc(20);
  done.writeUInt32LE(20, 0);
  done.writeUInt16LE(3, 4);
  const reply = Buffer.concat([
    route([2, 0, 0, 0, 254, 3, 0, 1, 0, 0, 0, 0], [[5, [192, 0, 2, 1]], [4, u32le(2)]]), // default via 192.0.2.1 dev 2
    route([2, 24, 0, 0, 254, 2, 253, 1, 0, 0, 0, 0], [[1, [10, 0, 5, 0]], [4, u32le(29)]]), // 10.0.5.0/24 dev 29
    route([2, 32, 0, 0, 255, 2, 254, 2, 0, 0, 0, 0], [[15, u32le(255)], [1, [10, 0, 5, 1]], [4, u32le(29)]]), // local
    route([10, 64, 0, 0, 254, 2, 0, 1, 0, 0, 0, 0], [[4, u32le(29)]]), // IPv6: left out
    done,
  ]);
  assert.deepEqual(rtnetlink.parseRoutes(reply), [
    { dst: "0.0.0.0", prefixLength: 0, table: 254, type: 1, oif: 2 },
    { dst: "10.0.5.0", prefixLength: 24, table: 254, type: 1, oif: 29 },
    { dst: "10.0.5.1", prefixLength: 32, table: 255, type: 2, oif: 29 },
  ]);
});
