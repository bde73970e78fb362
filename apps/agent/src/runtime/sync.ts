// The parent side of the sync protocol with the container's child (native/executor.c speaks the
// child side). Messages are 12 bytes: int32 type, int32 a, int32 b, little-endian, on a
// SOCK_STREAM pair (Node cannot wrap a SEQPACKET fd), framed by their fixed size.
//
//   parent -> child    ID_MAPPED             uid and gid maps written (a user namespace only; sent by
//                                            native/spawn.c right after the clone, before Node runs again)
//   child  -> parent   CONFIGURE             in its namespaces, waiting (start.c: START_SYNC_CONFIGURE)
//   parent -> child    POST_CONFIGURE        cgroup attached, network moved in (START_SYNC_POST_CONFIGURE)
//   child  -> parent   ERROR(op index, errno) an op failed; the child exits 127
//   child  -> parent   STARTED(s, ns)        the child's first op, CLOCK_MONOTONIC
//   child  -> parent   SETUP_DONE(s, ns)     the child is about to execve
//   EOF                                      execve succeeded (the socket is close-on-exec)
// CONFIGURE and POST_CONFIGURE are only in plans whose parent has work in between (a cgroup v1
// attach, veths to move in): otherwise the child runs straight through.
import type { Duplex } from "node:stream";

export enum SyncMessage {
  Configure = 1,
  PostConfigure = 2,
  Error = 3,
  Started = 4,
  SetupDone = 5,
  IdMapped = 6,
}

/** A STAMP message's moment as milliseconds of CLOCK_MONOTONIC, comparable with monotonicMs(). */
export function stampMs(seconds: number, nanoseconds: number): number {
  return seconds * 1000 + nanoseconds / 1e6;
}

/** Now, in milliseconds of CLOCK_MONOTONIC (process.hrtime's clock). */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export type SyncEvent =
  /** `message`: a SyncMessage, as the child sent it (an unknown number is a protocol error) */
  | { type: "message"; message: number; a: number; b: number }
  | { type: "eof" };

/** The parent's end of the sync socket, read without blocking the event loop. */
export class SyncChannel {
  private readonly queue: SyncEvent[] = [];
  private waiter: ((e: SyncEvent) => void) | undefined;
  private buffered = Buffer.alloc(0);

  /** `socket`: a stream on the parent's end of the socketpair (Host.streams.socket) */
  constructor(private readonly socket: Duplex) {
    this.socket.on("data", (chunk: Buffer) => this.onData(chunk));
    this.socket.on("end", () => this.push({ type: "eof" }));
    this.socket.on("close", () => this.push({ type: "eof" }));
    this.socket.on("error", () => this.push({ type: "eof" }));
  }

  private onData(chunk: Buffer): void {
    this.buffered = Buffer.concat([this.buffered, chunk]);
    while (this.buffered.length >= 12) {
      this.push({
        type: "message",
        message: this.buffered.readInt32LE(0),
        a: this.buffered.readInt32LE(4),
        b: this.buffered.readInt32LE(8),
      });
      this.buffered = this.buffered.subarray(12);
    }
  }

  private push(e: SyncEvent): void {
    const w = this.waiter;
    if (w) {
      this.waiter = undefined;
      w(e);
    } else if (e.type !== "eof" || !this.queue.some((q) => q.type === "eof")) {
      this.queue.push(e);
    }
  }

  /** The next message or EOF. */
  next(): Promise<SyncEvent> {
    const e = this.queue.shift();
    if (e) return Promise.resolve(e);
    return new Promise((resolve) => (this.waiter = resolve));
  }

  send(message: SyncMessage): void {
    const b = Buffer.alloc(12);
    b.writeInt32LE(message, 0);
    this.socket.write(b);
  }

  close(): void {
    this.socket.destroy();
  }
}
