// The managed bridge: its subnet, the addresses handed out on it, and the rtnetlink requests that
// make it when missing (through the recording fake, no root).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  addressesIn, clashingNetworks, ipv4AddressesInConfigText, managedBroadcast, managedSubnet, nextFreeAddress, subnetsOverlap,
} from "../../src/runtime/bridge.ts";
import { ensureManagedBridge, planVeths } from "../../src/runtime/network.ts";
import { FakeSyscalls } from "../../src/sys/fake.ts";
import { ack, done } from "./netlink-replies.ts";

describe("the managed subnet", () => {
  it("is 10.0.5.0/24 with the bridge at .1", () => {
    assert.equal(managedSubnet(), "10.0.5.0/24");
    assert.equal(managedBroadcast(), "10.0.5.255");
  });

  it("hands out the lowest address not taken, never the network, the bridge or the broadcast", () => {
    assert.equal(nextFreeAddress([]), "10.0.5.2/24");
    assert.equal(nextFreeAddress(["10.0.5.2", "10.0.5.3", "10.0.5.5"]), "10.0.5.4/24");
    assert.equal(nextFreeAddress(["10.0.5.1", "192.168.1.2", "not an address", "fd00::2"]), "10.0.5.2/24");
    const all = Array.from({ length: 253 }, (_, i) => `10.0.5.${i + 2}`);
    assert.equal(nextFreeAddress(all.slice(0, -1)), "10.0.5.254/24");
    assert.throws(() => nextFreeAddress(all), /no free address left on corralbr0 \(10\.0\.5\.0\/24\)/);
  });

  it("reads the addresses configs take, with or without prefix and broadcast", () => {
    assert.deepEqual(addressesIn(["10.0.5.7/24", "10.0.5.8", " 10.0.5.9/24 10.0.5.255"]), ["10.0.5.7", "10.0.5.8", "10.0.5.9"]);
    const text = "lxc.uts.name = a\nlxc.net.0.ipv4.address = 10.0.5.2/24\n  lxc.net.1.ipv4.address=10.0.5.3/24 10.0.5.255\n# lxc.net.0.ipv4.address = 10.0.5.4/24\nlxc.net.0.ipv4.gateway = auto\n";
    assert.deepEqual(ipv4AddressesInConfigText(text), ["10.0.5.2", "10.0.5.3"]);
  });

  it("knows when a host network overlaps it", () => {
    assert.equal(subnetsOverlap("10.0.5.0/24", "10.0.0.0/16"), true);
    assert.equal(subnetsOverlap("10.0.5.0/24", "10.0.5.128/25"), true);
    assert.equal(subnetsOverlap("10.0.5.0/24", "10.0.6.0/24"), false);
    assert.equal(subnetsOverlap("10.0.5.0/24", "192.0.2.0/24"), false);
    const addr = (index: number, address: string, prefixLength: number) => ({ index, family: "IPv4", address, prefixLength });
    assert.deepEqual(clashingNetworks([addr(1, "127.0.0.1", 8), addr(2, "192.0.2.2", 24)]), []);
    assert.deepEqual(clashingNetworks([addr(3, "10.0.0.7", 16)]), ["10.0.0.7/16 on link 3"]);
  });
});

/**
 * rtnetlink answers scripted by message type: a link lookup finds `links`, an IPv4 address dump
 * gives `addrs` (updated when an address is added), changes get `errnos`.
 */
