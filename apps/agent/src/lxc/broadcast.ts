// What LXC's own tools hear of a state change (start.c's lxc_set_state): the monitor FIFO message,
// and the command socket, opened at STARTING, telling its state clients, closed after STOPPED.
// Shared by the agent and by `corral run`.
import { stateNumber } from "@corral/core";
import type { StateChange } from "../runtime/runtime.ts";
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
