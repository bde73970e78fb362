// The browser's one live connection to the dashboard's server, whatever the number of agents: one
// EventSource on /api/live carrying every topic the page wants (lib/live-wire.ts), each with the
// cursor its reader keeps. A browser allows 6 HTTP/1.1 connections per host: a stream per agent
// took them all past five agents, and every later request waited for good.
//
// Topics come and go (a console opened, the Metrics tab shown) by a short POST to the server that
// holds the stream. When that fails (another dashboard server behind a load balancer, the stream
// gone) or the stream drops, it is opened again with every topic and its reader's cursor in the
// URL, so each resumes where it was. EventSource's own retry is not used: it would reconnect to
// the old URL, with the old cursors. Browser only.
import { expected } from "@/lib/errors";
import { formatSubscription, type LiveHello, type LiveMessage } from "@/lib/live-wire";

export interface LiveHandler {
  /** where the topic resumes now (null: from now on); read each time the topic is (re)subscribed */
  cursor(): string | null;
  onMessage(m: LiveMessage): void;
  /** the stream to the dashboard's server dropped; it opens again by itself shortly */
  onDisconnected?(message: string): void;
}

/** Waits between attempts to open the stream again: 1 s, doubling to 10 s; back to 1 s once it opens. */
const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 10_000;
/** With no topic left, the stream stays open this long (a view that unmounts and mounts again). */
const IDLE_CLOSE_MS = 5000;

export class LiveConnection {
  private readonly handlers = new Map<string, LiveHandler>();
  /** what the open stream carries on the server: the handler each topic was subscribed for */
  private atServer = new Map<string, LiveHandler>();
  private source: EventSource | undefined;
  private streamId: string | undefined;
  private syncTimer: ReturnType<typeof setTimeout> | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  private retryMs = RETRY_FIRST_MS;
  private syncing = false;
  private syncAgain = false;

  /** Starts delivering `topic` to `handler`, from its cursor; the function returned stops it. */
  subscribe(topic: string, handler: LiveHandler): () => void {
    this.handlers.set(topic, handler);
    this.scheduleSync();
    return () => {
      if (this.handlers.get(topic) !== handler) return;
      this.handlers.delete(topic);
      this.scheduleSync();
    };
  }

  /** The topics wanted now. */
  topics(): string[] {
    return [...this.handlers.keys()];
  }

  /** Closes the stream and forgets every topic. */
  close(): void {
    this.handlers.clear();
    this.drop();
    clearTimeout(this.retryTimer);
    clearTimeout(this.syncTimer);
    clearTimeout(this.idleTimer);
  }

  /** Subscribes and unsubscribes made in one turn go to the server as one change. */
  private scheduleSync(): void {
    this.syncTimer ??= setTimeout(() => {
      this.syncTimer = undefined;
      void this.sync();
    }, 0);
  }

  private async sync(): Promise<void> {
    if (this.syncing) {
      this.syncAgain = true;
      return;
    }
    clearTimeout(this.idleTimer);
    if (this.handlers.size === 0) {
      this.idleTimer = setTimeout(() => this.handlers.size === 0 && this.drop(), IDLE_CLOSE_MS);
      return;
    }
    if (!this.source) {
      if (this.retryTimer === undefined) this.open();
      return;
    }
    const id = this.streamId;
    if (!id) return; // the stream's hello syncs again
    const add = [...this.handlers].filter(([t, h]) => this.atServer.get(t) !== h);
    const remove = [...this.atServer.keys()].filter((t) => !this.handlers.has(t));
    if (add.length === 0 && remove.length === 0) return;
    this.syncing = true;
    try {
      const res = await fetch(`/api/live/${encodeURIComponent(id)}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ add: add.map(([topic, h]) => ({ topic, cursor: h.cursor() })), remove }),
      });
      if (this.streamId !== id) return; // opened again meanwhile, with every topic in its URL
      if (res.ok) {
        for (const [t, h] of add) this.atServer.set(t, h);
        for (const t of remove) this.atServer.delete(t);
      } else if (res.status === 401) {
        this.signedOut();
      } else {
        this.reopen(0); // another dashboard server, or the stream ended there: open it again with everything
      }
    } catch (e) {
      expected(e, [TypeError], "changing the live stream's topics"); // the server is away
      if (this.streamId === id) this.reopen(this.retryMs);
    } finally {
      this.syncing = false;
      if (this.syncAgain) {
        this.syncAgain = false;
        this.scheduleSync();
      }
    }
  }

  private open(): void {
    this.drop();
    const params = new URLSearchParams();
    for (const [topic, h] of this.handlers) params.append("s", formatSubscription({ topic, cursor: h.cursor() }));
    const es = new EventSource(`/api/live?${params.toString()}`);
    this.source = es;
    this.atServer = new Map(this.handlers);
    es.addEventListener("hello", (m) => {
      if (this.source !== es) return;
      this.streamId = (JSON.parse((m as MessageEvent<string>).data) as LiveHello).stream;
      this.retryMs = RETRY_FIRST_MS;
      this.scheduleSync(); // topics that changed while it opened
    });
    es.addEventListener("m", (m) => {
      if (this.source !== es) return;
      const msg = JSON.parse((m as MessageEvent<string>).data) as LiveMessage;
      this.handlers.get(msg.topic)?.onMessage(msg);
    });
    // the only reason a server ends a stream for good (LiveEnded): the session was signed out
    es.addEventListener("ended", () => {
      if (this.source === es) this.signedOut();
    });
    es.onerror = () => {
      if (this.source !== es) return;
      for (const h of this.handlers.values()) h.onDisconnected?.("The connection to the dashboard's server dropped.");
      this.reopen(this.retryMs);
      this.retryMs = Math.min(RETRY_MAX_MS, this.retryMs * 2);
    };
  }

  private reopen(ms: number): void {
    this.drop();
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.handlers.size > 0) this.open();
    }, ms);
  }

  private drop(): void {
    this.source?.close();
    this.source = undefined;
    this.streamId = undefined;
    this.atServer = new Map();
  }

  private signedOut(): void {
    this.close();
    if (typeof window !== "undefined") window.location.href = "/login";
  }
}

let singleton: LiveConnection | undefined;
export function liveConnection(): LiveConnection {
  singleton ??= new LiveConnection();
  return singleton;
}