class BridgeFake extends FakeSyscalls {
  constructor(
    private readonly links: Map<string, number>,
    private readonly errnos: Partial<Record<number, number>> = {},
    readonly addrs: Array<[index: number, address: string, prefixLength: number]> = [[1, "127.0.0.1", 8], [2, "192.0.2.2", 24]],
    readonly routes: Array<[dst: string, prefixLength: number, oif: number]> = [["0.0.0.0", 0, 2], ["192.0.2.0", 24, 2]],
  ) {
    super();
  }
  override netlinkCall(sock: number, request: Uint8Array): Buffer {
    super.netlinkCall(sock, request);
    const msg = Buffer.from(request);
    const type = msg.readUInt16LE(4);
    if (type === 18) {
      const name = ifname(msg);
      const index = this.links.get(name);
      if (index === undefined) return ack(19);
      const link = Buffer.alloc(32);
      link.writeUInt32LE(32, 0);
      link.writeUInt16LE(16, 4);
      link.writeInt32LE(index, 20);
      return link;
    }
    if (type === 22) return Buffer.concat([...this.addrs.map(([i, a, p]) => newaddr(i, a, p)), done()]);
    if (type === 26) return Buffer.concat([...this.routes.map(([d, p, oif]) => newroute(d, p, oif)), done()]);
    const errno = this.errnos[type] ?? 0;
    if (type === 16 && msg.readInt32LE(20) === 0 && errno === 0) this.links.set(ifname(msg), 42);
    if (type === 20 && errno === 0) this.addrs.push([msg.readInt32LE(20), [...msg.subarray(36, 40)].join("."), msg.readUInt8(17)]);
    return ack(errno);
  }
  /** [type, ifinfo/ifaddr index, IFLA_IFNAME] of each request */
  requests(): Array<[number, number, string]> {
    return this.calls.filter((c) => c.call === "netlinkCall").map((c) => {
      const msg = Buffer.from(c.args[1] as Uint8Array);
      const type = msg.readUInt16LE(4);
      return [type, type === 26 ? 0 : msg.readInt32LE(20), type === 20 || type === 22 || type === 26 ? "" : ifname(msg)];
    });
  }
}

/** An RTM_NEWADDR message of a dump: ifaddrmsg then IFA_LOCAL. */
function newaddr(index: number, address: string, prefixLength: number): Buffer {
  const b = Buffer.alloc(16 + 8 + 8);
  b.writeUInt32LE(b.length, 0);
  b.writeUInt16LE(20, 4);
  b.writeUInt8(2, 16);
  b.writeUInt8(prefixLength, 17);
  b.writeUInt32LE(index, 20);
  b.writeUInt16LE(8, 24);
  b.writeUInt16LE(2, 26);
  Buffer.from(address.split(".").map(Number)).copy(b, 28);
  return b;
}

/** An RTM_NEWROUTE message of a dump: rtmsg (main table, unicast), RTA_DST unless default, RTA_OIF. */
function newroute(dst: string, prefixLength: number, oif: number): Buffer {
  const attrs = [Buffer.alloc(8), Buffer.alloc(8)];
  attrs[0]!.writeUInt16LE(8, 0);
  attrs[0]!.writeUInt16LE(1, 2);
  Buffer.from(dst.split(".").map(Number)).copy(attrs[0]!, 4);
  attrs[1]!.writeUInt16LE(8, 0);
  attrs[1]!.writeUInt16LE(4, 2);
  attrs[1]!.writeUInt32LE(oif, 4);
  const body = Buffer.concat([Buffer.from([2, prefixLength, 0, 0, 254, 3, 0, 1, 0, 0, 0, 0]), ...(prefixLength ? attrs : [attrs[1]!])]);
  const hdr = Buffer.alloc(16);
  hdr.writeUInt32LE(16 + body.length, 0);
  hdr.writeUInt16LE(24, 4);
  return Buffer.concat([hdr, body]);
}

/** IFLA_IFNAME (3) of a link message, "" when it has none. */
function ifname(msg: Buffer): string {
  for (let off = 32; off + 4 <= msg.length; ) {
    const len = msg.readUInt16LE(off);
    if ((msg.readUInt16LE(off + 2) & 0x7fff) === 3) return msg.subarray(off + 4, off + len - 1).toString();
    off += (len + 3) & ~3;
  }
  return "";
}

