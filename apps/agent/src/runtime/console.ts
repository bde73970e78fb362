// A container's console: the master side of its pty, read by the agent into a ring buffer of the
// last 256 KiB, copied to lxc.console.logfile, and handed live to listeners.
import { appendFileSync, writeSync } from "node:fs";
import { ReadStream } from "node:tty";

export const CONSOLE_RING_BYTES = 256 * 1024;

/** The newest `capacity` bytes written to it. */
export class RingBuffer {
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly capacity = CONSOLE_RING_BYTES) {}

  write(data: Buffer): void {
    this.chunks.push(data);
    this.size += data.length;
    while (this.size > this.capacity && this.chunks.length > 0) {
      const first = this.chunks[0]!;
      const excess = this.size - this.capacity;
      if (first.length <= excess) {
        this.chunks.shift();
        this.size -= first.length;
      } else {
        this.chunks[0] = first.subarray(excess);
        this.size -= excess;
      }
    }
  }

  contents(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

export type ConsoleListener = (data: Buffer) => void;

export class ConsoleCapture {
  private readonly stream: ReadStream;
  private readonly listeners = new Set<ConsoleListener>();
  private closed = false;

  constructor(
    readonly masterFd: number,
    readonly ring: RingBuffer,
    private readonly logfile?: string,
  ) {
    this.stream = new ReadStream(masterFd);
    this.stream.on("data", (chunk: Buffer) => this.onData(chunk));
    // EIO once the last slave closes: the console simply ended.
    this.stream.on("error", () => this.close());
  }

  private onData(chunk: Buffer): void {
    this.ring.write(chunk);
    if (this.logfile) {
      try {
        appendFileSync(this.logfile, chunk);
      } catch {
        // A full or missing log disk must not take the console down.
      }
    }
    for (const l of this.listeners) l(chunk);
  }

  subscribe(listener: ConsoleListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Type into the console, as a keyboard on the container's terminal would. */
  write(data: string | Buffer): void {
    if (this.closed) return;
    try {
      writeSync(this.masterFd, typeof data === "string" ? Buffer.from(data) : data);
    } catch {
      // The console went away between the check and the write.
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stream.destroy();
  }
}
