// The host's side of unprivileged containers, without root: the rootfs served idmapped or as it is,
// a filesystem that refuses idmapping named, the cgroup delegated, ownership shifted by the map.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { DEFAULT_IDMAP, ERRNO } from "@corral/core";
import { filesystemOf, prepareUserns } from "../../src/runtime/userns.ts";
import { ContainerCgroup } from "../../src/runtime/cgroups.ts";
import type { Hierarchy } from "../../src/runtime/cgroup-hierarchies.ts";
import { shiftedAcl, shiftedFileCaps, shiftedOwner } from "../../src/containers/shift.ts";
import { FakeFiles } from "../../src/host/fake.ts";
import { createContainer } from "../../src/containers/create.ts";
import { LxcPath } from "../../src/containers/lxcpath.ts";
import { Refusal } from "../../src/runtime/instance.ts";
import { FakeSyscalls } from "../../src/sys/fake.ts";

const MOUNTINFO = [
  "22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw",
  "30 22 0:40 / /srv rw,relatime shared:9 - ramfs none rw",
  "31 30 0:41 / /srv/fast rw,relatime shared:10 - tmpfs tmpfs rw",
].join("\n");

describe("the rootfs of an unprivileged container", () => {
  it("is idmapped when host root owns it: a user namespace with the maps, then the tree, the namespace's fd closed", () => {
    const sys = new FakeSyscalls();
    const files = new FakeFiles();
    files.dirs.add("/c/rootfs");
    const setup = prepareUserns(sys, files, "/c/rootfs", DEFAULT_IDMAP);
    assert.deepEqual(setup.maps, { uidMap: "0 100000 65536\n", gidMap: "0 100000 65536\n" });
    assert.deepEqual([setup.rootUid, setup.rootGid], [100000, 100000]);
    assert.deepEqual(sys.names(), ["usernsFd", "idmappedTree", "close"]);
    assert.equal(sys.calls[1]!.args[0], "/c/rootfs");
    assert.equal(sys.calls[2]!.args[0], sys.calls[1]!.args[1], "the user namespace's fd is closed");
    assert.ok(setup.rootfsTree !== undefined);
  });

  it("is bound as it is when the mapped root owns it already (create --unprivileged)", () => {
    const sys = new FakeSyscalls();
    const files = new FakeFiles();
    files.dirs.add("/c/rootfs");
    files.owners.set("/c/rootfs", { uid: 100000, gid: 100000 });
    assert.equal(prepareUserns(sys, files, "/c/rootfs", DEFAULT_IDMAP).rootfsTree, undefined);
    assert.deepEqual(sys.names(), []);
  });

  it("on a filesystem that refuses idmapping, names it and the shifted route", () => {
    const sys = new FakeSyscalls();
    const files = new FakeFiles();
    files.dirs.add("/srv/c/rootfs");
    files.files.set("/proc/self/mountinfo", MOUNTINFO);
    sys.failNext("idmappedTree", ERRNO.EINVAL);
    assert.throws(() => prepareUserns(sys, files, "/srv/c/rootfs", DEFAULT_IDMAP),
      /the rootfs \/srv\/c\/rootfs is on a ramfs filesystem \(mounted on \/srv\) that cannot be idmapped \(idmappedTree: EINVAL\).*corral create --unprivileged/);
    assert.equal(sys.names().at(-1), "close", "the user namespace's fd is closed on failure too");
  });

  it("filesystemOf finds the mount a path is under, the deepest one", () => {
    assert.deepEqual(filesystemOf(MOUNTINFO, "/srv/fast/x"), { fstype: "tmpfs", mountPoint: "/srv/fast" });
    assert.deepEqual(filesystemOf(MOUNTINFO, "/srv/fastest"), { fstype: "ramfs", mountPoint: "/srv" });
    assert.deepEqual(filesystemOf(MOUNTINFO, "/var/lib"), { fstype: "ext4", mountPoint: "/" });
  });
});

