// A cgroup per container, on cgroup v1, v2, or both (a hybrid host: v1 controllers and a v2
// hierarchy beside them). Runs in the host's namespaces: every path here is on the host.
import { join } from "node:path";
import { SIGKILL } from "@corral/core";
import type { HostFiles } from "../host/host.ts";
import type { Syscalls } from "../sys/syscalls.ts";
import { SyscallError } from "../sys/syscalls.ts";
import { errorCode, expected } from "../errors.ts";
import { CgroupError, type CgroupWrite, type Hierarchy } from "./cgroup-hierarchies.ts";

/** One container's cgroup: a directory of the same name in every hierarchy it joins. */
export class ContainerCgroup {
  readonly dirs: string[];

  constructor(
    private readonly sys: Syscalls,
    private readonly files: HostFiles,
    private readonly hierarchies: readonly Hierarchy[],
    readonly name: string,
  ) {
    this.dirs = hierarchies.map((h) => join(h.mountPoint, name));
  }

  /**
   * Create the directories (cpuset needs cpus and mems copied from the parent first). On failure
   * only the directories made here are removed: an existing one may be another container's.
   */
  create(): void {
    const made: string[] = [];
    try {
      for (const [i, h] of this.hierarchies.entries()) {
        const dir = this.dirs[i]!;
        this.files.mkdir(dir);
        made.push(dir);
        if (h.version === 1 && h.controllers.includes("cpuset")) {
          for (const f of ["cpuset.cpus", "cpuset.mems"]) {
            const parentValue = this.files.readText(join(h.mountPoint, f)).trim();
            this.sys.writeFile(join(dir, f), parentValue);
          }
        }
      }
    } catch (e) {
      for (const dir of made.reverse()) removeTree(this.files, dir);
      throw e;
    }
  }

  /**
   * Hand the cgroup to the root of an unprivileged container, as LXC does (cgfsng's
   * chown_cgroup_wrapper): its directories (so it can make a subtree) and the files that move
   * processes (cgroup.procs, tasks on v1) and delegate on v2 (the kernel's
   * /sys/kernel/cgroup/delegate list). The limits stay the host's. A file this hierarchy lacks
   * (memory.oom.group without the memory controller) is skipped.
   */
  delegate(uid: number, gid: number): void {
    const v2Files = this.delegatedV2Files();
    for (const [i, dir] of this.dirs.entries()) {
      const names = this.hierarchies[i]!.version === 2 ? v2Files : ["cgroup.procs", "tasks"];
      this.files.chown(dir, uid, gid);
      for (const name of names) {
        try {
          this.files.chown(join(dir, name), uid, gid);
        } catch (e) {
          expected(e, ["ENOENT"], `delegating ${join(dir, name)}`);
        }
      }
    }
  }

  private delegatedV2Files(): string[] {
    try {
      return this.files.readSmall("/sys/kernel/cgroup/delegate").split("\n").filter(Boolean);
    } catch (e) {
      expected(e, ["ENOENT"], "reading /sys/kernel/cgroup/delegate"); // a kernel before 4.15
      return ["cgroup.procs", "cgroup.threads", "cgroup.subtree_control"];
    }
  }

  apply(writes: readonly CgroupWrite[]): void {
    for (const w of writes) {
      const path = join(w.hierarchy.mountPoint, this.name, w.file);
      try {
        this.sys.writeFile(path, w.value);
      } catch (e) {
        throw new CgroupError(`cgroup setting ${w.file} = ${w.value} refused: ${(e as Error).message}`, e);
      }
    }
  }

  /**
   * The cgroup's path as liblxc's get_cgroup/get_limit_cgroup answer it (relative to the mount of
   * the hierarchy that holds `controller`; no controller: the v2 hierarchy), or undefined when
   * the container is in no such hierarchy.
   */
  pathFor(controller?: string): string | undefined {
    return this.dirFor(controller) ? `/${this.name}` : undefined;
  }

