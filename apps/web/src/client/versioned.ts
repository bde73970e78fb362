// What useSyncExternalStore reads of the dashboard's client stores: a version that moves on each
// change, and the listeners told of it. The stores extend this and call changed().
export class Versioned {
  version = 0;
  private readonly listeners = new Set<() => void>();

  subscribe = (l: () => void): (() => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };

  getVersion = (): number => this.version;

  protected changed(): void {
    this.version++;
    for (const l of this.listeners) l();
  }
}
