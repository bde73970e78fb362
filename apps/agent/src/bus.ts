// Live fan-out of stored events to subscribers. Each subscriber has a bounded queue: one that
// falls that far behind is cut off with a resync, never fed a silent gap.
import type { StateEvent } from "@corral/core";

export const SUBSCRIBER_QUEUE_LIMIT = 10_000;

export class SlowSubscriber extends Error {
  constructor() {
    super("subscriber fell too far behind; resync from the last cursor");
    this.name = "SlowSubscriber";
  }
}

export interface Subscription extends AsyncIterable<StateEvent> {
  /**
   * The next event if one is queued, without waiting; throws SlowSubscriber once the queue has
   * overflowed. A live stream takes events this way, not through the async iterator: each step
   * of an async generator costs promises and turns, paid for every event and every subscriber.
   */
  take(): StateEvent | undefined;
  /** Resolves once an event is queued or the subscription is closed. */
  arrival(): Promise<void>;
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
  closed = false;

  constructor(private readonly onClose: () => void) {}

  push(e: StateEvent): void {
    if (this.closed) return;
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

  arrival(): Promise<void> {
    if (this.items.length > 0 || this.closed) return Promise.resolve();
    return new Promise<void>((resolve) => (this.waiter = resolve));
  }

  async *[Symbol.asyncIterator](): AsyncIterator<StateEvent> {
    try {
      for (;;) {
        const e = this.take();
        if (e) {
          yield e;
          continue;
        }
        if (this.closed) return;
        await this.arrival();
      }
    } finally {
      this.close();
    }
  }
}
