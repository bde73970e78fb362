// What LXC's own tools hear of a state change (start.c's lxc_set_state): the monitor FIFO message,
// and the command socket, opened at STARTING, telling its state clients, closed after STOPPED.
// Shared by the agent and by `corral run`.
import { stateNumber } from "@corral/core";
import { layoutOf } from "../runtime/cgroup-hierarchies.ts";
import type { Runtime, StateChange } from "../runtime/runtime.ts";
import type { Syscalls } from "../sys/syscalls.ts";
import { CommandSockets, type CommandTarget } from "./commands.ts";
import { MonitorFifo } from "./monitor.ts";

export class LxcBroadcast {
  private readonly monitor: MonitorFifo;
  private readonly sockets: CommandSockets;

  constructor(sys: Syscalls, lxcpath: string, target: CommandTarget) {
    this.monitor = new MonitorFifo(sys, lxcpath);
    this.sockets = new CommandSockets(sys, lxcpath, target);
  }

  onState(change: StateChange): void {
    if (change.state === "STARTING") this.sockets.open(change.container);
    this.monitor.sendState(change.container, stateNumber(change.state));
    this.sockets.stateChanged(change.container, change.state);
    if (change.state === "STOPPED") {
      if (change.detail.exitStatus !== undefined) this.monitor.sendExitCode(change.container, change.detail.exitStatus);
      this.sockets.close(change.container);
    }
  }

  close(): void {
    this.sockets.closeAll();
  }
}

/**
 * What LXC's commands ask of a container, answered by the runtime (a getter: the runtime is made
 * after the broadcast whose onState it calls). LXC_CMD_STOP kills at once: lxc-stop sends it for
 * -k, or after its own halt signal timed out.
 */
export function runtimeCommandTarget(runtime: () => Runtime): CommandTarget {
  return {
    state: (name) => runtime().state(name),
    initPid: (name) => runtime().initPid(name),
    cgroupPath: (name, controller) => runtime().cgroupOf(name)?.pathFor(controller),
    runningConfigItem: (name, key) => runtime().runningConfigItem(name, key),
    cgroupDirs: (name) => {
      const cgroup = runtime().cgroupOf(name);
      return cgroup && { layout: layoutOf(runtime().hierarchies), dirs: cgroup.dirs };
    },
    openTerminal: (name, ttynum) => runtime().openTerminal(name, ttynum),
    freezerCgroup2Dir: (name) => runtime().cgroupOf(name)?.freezerV2Dir(),
    cgroupDirFor: (name, controller) => runtime().cgroupOf(name)?.dirFor(controller),
    noteState: (name, state) => runtime().noteFreezer(name, state, { actor: "lxc", request: state === "FREEZING" || state === "FROZEN" ? "lxc-freeze" : "lxc-unfreeze" }),
    stop: (name) => runtime().stop(name, { cause: { actor: "lxc", request: "lxc-stop" }, timeoutMs: 0 }),
  };
}
