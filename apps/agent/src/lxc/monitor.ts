// LXC's state monitor, the sending side (LXC 5.0 src/lxc/monitor.c, lxc_monitor_send_state):
// one `struct lxc_msg { int type; char name[256]; int value; }` per state change, written in one
// write to <rundir>/lxc/<lxcpath>/monitor-fifo (rundir is /run for root). lxc-monitor's daemon
// (lxc-monitord) reads that FIFO; when nobody does, the open fails with ENXIO or ENOENT and the
// message is simply not sent, as in LXC.
import { existsSync } from "node:fs";
import type { Syscalls } from "../sys/syscalls.ts";
import { expected } from "../errors.ts";

export const LXC_MSG_SIZE = 264;
export const LXC_MSG_STATE = 0;
export const LXC_MSG_EXIT_CODE = 2;

export function monitorFifoPath(lxcpath: string, rundir = "/run"): string {
  return `${rundir}/lxc/${lxcpath}/monitor-fifo`;
}

/** The 264-byte lxc_msg, little-endian, name NUL-padded (and cut to 255 bytes). Pure. */
export function encodeLxcMsg(type: number, name: string, value: number): Buffer {
  const msg = Buffer.alloc(LXC_MSG_SIZE);
  msg.writeInt32LE(type, 0);
  Buffer.from(name).copy(msg, 4, 0, 255);
  msg.writeInt32LE(value, 260);
  return msg;
}

export class MonitorFifo {
  private readonly path: string;

  constructor(private readonly sys: Syscalls, lxcpath: string) {
    this.path = monitorFifoPath(lxcpath);
  }

  sendState(name: string, state: number): void {
    this.send(encodeLxcMsg(LXC_MSG_STATE, name, state));
  }

  /** value is the raw wait status, as __lxc_start sends it */
  sendExitCode(name: string, status: number): void {
    this.send(encodeLxcMsg(LXC_MSG_EXIT_CODE, name, status));
  }

  private send(msg: Buffer): void {
    // Nobody listens unless lxc-monitord made the FIFO: skip the open then (every state change).
    if (!existsSync(this.path)) return;
    try {
      this.sys.fifoWrite(this.path, msg);
    } catch (e) {
      // A full FIFO means a stuck reader, no reader means lxc-monitord went: the state is stored anyway.
      expected(e, ["EAGAIN", "ENXIO", "EPIPE", "ENOENT"], `writing ${this.path}`);
    }
  }
}
