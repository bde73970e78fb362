// A lean long-lived client of the agent's WebSocket API, speaking tRPC's WebSocket messages
// directly ({id, method, params: {path, input, lastEventId}} out; {id, result|error} back).
// tRPC's own wsLink waits a timer tick (setTimeout 0, about 1 ms in Node) before it sends a call,
// to batch calls made in the same tick: the bench measures the agent, not that wait.
import WebSocket from "ws";

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };
type Subscriber = { onData: (id: string | undefined, data: unknown) => void; onError: (e: Error) => void };

interface Reply {
  id: number;
  result?: { type: "data" | "started" | "stopped"; data?: unknown; id?: string };
  error?: { message: string; data?: unknown };
}

export class AgentSocket {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly subscribers = new Map<number, Subscriber>();

  private constructor(private readonly ws: WebSocket) {
    ws.on("message", (raw) => {
      // ws hands a text or binary message over as one Buffer (binaryType "nodebuffer").
      const text = (raw as Buffer).toString("utf8");
      // The server's keep-alive: answer it, or it closes the connection.
      if (text === "PING") { ws.send("PONG"); return; }
      if (text !== "PONG") this.onMessage(JSON.parse(text) as Reply | Reply[]);
    });
    ws.on("close", () => {
      const err = new Error("the agent closed the connection");
      for (const p of this.pending.values()) p.reject(err);
      for (const s of this.subscribers.values()) s.onError(err);
    });
  }

  static open(url: string, token: string): Promise<AgentSocket> {
    const ws = new WebSocket(`${url.replace(/^http/, "ws")}/trpc`, { headers: { authorization: `Bearer ${token}`, "x-corral-actor": "bench" } });
    return new Promise((resolve, reject) => {
      ws.once("open", () => resolve(new AgentSocket(ws)));
      ws.once("error", reject);
    });
  }

  private onMessage(msg: Reply | Reply[]): void {
    for (const m of Array.isArray(msg) ? msg : [msg]) {
      const sub = this.subscribers.get(m.id);
      if (sub) {
        if (m.error) sub.onError(new Error(m.error.message));
        else if (m.result?.type === "data") {
          // A tracked() item arrives as {id, data} inside the result's data.
          const tracked = m.result.data as { id?: string; data?: unknown };
          sub.onData(tracked.id ?? m.result.id, tracked.data);
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
