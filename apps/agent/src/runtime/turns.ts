// One start's making per turn of the event loop. setImmediate alone does not give that: every
// callback queued before a check phase runs in that phase, so a thousand start requests read off
// one socket together cloned back to back in one phase (2 s here), with no I/O in between: no
// child's sync message was read, no RUNNING recorded and no event sent until the last had cloned.
// A waiter here is let go at most one per turn, in the order it came, each after a poll for I/O.

export class TurnQueue {
  private readonly waiting: Array<() => void> = [];

  /** Resolves in a turn of the event loop of its own, after those that asked before. */
  next(): Promise<void> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      if (this.waiting.length === 1) setImmediate(this.release);
    });
  }

  /** How many wait for their turn. */
  get length(): number {
    return this.waiting.length;
  }

  private readonly release = (): void => {
    // The waiter runs in the microtasks after this callback; the next is let go only in the next
    // check phase, after the loop has polled for I/O (an immediate queued during a check phase
    // waits for the next one).
    this.waiting.shift()!();
    if (this.waiting.length > 0) setImmediate(this.release);
  };
}
