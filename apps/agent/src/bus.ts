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
  private closed = false;

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

  async *[Symbol.asyncIterator](): AsyncIterator<StateEvent> {
    try {
      for (;;) {
        const e = this.items.shift();
        if (e) {
          yield e;
          continue;
        }
        if (this.overflowed) throw new SlowSubscriber();
        if (this.closed) return;
        await new Promise<void>((resolve) => (this.waiter = resolve));
      }
    } finally {
      this.close();
    }
  }
}