  /** The directory in the hierarchy that holds `controller` (none: the v2 one), and its version. */
  dirFor(controller?: string): { dir: string; version: 1 | 2 } | undefined {
    const i = this.hierarchies.findIndex((h) => (controller === undefined ? h.version === 2 : h.controllers.includes(controller)));
    return i < 0 ? undefined : { dir: this.dirs[i]!, version: this.hierarchies[i]!.version };
  }

  hasV2(): boolean {
    return this.hierarchies.some((h) => h.version === 2);
  }

  /** The cgroup v2 directory, opened for CLONE_INTO_CGROUP. */
  openV2(): number {
    const i = this.hierarchies.findIndex((h) => h.version === 2);
    if (i < 0) throw new CgroupError("no cgroup v2 hierarchy to open");
    return this.files.openDirectory(this.dirs[i]!);
  }

  /** Is there a hierarchy the child was not born into? */
  needsAttach(bornInV2: boolean): boolean {
    return this.hierarchies.some((h) => !(bornInV2 && h.version === 2));
  }

  /** Move `pid` into every hierarchy it was not born into (v1; v2 too when `bornInV2` is false). */
  attach(pid: number, bornInV2: boolean): void {
    for (const [i, dir] of this.dirs.entries()) {
      if (bornInV2 && this.hierarchies[i]!.version === 2) continue;
      this.sys.writeFile(join(dir, "cgroup.procs"), String(pid));
    }
  }

  /** Every pid in the cgroup (from the first hierarchy that lists any). */
  pids(): number[] {
    for (const dir of this.dirs) {
      try {
        const pids = this.files.readText(join(dir, "cgroup.procs")).split("\n").filter(Boolean).map(Number);
        if (pids.length > 0) return pids;
      } catch (e) {
        expected(e, ["ENOENT", "ENODEV"], `listing ${dir}`); // gone already
      }
    }
    return [];
  }

  /**
   * How many processes the OOM killer killed in the cgroup: oom_kill of memory.events (v2) or
   * memory.oom_control (v1), in the hierarchy that holds the memory controller; 0 where none does.
   */
  oomKills(): number {
    const memory = this.dirFor("memory");
    if (!memory) return 0;
    const text = this.files.readText(join(memory.dir, memory.version === 2 ? "memory.events" : "memory.oom_control"));
    return Number(/^oom_kill (\d+)$/m.exec(text)?.[1] ?? 0);
  }

  /** SIGKILL the whole cgroup at once: cgroup.kill on v2, every listed pid on v1. */
  killAll(): void {
    const v2 = this.hierarchies.findIndex((h) => h.version === 2);
    const killFile = v2 >= 0 ? join(this.dirs[v2]!, "cgroup.kill") : undefined;
    if (killFile && this.files.exists(killFile)) {
      this.sys.writeFile(killFile, "1");
      return;
    }
    for (const pid of this.pids()) {
      try {
        this.sys.kill(pid, SIGKILL);
      } catch (e) {
        if (!(e instanceof SyscallError && e.code === "ESRCH")) throw e;
      }
    }
  }

  private freezer(): { kind: "v1" | "v2"; dir: string } | undefined {
    const i1 = this.hierarchies.findIndex((h) => h.version === 1 && h.controllers.includes("freezer"));
    if (i1 >= 0) return { kind: "v1", dir: this.dirs[i1]! };
    const i2 = this.hierarchies.findIndex((h) => h.version === 2);
    if (i2 >= 0 && this.files.exists(join(this.dirs[i2]!, "cgroup.freeze"))) return { kind: "v2", dir: this.dirs[i2]! };
    return undefined;
  }

  /** The v2 directory, when the v2 `cgroup.freeze` is the freezer corral uses for it. */
  freezerV2Dir(): string | undefined {
    const f = this.freezer();
    return f?.kind === "v2" ? f.dir : undefined;
  }

