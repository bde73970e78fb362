// The host's cgroup hierarchies and where a container's settings go in them: v1, v2, or both (a
// hybrid host: v1 controllers and a v2 hierarchy beside them). Pure but for detectHierarchies,
// which reads the host's mountinfo. cgroups.ts makes and removes the directories.
import { join } from "node:path";
import type { CgroupSetting } from "@corral/core";
import type { HostFiles } from "../host/host.ts";
import { expected } from "../errors.ts";

export interface Hierarchy {
  version: 1 | 2;
  mountPoint: string;
  /** v1: the controllers bound here (and "name=systemd" style names); v2: those enabled at the root */
  controllers: string[];
}

export class CgroupError extends Error {
  constructor(message: string, override readonly cause?: unknown) {
    super(message);
    this.name = "CgroupError";
  }
}

/** The cgroup hierarchies mounted on this host, from a /proc/self/mountinfo text. Pure. */
export function parseHierarchies(mountinfo: string, v2Controllers: (mountPoint: string) => string[]): Hierarchy[] {
  const found: Hierarchy[] = [];
  for (const line of mountinfo.split("\n")) {
    const [left, right] = line.split(" - ");
    if (!left || !right) continue;
    const mountPoint = left.split(" ")[4];
    const [fstype, , superOptions = ""] = right.split(" ");
    if (!mountPoint || found.some((h) => h.mountPoint === mountPoint)) continue;
    if (fstype === "cgroup2") found.push({ version: 2, mountPoint, controllers: v2Controllers(mountPoint) });
    if (fstype === "cgroup") {
      const controllers = superOptions.split(",").filter((o) => o !== "rw" && o !== "ro" && !o.startsWith("release_agent") && o !== "clone_children" && o !== "noprefix" && o !== "xattr");
      found.push({ version: 1, mountPoint, controllers });
    }
  }
  return found;
}

export function detectHierarchies(files: HostFiles): Hierarchy[] {
  return parseHierarchies(files.readText("/proc/self/mountinfo"), (mp) => {
    try {
      return files.readText(join(mp, "cgroup.subtree_control")).trim().split(/\s+/).filter(Boolean);
    } catch (e) {
      expected(e, ["ENOENT"], `reading ${mp}/cgroup.subtree_control`); // a v1 hierarchy has none
      return [];
    }
  });
}

/** LXC's name for a host's cgroup layout: v1 only, v1 beside v2, or v2 only. */
export type CgroupLayout = "legacy" | "hybrid" | "unified";

export function layoutOf(hierarchies: readonly Hierarchy[]): CgroupLayout {
  const v1 = hierarchies.some((h) => h.version === 1);
  const v2 = hierarchies.some((h) => h.version === 2);
  return v1 && v2 ? "hybrid" : v1 ? "legacy" : "unified";
}

/** Where a setting is written: hierarchy and file, and the value to write. */
export interface CgroupWrite {
  hierarchy: Hierarchy;
  file: string;
  value: string;
}

/** lxc.cgroup2 keys that have a v1 twin, for hosts whose controllers are still on v1. */
function translateToV1(key: string, value: string): Array<{ file: string; value: string }> | undefined {
  const max = (v: string) => (v.trim() === "max" ? "-1" : v.trim());
  switch (key) {
    case "memory.max": return [{ file: "memory.limit_in_bytes", value: max(value) }];
    case "memory.high": return [{ file: "memory.soft_limit_in_bytes", value: max(value) }];
    case "pids.max": return [{ file: "pids.max", value: value.trim() }];
    case "cpu.weight": return [{ file: "cpu.shares", value: String(Math.max(2, Math.round((Number(value) * 1024) / 100))) }];
    case "cpu.max": {
      const [quota = "max", period = "100000"] = value.trim().split(/\s+/);
      return [{ file: "cpu.cfs_period_us", value: period }, { file: "cpu.cfs_quota_us", value: max(quota) }];
    }
    case "cpuset.cpus": case "cpuset.mems": case "devices.allow": case "devices.deny":
      return [{ file: key, value }];
    default: return undefined;
  }
}

/**
 * Plan where each lxc.cgroup.* / lxc.cgroup2.* setting goes on this host. Pure. A setting that
 * cannot be honoured here is an error naming it, never dropped.
 */
export function planCgroupWrites(settings: readonly CgroupSetting[], hierarchies: readonly Hierarchy[]): CgroupWrite[] {
  const v1 = (controller: string) => hierarchies.find((h) => h.version === 1 && h.controllers.includes(controller));
  const v2 = hierarchies.find((h) => h.version === 2);
  const writes: CgroupWrite[] = [];
  for (const s of settings) {
    const controller = s.key.split(".")[0] ?? "";
    const prefix = s.version === 1 ? "lxc.cgroup" : "lxc.cgroup2";
    if (s.version === 1) {
      const h = v1(controller);
      if (!h) {
        // LXC ignores v1 keys on a pure v2 host too; corral says so instead of staying silent.
        throw new CgroupError(`${prefix}.${s.key}: no cgroup v1 "${controller}" controller is mounted on this host (use lxc.cgroup2.*)`);
      }
      writes.push({ hierarchy: h, file: s.key, value: s.value });
      continue;
    }
    if (v2 && (v2.controllers.includes(controller) || controller === "cgroup") && controller !== "devices") {
      writes.push({ hierarchy: v2, file: s.key, value: s.value });
      continue;
    }
    const twin = translateToV1(s.key, s.value);
    const h = v1(controller);
    if (twin && h) {
      for (const t of twin) writes.push({ hierarchy: h, file: t.file, value: t.value });
      continue;
    }
    throw new CgroupError(`${prefix}.${s.key}: the "${controller}" controller is not available on this host's cgroup v2 hierarchy` +
      (controller === "devices" ? " (device rules on pure cgroup v2 need an eBPF program, which corral does not load)" : ""));
  }
  return writes;
}

/** On a host without a cgroup v2 hierarchy, the v1 controllers every container joins. */
const BASE_V1_CONTROLLERS = ["memory", "pids", "freezer"];

/**
 * The hierarchies a container joins. With a cgroup v2 hierarchy (pure v2 or hybrid), that one,
 * which alone gives process tracking (cgroup.procs), killing (cgroup.kill) and freezing
 * (cgroup.freeze), and which the child is born into (CLONE_INTO_CGROUP); plus, on a hybrid host,
 * the v1 hierarchy of each controller a lxc.cgroup(2) key names. Without v2: the v1 hierarchies
 * of memory, pids and freezer and those the keys name. Every v1 hierarchy joined costs a
 * migration (the child's pid written to cgroup.procs), which makes the kernel wait for an RCU
 * grace period, about 1 ms per start here: corral joins none that nothing asks for. Pure.
 */
export function hierarchiesFor(settings: readonly CgroupSetting[], hierarchies: readonly Hierarchy[]): Hierarchy[] {
  const hasV2 = hierarchies.some((h) => h.version === 2);
  const named = settings.map((s) => s.key.split(".")[0]!);
  const wanted = new Set(hasV2 ? named : [...BASE_V1_CONTROLLERS, ...named]);
  return hierarchies.filter((h) => h.version === 2 || h.controllers.some((c) => wanted.has(c)));
}
