// A container's console: the master side of its pty, read by the agent into a ring buffer of the
// last 256 KiB, copied to lxc.console.logfile, and handed live to listeners.
import { randomBytes } from "node:crypto";
import type { HostFiles } from "../host/host.ts";
import { ReadStream } from "node:tty";
import type { Syscalls } from "../sys/syscalls.ts";
import { expected, unexpected } from "../errors.ts";

export const CONSOLE_RING_BYTES = 256 * 1024;

/** This process's part of every ring id: a ring of an earlier agent is never taken for one of ours. */
const RING_ID_PREFIX = randomBytes(4).toString("hex");
let ringsMade = 0;

/**
 * The newest `capacity` bytes written to it. A cursor ("<ring id>:<bytes written>") marks a
 * point in its output, so that a reader who comes back gets only what it missed.
 */
export class RingBuffer {
  /**
   * new for each run of the container: a cursor from another run means start over. A count, not
   * fresh random bytes: a start pays for no call into the crypto library.
   */
  readonly id = `${RING_ID_PREFIX}${(++ringsMade).toString(16)}`;
  private chunks: Buffer[] = [];
  private size = 0;
  private written = 0;

  constructor(private readonly capacity = CONSOLE_RING_BYTES) {}

  write(data: Buffer): void {
    this.chunks.push(data);
    this.size += data.length;
    this.written += data.length;
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

  /** The point after everything written so far. */
  cursor(): string {
    return `${this.id}:${this.written}`;
  }

  /**
   * What was written after `cursor`; or, for a cursor of another ring or older than what is
   * held, everything held, with `reset` (the reader starts over).
   */
  since(cursor: string | undefined): { reset: boolean; data: Buffer } {
    const m = cursor ? /^([0-9a-f]+):(\d+)$/.exec(cursor) : null;
    const offset = m && m[1] === this.id ? Number(m[2]) : -1;
    if (offset < this.written - this.size || offset > this.written) return { reset: true, data: this.contents() };
    return { reset: false, data: this.contents().subarray(this.size - (this.written - offset)) };
  }
}

export type ConsoleListener = (data: Buffer) => void;

/**
 * A container's console, as lxc-start keeps it: both ends of its pty stay open for the
 * container's whole life. The init may close its stdio (systemd does, early); if the agent held
 * no slave either, the pty would hang up: the master reads EIO, every console write in the
 * container stalls, and no getty can open /dev/console again.
 */
export class ConsoleCapture {
  /** the master's reader, made by read() */
  private stream: ReadStream | undefined;
  private readonly listeners = new Set<ConsoleListener>();
  private readonly closeListeners = new Set<() => void>();
  private closed = false;
  private slaveClosed = false;
  /** the log file could not be written once: said then, not at every chunk */
  private logfileFailed = false;

  constructor(
    private readonly files: HostFiles,
    readonly masterFd: number,
    /** our copy of the slave, closed only with the console */
    private readonly slaveFd: number,
    readonly ring: RingBuffer,
    private readonly logfile?: string,
  ) {}

  /**
   * Start reading the master. A start calls it once the child is cloned: what the child writes
   * before waits in the pty, and making the reader (a libuv handle, some 80 µs) overlaps with the
   * child's setup instead of standing before the clone.
   */
  read(): void {
    if (this.stream || this.closed) return;
    this.stream = new ReadStream(this.masterFd);
    this.stream.on("data", (chunk: Buffer) => this.onData(chunk));
    // EIO: the pty hung up, which only happens once our slave is closed too.
    this.stream.on("error", () => this.close());
  }