  /** Ask the freezer to freeze or thaw; true once the kernel reports it done. */
  setFrozen(frozen: boolean): void {
    const f = this.freezer();
    if (!f) throw new CgroupError("no cgroup freezer on this host");
    if (f.kind === "v1") this.sys.writeFile(join(f.dir, "freezer.state"), frozen ? "FROZEN" : "THAWED");
    else this.sys.writeFile(join(f.dir, "cgroup.freeze"), frozen ? "1" : "0");
  }

  isFrozen(): boolean {
    const f = this.freezer();
    if (!f) return false;
    if (f.kind === "v1") return this.files.readText(join(f.dir, "freezer.state")).trim() === "FROZEN";
    return /^frozen 1$/m.test(this.files.readText(join(f.dir, "cgroup.events")));
  }

  /**
   * Remove the cgroup. Once the init is reaped its PID namespace is empty and this succeeds at
   * once; a process that entered the cgroup from outside is killed, and the removal retried for
   * a while without blocking the event loop. False if the cgroup is still there.
   */
  async remove(): Promise<boolean> {
    for (let i = 0; i < 100; i++) {
      if (this.destroy()) return true;
      try {
        this.killAll();
      } catch (e) {
        expected(e, ["ENOENT", "ENODEV"], `killing what is left in ${this.name}`); // gone meanwhile
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    return false;
  }

  /** Remove every directory (children first), once. False if some are still busy. */
  destroy(): boolean {
    let clean = true;
    for (const dir of this.dirs) clean = removeTree(this.files, dir) && clean;
    return clean;
  }
}

function removeTree(files: HostFiles, dir: string): boolean {
  // Most cgroups have no children: try the rmdir first, and look inside only if it fails.
  try {
    files.rmdir(dir);
    return true;
  } catch (e) {
    const code = errorCode(e);
    if (code === "ENOENT") return true;
    if (code !== "ENOTEMPTY" && code !== "EBUSY") return false;
  }
  let clean = true;
  for (const entry of files.readdir(dir)) {
    if (entry.isDirectory) clean = removeTree(files, join(dir, entry.name)) && clean;
  }
  try {
    files.rmdir(dir);
  } catch (e) {
    if (errorCode(e) === "ENOENT") return clean;
    expected(e, ["EBUSY", "ENOTEMPTY"], `removing ${dir}`);
    return false;
  }
  return clean;
}

/** corral-NAME, then corral-NAME-1, -2, ... as LXC picks lxc.payload.NAME-N. */
function cgroupName(container: string, n: number): string {
  return n === 0 ? `corral-${container}` : `corral-${container}-${n}`;
}

/**
 * The name the container's cgroup will get: the first whose directory exists in none of the
 * hierarchies. Known before anything is made, so STARTING can record it and a restarted agent
 * can remove a cgroup left by a start it did not finish.
 */
export function freeCgroupName(files: HostFiles, hierarchies: readonly Hierarchy[], container: string): string {
  for (let n = 0; n < 1000; n++) {
    const name = cgroupName(container, n);
    if (!hierarchies.some((h) => files.exists(join(h.mountPoint, name)))) return name;
  }
  throw new CgroupError(`no free cgroup name for ${container}`);
}

/** `preferred`, then LXC's sequence of names; made one at a time (the first is nearly always free). */
function* candidateNames(container: string, preferred: string | undefined): Generator<string> {
  if (preferred) yield preferred;
  for (let n = 0; n < 1000; n++) yield cgroupName(container, n);
}

/**
 * Create a container's cgroup, under `preferred` (from freeCgroupName) or, if another lxcpath
 * took that name meanwhile, the next free one.
 */
export function createContainerCgroup(sys: Syscalls, files: HostFiles, hierarchies: readonly Hierarchy[], container: string, preferred?: string): ContainerCgroup {
  for (const name of candidateNames(container, preferred)) {
    const cgroup = new ContainerCgroup(sys, files, hierarchies, name);
    try {
      cgroup.create();
      return cgroup;
    } catch (e) {
      if (errorCode(e) !== "EEXIST") throw e;
    }
  }
  throw new CgroupError(`no free cgroup name for ${container}`);
}