describe("a delegated cgroup and a shifted rootfs", () => {
  it("gives root inside its cgroup directories and the files that move processes, never the limits", () => {
    const files = new FakeFiles();
    const hierarchies: Hierarchy[] = [{ version: 2, mountPoint: "/cg/unified", controllers: [] }, { version: 1, mountPoint: "/cg/memory", controllers: ["memory"] }];
    files.files.set("/sys/kernel/cgroup/delegate", "cgroup.procs\ncgroup.threads\ncgroup.subtree_control\nmemory.oom.group\n");
    for (const dir of ["/cg/unified/corral-c", "/cg/memory/corral-c"]) files.dirs.add(dir);
    for (const f of ["/cg/unified/corral-c/cgroup.procs", "/cg/unified/corral-c/cgroup.threads", "/cg/unified/corral-c/cgroup.subtree_control", "/cg/unified/corral-c/memory.max",
      "/cg/memory/corral-c/cgroup.procs", "/cg/memory/corral-c/tasks", "/cg/memory/corral-c/memory.limit_in_bytes"]) files.files.set(f, "");
    new ContainerCgroup(new FakeSyscalls(), files, hierarchies, "corral-c").delegate(100000, 100000);
    assert.deepEqual(files.log.filter((l) => l.startsWith("chown")).map((l) => l.split(" ")[1]), [
      "/cg/unified/corral-c", "/cg/unified/corral-c/cgroup.procs", "/cg/unified/corral-c/cgroup.threads", "/cg/unified/corral-c/cgroup.subtree_control",
      "/cg/memory/corral-c", "/cg/memory/corral-c/cgroup.procs", "/cg/memory/corral-c/tasks",
    ]);
  });

  it("shifts ids through the map; ids it leaves out stay", () => {
    assert.deepEqual(shiftedOwner(0, 0, DEFAULT_IDMAP), { uid: 100000, gid: 100000 });
    assert.deepEqual(shiftedOwner(33, 4, DEFAULT_IDMAP), { uid: 100033, gid: 100004 });
    assert.deepEqual(shiftedOwner(70000, 5, DEFAULT_IDMAP), { uid: 70000, gid: 100005 });
    assert.equal(shiftedOwner(70000, 70000, DEFAULT_IDMAP), undefined);
  });
});

describe("a shifted rootfs's ACLs", () => {
  it("have the ids of their user and group entries mapped, the others kept", () => {
    const acl = Buffer.alloc(4 + 8 * 4);
    acl.writeUInt32LE(2, 0);
    const entries: Array<[number, number, number]> = [[0x01, 7, 0xffffffff], [0x08, 5, 4], [0x02, 4, 70000], [0x20, 5, 0xffffffff]];
    entries.forEach(([tag, perm, id], i) => {
      acl.writeUInt16LE(tag, 4 + 8 * i);
      acl.writeUInt16LE(perm, 6 + 8 * i);
      acl.writeUInt32LE(id, 8 + 8 * i);
    });
    const shifted = shiftedAcl(acl, DEFAULT_IDMAP)!;
    assert.deepEqual([0, 1, 2, 3].map((i) => shifted.readUInt32LE(8 + 8 * i)), [0xffffffff, 100004, 70000, 0xffffffff]);
    assert.equal(shiftedAcl(Buffer.from([2, 0, 0, 0]), DEFAULT_IDMAP), undefined, "nothing to change");
    assert.equal(shiftedAcl(Buffer.from([1, 0, 0, 0]), DEFAULT_IDMAP), undefined, "an unknown version is left alone");
  });
});

describe("a shifted rootfs's file capabilities", () => {
  /** cap_net_raw (bit 13) permitted, effective flag set: what `setcap cap_net_raw+ep` writes. */
  const v2 = Buffer.alloc(20);
  v2.writeUInt32LE(0x02000001, 0);
  v2.writeUInt32LE(1 << 13, 4);

  it("become revision 3, for the host uid of the container's root", () => {
    const v3 = shiftedFileCaps(v2, DEFAULT_IDMAP)!;
    assert.equal(v3.length, 24);
    assert.equal(v3.readUInt32LE(0), 0x03000001, "revision 3, effective kept");
    assert.equal(v3.readUInt32LE(4), 1 << 13, "the permitted set kept");
    assert.equal(v3.readUInt32LE(20), 100000);
  });

  it("of revision 3 have their root mapped; a value it does not know is left out", () => {
    const v3 = Buffer.alloc(24);
    v3.writeUInt32LE(0x03000000, 0);
    v3.writeUInt32LE(5, 20);
    assert.equal(shiftedFileCaps(v3, DEFAULT_IDMAP)!.readUInt32LE(20), 100005);
    v3.writeUInt32LE(70000, 20);
    assert.equal(shiftedFileCaps(v3, DEFAULT_IDMAP), undefined, "a root outside the map");
    assert.equal(shiftedFileCaps(v2.subarray(0, 12), DEFAULT_IDMAP), undefined, "a short value");
    assert.equal(shiftedFileCaps(Buffer.from([0, 0, 0, 1, ...Array(16).fill(0)]), DEFAULT_IDMAP), undefined, "revision 1");
  });
});

describe("create --unprivileged", () => {
  it("needs a template, and says what a config of one's own writes instead; nothing is made", () => {
    const dir = mkdtempSync(join(tmpdir(), "corral-unpriv-unit-"));
    try {
      const lxcpath = new LxcPath(dir);
      assert.throws(() => createContainer(lxcpath, { name: "c", config: "lxc.init.cmd = /bin/sh\n", unprivileged: true }),
        (e: Error) => e instanceof Refusal && e.code === "BAD_REQUEST" && /only with a template/.test(e.message) && e.message.includes("lxc.idmap = u 0 100000 65536"));
      assert.equal(existsSync(join(dir, "c")), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
