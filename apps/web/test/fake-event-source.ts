// A stand-in for the browser's EventSource in the web unit tests: every one made is kept (the last
// too), and the test plays the server's messages into it.
export class FakeEventSource {
  static CLOSED = 2;
  static all: FakeEventSource[] = [];
  static last: FakeEventSource | undefined;
  readyState = 1;
  onerror: (() => void) | null = null;
  private readonly listeners = new Map<string, (m: { data: string }) => void>();
  constructor(readonly url: string) {
    FakeEventSource.all.push(this);
    FakeEventSource.last = this;
  }
  addEventListener(type: string, fn: (m: { data: string }) => void): void {
    this.listeners.set(type, fn);
  }
  close(): void {
    this.readyState = FakeEventSource.CLOSED;
  }
  emit(type: string, data: unknown): void {
    this.listeners.get(type)?.({ data: JSON.stringify(data) });
  }
  /** the "s" parameters: every topic with its cursor */
  get subs(): string[] {
    return new URL(this.url, "http://x").searchParams.getAll("s");
  }
}
