// What every room of the runtime shares: the host's syscalls and lxcpath, the journal of state
// changes, the reaper, and the two links between rooms (a run that ends may start the next one),
// wired once by the Runtime so that the rooms do not import each other in a circle.
import type { EventCause } from "@corral/core";
import type { Host } from "../host/host.ts";
import type { Syscalls } from "../sys/syscalls.ts";
import type { Hierarchy } from "./cgroup-hierarchies.ts";
import type { Instance } from "./instance.ts";
import type { StateJournal } from "./journal.ts";
import type { LxcPath } from "../containers/lxcpath.ts";
import type { Reaper } from "./reaper.ts";

export interface RuntimeContext {
  readonly sys: Syscalls;
  /** the host's files, programs and streams (src/host) */
  readonly host: Host;
  readonly lxcpath: LxcPath;
  readonly hierarchies: Hierarchy[];
  readonly journal: StateJournal;
  readonly reaper: Reaper;
  /** the kernel enforces AppArmor */
  readonly appArmor: boolean;
  /** a container's console printed something */
  consoleOutput(name: string, data: Buffer): void;
  /** lxc_fini, once an init that reached RUNNING has been reaped (fini.ts) */
  initExited(inst: Instance, status: number): Promise<void>;
  /** start again after a reboot (start.ts) */
  restart(inst: Instance, cause: EventCause): Promise<void>;
}
