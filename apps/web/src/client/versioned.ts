// What useSyncExternalStore reads of the dashboard's client stores: a version that moves on each
// change, and the listeners told of it. The stores extend this and call changed().
//
// Listeners hear once per animation frame at most: a thousand containers starting at once change
// the store some four thousand times in a few seconds, and a re-render for each would take the
// page's frames; a frame shows every change made before it. Where there are no frames (a hidden
// tab, a test in Node), a timer of one frame's length stands in.
const FRAME_MS = 16;

const nextFrame = (f: () => void): void => {
  if (typeof requestAnimationFrame === "function" && typeof document !== "undefined" && document.visibilityState === "visible") requestAnimationFrame(f);
  else setTimeout(f, FRAME_MS);
};

export class Versioned {
  version = 0;
  private readonly listeners = new Set<() => void>();
  private told = true;

  subscribe = (l: () => void): (() => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };

  getVersion = (): number => this.version;

  protected changed(): void {
    this.version++;
    if (!this.told) return;
    this.told = false;
    nextFrame(() => {
      this.told = true;
      for (const l of this.listeners) l();
    });
  }
}