describe("making the managed bridge", () => {
  it("when missing: the bridge link, its address with the broadcast, then up", () => {
    const sys = new BridgeFake(new Map());
    ensureManagedBridge(sys);
    assert.deepEqual(sys.requests(), [
      [18, 0, "corralbr0"], // looked up: ENODEV
      [22, 0, ""], // the host's IPv4 addresses: none clashes
      [26, 0, ""], // nor any of its routes
      [16, 0, "corralbr0"], // RTM_NEWLINK kind bridge
      [18, 0, "corralbr0"], // its index
      [20, 42, ""], // 10.0.5.1/24 brd 10.0.5.255
      [16, 42, ""], // up
    ]);
    assert.deepEqual(sys.addrs.at(-1), [42, "10.0.5.1", 24]);
    assert.deepEqual(sys.names().filter((n) => n === "netlinkSocket" || n === "close"), ["netlinkSocket", "close"]);
  });

  it("when there and addressed: a lookup and the address dump, nothing changed", () => {
    const sys = new BridgeFake(new Map([["corralbr0", 9]]), {}, [[9, "10.0.5.1", 24]]);
    ensureManagedBridge(sys);
    assert.deepEqual(sys.requests().map(([t]) => t), [18, 22]);
  });

  it("when there without its address: the address and up", () => {
    const sys = new BridgeFake(new Map([["corralbr0", 9]]));
    ensureManagedBridge(sys);
    assert.deepEqual(sys.requests().map(([t, i]) => [t, i]), [[18, 0], [22, 0], [26, 0], [20, 9], [16, 9]]);
  });

  it("another start that made it first (EEXIST on the link and the address) is no failure", () => {
    const sys = new BridgeFake(new Map(), { 16: 0, 20: 17 });
    ensureManagedBridge(sys);
    assert.equal(sys.requests().length, 7);
  });

  it("a host network overlapping the subnet: refused, nothing made", () => {
    const sys = new BridgeFake(new Map(), {}, [[3, "10.0.9.9", 8]]);
    assert.throws(() => ensureManagedBridge(sys), /not making corralbr0 with 10\.0\.5\.0\/24: it overlaps the host's 10\.0\.9\.9\/8 on link 3/);
    assert.deepEqual(sys.requests().map(([t]) => t), [18, 22, 26]);
  });

  it("a host route overlapping the subnet (a VPN's 10.0.0.0/8): refused too; the default route is no clash", () => {
    const sys = new BridgeFake(new Map(), {}, undefined, [["0.0.0.0", 0, 2], ["10.0.0.0", 8, 7]]);
    assert.throws(() => ensureManagedBridge(sys), /it overlaps the host's route 10\.0\.0\.0\/8 on link 7/);
    assert.deepEqual(sys.requests().map(([t]) => t), [18, 22, 26]);
  });

  it("a failure to make it names the step and the errno", () => {
    const sys = new BridgeFake(new Map(), { 16: 1 });
    assert.throws(() => ensureManagedBridge(sys), /making the managed bridge corralbr0: EPERM \(1\)/);
  });

  it("planVeths makes it only for a veth on corralbr0; any other missing bridge still fails", () => {
    const other = new BridgeFake(new Map());
    assert.throws(
      () => planVeths(other, [{ index: 0, type: "veth", link: "br9", ipv4Addresses: [], ipv6Addresses: [] }]),
      /finding bridge br9 \(lxc\.net\.0\.link\): ENODEV/,
    );
    assert.deepEqual(other.requests(), [[18, 0, "br9"]]);
    const managed = new BridgeFake(new Map());
    const [pair] = planVeths(managed, [{ index: 0, type: "veth", link: "corralbr0", ipv4Addresses: ["10.0.5.2/24"], ipv4Gateway: "auto", ipv6Addresses: [] }]);
    assert.equal(pair!.master, 42);
    assert.equal(pair!.gateway, "10.0.5.1", "auto: the bridge's address, read from rtnetlink (a bridge without ports has no carrier)");
    assert.deepEqual(managed.requests().map(([t]) => t), [18, 22, 26, 16, 18, 20, 16, 18, 22, 18]);
  });

  it("a gateway of auto on a bridge without an address fails the start before anything is made", () => {
    const sys = new BridgeFake(new Map([["br1", 5]]));
    assert.throws(
      () => planVeths(sys, [{ index: 0, type: "veth", link: "br1", ipv4Addresses: [], ipv4Gateway: "auto", ipv6Addresses: [] }]),
      /lxc\.net\.0\.ipv4\.gateway = auto, but bridge br1 has no IPv4 address/,
    );
  });
});