  private onData(chunk: Buffer): void {
    this.ring.write(chunk);
    if (this.logfile) {
      try {
        this.files.appendBytes(this.logfile, chunk);
      } catch (e) {
        // A full or missing log disk must not take the console down; said once a console.
        if (!this.logfileFailed) unexpected(`writing the console log ${this.logfile}`, e);
        this.logfileFailed = true;
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
      this.files.write(this.masterFd, typeof data === "string" ? Buffer.from(data) : data);
    } catch (e) {
      expected(e, ["EIO", "EBADF"], "typing into a console"); // it went away between the check and the write
    }
  }

  /** Be told once the console has ended; returns the unsubscribe. */
  onClose(listener: () => void): () => void {
    if (this.closed) listener();
    else this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  /**
   * End the console once the container has: let our slave go and read what the pty still holds
   * until it hangs up (the init's last words, written just before it died), then close. Bounded,
   * in case something outside the container still holds the slave.
   */
  drain(timeoutMs = 1000): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closeSlave();
    // never read: no child got the slave (a start that failed before its clone)
    if (!this.stream) {
      this.close();
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.close(), timeoutMs);
      this.onClose(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    // the reader owns the master once made
    if (this.stream) this.stream.destroy();
    else this.files.close(this.masterFd);
    this.closeSlave();
    for (const l of this.closeListeners) l();
    this.closeListeners.clear();
  }

  private closeSlave(): void {
    if (this.slaveClosed) return;
    this.slaveClosed = true;
    this.files.close(this.slaveFd);
  }
}

/** Console output a proxy client has not read yet beyond this is dropped, never buffered without end. */
const PROXY_MAX_PENDING = 1024 * 1024;

/**
 * A second terminal on a container's console, as LXC's terminal proxy gives lxc-console: the
 * client gets the master of a new pty, whose slave (raw) is `slaveFd`. What the console prints is
 * written to the slave; what the client types is read from it and typed into the console. It ends
 * when the client closes its master (EIO here), when close() is called (the client's command
 * connection closed), or when the console ends.
 */
export class ConsoleProxy {
  private readonly stream: ReadStream;
  private readonly unsubscribe: Array<() => void> = [];
  private closed = false;

  constructor(private readonly files: HostFiles, console: ConsoleCapture, private readonly slaveFd: number) {
    // libuv reads and writes the slave through its own reopened fd; slaveFd stays ours to close.
    this.stream = new ReadStream(slaveFd);
    this.stream.on("data", (chunk: Buffer) => console.write(chunk));
    this.stream.on("error", () => this.close());
    this.stream.on("end", () => this.close());
    this.unsubscribe.push(console.subscribe((data) => this.forward(data)));
    // last: a console that has ended already closes the proxy at once
    this.unsubscribe.push(console.onClose(() => this.close()));
  }

  private forward(data: Buffer): void {
    if (this.closed || this.stream.writableLength > PROXY_MAX_PENDING) return;
    this.stream.write(data);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const off of this.unsubscribe) off();
    this.stream.destroy();
    try {
      this.files.close(this.slaveFd);
    } catch (e) {
      expected(e, ["EBADF"], "closing a console proxy"); // already closed
    }
  }
}

/**
 * A terminal lent to an lxc-console client: `fd` is sent to it, then afterSend() runs; release()
 * when its command connection closes.
 */
export interface LentTerminal {
  ttynum: number;
  fd: number;
  afterSend(): void;
  release(): void;
}

/**
 * A container's ttys (lxc.tty.max), as lxc-start keeps them: pty pairs made before clone, whose
 * slaves the child binds on /dev/tty1..N. The agent holds both ends while the container runs
 * (with no slave open a master reads as hung up, and lxc-console would leave at once when no
 * getty has the tty open) and lends a master to one lxc-console client at a time.
 */
export class TtySet {
  private readonly ttys: Array<{ master: number; slave: number; busy: boolean }> = [];

  constructor(private readonly sys: Syscalls, count: number) {
    try {
      for (let i = 0; i < count; i++) {
        const { master, slave } = sys.openpty();
        this.ttys.push({ master, slave, busy: false });
      }
    } catch (e) {
      this.close();
      throw e;
    }
  }

  /** The slave fds, tty1 first, for the child to bind. */
  slaves(): number[] {
    return this.ttys.map((t) => t.slave);
  }

  /**
   * Lend tty `ttynum` (1..N) if it is free, or for a negative number the first free one
   * (lxc_terminal_allocate); release() gives it back when the client's connection closes.
   */
  lend(ttynum: number): { ttynum: number; master: number; release(): void } | undefined {
    const index = ttynum < 0 ? this.ttys.findIndex((t) => !t.busy) : ttynum - 1;
    const tty = this.ttys[index];
    if (!tty || tty.busy) return undefined;
    tty.busy = true;
    return { ttynum: index + 1, master: tty.master, release: () => void (tty.busy = false) };
  }

  close(): void {
    for (const t of this.ttys) {
      this.sys.close(t.master);
      this.sys.close(t.slave);
    }
    this.ttys.length = 0;
  }
}
