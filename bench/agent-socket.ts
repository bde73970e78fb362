// A lean long-lived client of the agent's WebSocket API, speaking tRPC's WebSocket messages
// directly ({id, method, params: {path, input, lastEventId}} out; {id, result|error} back).
// tRPC's own wsLink waits a timer tick (setTimeout 0, about 1 ms in Node) before it sends a call,
// to batch calls made in the same tick: the bench measures the agent, not that wait.
import WebSocket from "ws";

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };
/** `t`: when the message arrived (ms since the epoch), stamped as ws handed it over. */
type Subscriber = { onData: (id: string | undefined, data: unknown, t: number) => void; onError: (e: Error) => void };

interface Reply {
  id: number;
  result?: { type: "data" | "started" | "stopped"; data?: unknown; id?: string };
  error?: { message: string; data?: unknown };
}

export class AgentSocket {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly subscribers = new Map<number, Subscriber>();
  /** Messages kept unread, with their arrival times, until drain() (a deferred socket). */
  private readonly unread = new UnreadLog();

  /**
   * `deferred`: each message is only stamped and kept as it arrives, and read when drain() is
   * called: a subscriber of the fan-out measures when the agent's message reached it, not how
   * long its own process, sharing the cores, took to parse the ones before.
   */
  private constructor(private readonly ws: WebSocket, private readonly deferred: boolean) {
    ws.on("message", (raw) => {
      const t = performance.timeOrigin + performance.now();
      // ws hands a text or binary message over as one Buffer (binaryType "nodebuffer").
      const data = raw as Buffer;
      // The server's keep-alive: answer it, or it closes the connection.
      if (data.length === 4 && data.toString("latin1") === "PING") { ws.send("PONG"); return; }
      if (deferred) this.unread.push(data, t);
      else this.read(data, t);
    });
    ws.on("close", () => {
      const err = new Error("the agent closed the connection");
      for (const p of this.pending.values()) p.reject(err);
      for (const s of this.subscribers.values()) s.onError(err);
    });
  }

  private read(data: Buffer, t: number): void {
    const text = data.toString("utf8");
    if (text !== "PONG") this.onMessage(JSON.parse(text) as Reply | Reply[], t);
  }

  /** Reads the messages a deferred socket kept, in the order they came. */
  drain(): void {
    this.unread.drain((data, t) => this.read(data, t));
  }

  static open(url: string, token: string, opts: { deferred?: boolean } = {}): Promise<AgentSocket> {
    const ws = new WebSocket(`${url.replace(/^http/, "ws")}/trpc`, { headers: { authorization: `Bearer ${token}`, "x-corral-actor": "bench" } });
    return new Promise((resolve, reject) => {
      ws.once("open", () => resolve(new AgentSocket(ws, opts.deferred ?? false)));
      ws.once("error", reject);
    });
  }

  private onMessage(msg: Reply | Reply[], t: number): void {
    for (const m of Array.isArray(msg) ? msg : [msg]) {
      const sub = this.subscribers.get(m.id);
      if (sub) {
        if (m.error) sub.onError(new Error(m.error.message));
        else if (m.result?.type === "data") {
          // A tracked() item arrives as {id, data} inside the result's data.
          const tracked = m.result.data as { id?: string; data?: unknown };
          sub.onData(tracked.id ?? m.result.id, tracked.data, t);
        }
        continue;
      }
      const p = this.pending.get(m.id);
      if (!p) continue;
      this.pending.delete(m.id);
      if (m.error) p.reject(new Error(m.error.message));
      else p.resolve(m.result?.data);
    }
  }

  call<T = unknown>(method: "query" | "mutation", path: string, input?: unknown): Promise<T> {
    const id = this.nextId++;
    this.ws.send(JSON.stringify({ id, method, params: { path, input } }));
    return new Promise((resolve, reject) => this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject }));
  }

  subscribe(path: string, input: unknown, lastEventId: string | undefined, subscriber: Subscriber): () => void {
    const id = this.nextId++;
    this.subscribers.set(id, subscriber);
    this.ws.send(JSON.stringify({ id, method: "subscription", params: { path, input, lastEventId } }));
    return () => {
      this.subscribers.delete(id);
      if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ id, method: "subscription.stop" }));
    };
  }

  close(): void {
    this.ws.close();
  }
}

/**
 * A deferred socket's messages, copied into large off-heap buffers with their arrival times in a
 * typed array: ws's Buffer for each message dies young. Kept as 40,000 Buffers, they were copied
 * by every scavenge of the subscribers' process (pauses of several ms in the middle of the
 * arrivals it was timing).
 */
class UnreadLog {
  private static readonly CHUNK = 8 * 1024 * 1024;
  private readonly chunks: Buffer[] = [];
  private used = UnreadLog.CHUNK;
  /** per message: chunk index, offset, length, arrival time */
  private index = new Float64Array(4 * 4096);
  private count = 0;

  push(data: Buffer, t: number): void {
    if (this.used + data.length > UnreadLog.CHUNK) {
      this.chunks.push(Buffer.allocUnsafeSlow(Math.max(UnreadLog.CHUNK, data.length)));
      this.used = 0;
    }
    data.copy(this.chunks[this.chunks.length - 1]!, this.used);
    if (4 * (this.count + 1) > this.index.length) {
      const grown = new Float64Array(this.index.length * 2);
      grown.set(this.index);
      this.index = grown;
    }
    this.index.set([this.chunks.length - 1, this.used, data.length, t], 4 * this.count++);
    this.used += data.length;
  }

  drain(read: (data: Buffer, t: number) => void): void {
    for (let i = 0; i < this.count; i++) {
      const [chunk, offset, length, t] = this.index.subarray(4 * i, 4 * i + 4);
      read(this.chunks[chunk!]!.subarray(offset, offset! + length!), t!);
    }
    this.chunks.length = 0;
    this.count = 0;
    this.used = UnreadLog.CHUNK;
  }
}
