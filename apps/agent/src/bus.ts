// Live fan-out of stored events to subscribers. Each subscriber has a bounded queue: one that
// falls that far behind is cut off with a resync, never fed a silent gap. A subscriber that
// writes each event out as it comes (deliverTo) queues nothing; it bounds what it leaves unread
// on its own socket instead (api/routers/events.ts, LiveFilter).
import type { StateEvent } from "@corral/core";
import { unexpected } from "./errors.ts";

export const SUBSCRIBER_QUEUE_LIMIT = 10_000;

export class SlowSubscriber extends Error {
  constructor() {
    super("subscriber fell too far behind; resync from the last cursor");
    this.name = "SlowSubscriber";
  }
}

export interface Subscription {
  /**
   * The next event if one is queued, without waiting; throws SlowSubscriber once the queue has
   * overflowed and what it held has been taken. Not an async iterator: each step of an async
   * generator costs promises and turns, paid for every event and every subscriber.
   */
  take(): StateEvent | undefined;
  /** Resolves once an event is queued or the subscription is closed. */
  arrival(): Promise<void>;
  /**
   * From now on, each event goes to `sink` as it is published, after those still queued: a live
   * stream that writes straight to its socket (api/event-lane.ts) waits on no promise at all. A
   * sink that throws is closed, and the error logged: publishing goes on for the others. Throws
   * SlowSubscriber, after delivering what was queued, if the queue had overflowed.
   */
  deliverTo(sink: (e: StateEvent) => void): void;
  readonly closed: boolean;
  close(): void;
}

export class EventBus {
  private readonly subscribers = new Set<Queue>();

  publish(event: StateEvent): void {
    for (const q of this.subscribers) q.push(event);
  }

  subscribe(): Subscription {
    const q = new Queue(() => this.subscribers.delete(q));
    this.subscribers.add(q);
    return q;
  }

  get size(): number {
    return this.subscribers.size;
  }
}

class Queue implements Subscription {
  private readonly items: StateEvent[] = [];
  private waiter: (() => void) | undefined;
  private overflowed = false;
  private sink: ((e: StateEvent) => void) | undefined;
  closed = false;

  constructor(private readonly onClose: () => void) {}

  push(e: StateEvent): void {
    if (this.closed) return;
    if (this.sink) {
      this.deliver(e);
      return;
    }
    if (this.items.length >= SUBSCRIBER_QUEUE_LIMIT) {
      this.overflowed = true;
      this.close();
    } else {
      this.items.push(e);
    }
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose();
    this.wake();
  }

  take(): StateEvent | undefined {
    const e = this.items.shift();
    if (e === undefined && this.overflowed) throw new SlowSubscriber();
    return e;
  }

  deliverTo(sink: (e: StateEvent) => void): void {
    this.sink = sink;
    // what was queued first, in order; take() throws SlowSubscriber after them if it overflowed
    for (let e = this.take(); e !== undefined; e = this.take()) {
      this.deliver(e);
      if (this.closed && !this.overflowed) return; // the sink ended it
    }
  }

  private deliver(e: StateEvent): void {
    try {
      this.sink!(e);
    } catch (err) {
      unexpected("delivering an event to a subscriber", err);
      this.close();
    }
  }

  arrival(): Promise<void> {
    if (this.items.length > 0 || this.closed) return Promise.resolve();
    return new Promise<void>((resolve) => (this.waiter = resolve));
  }
}
