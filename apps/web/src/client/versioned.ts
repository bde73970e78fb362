// What useSyncExternalStore reads of the dashboard's client stores: a version that moves on each
// change, and the listeners told of it. The stores extend this and call changed().
// The listeners are told once per animation frame, however many changes it holds: each one makes
// React render synchronously, and the live stream can bring dozens of messages (ten agents'
// events, their samples) between two frames, each of which would render the whole list again.
// Without requestAnimationFrame (Node, the unit tests) they are told at once.
export class Versioned {
  version = 0;
  private readonly listeners = new Set<() => void>();
  private frame: number | undefined;

  subscribe = (l: () => void): (() => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };

  getVersion = (): number => this.version;

  protected changed(): void {
    this.version++;
    if (typeof requestAnimationFrame === "undefined") {
      this.notify();
      return;
    }
    this.frame ??= requestAnimationFrame(() => {
      this.frame = undefined;
      this.notify();
    });
  }

  private notify(): void {
    for (const l of this.listeners) l();
  }
}
