// Refused requests, audited without letting a flood fill the disk. Per address and HTTP status,
// the first few refusals of a window are written as they come; the rest of the window is counted
// and written as one summary row when the window ends. Paths are cut short before they are kept.
import { expected } from "../errors.ts";
import { StorageFull, type AuditEntry } from "../store/store.ts";

export interface Refused {
  /** the peer's IP address (no port: every connection has a port of its own) */
  ip: string;
  /** ip:port, as other audit rows say */
  address: string;
  actor: string;
  status: number;
  action: string;
  why: string;
}

export type AuditWrite = (entry: Omit<AuditEntry, "id" | "at">) => void;

export interface RefusalLogOptions {
  /** refusals written one by one per address and status in a window */
  perWindow: number;
  windowMs: number;
  /** addresses tracked at once; the rest share one window ("*") */
  maxAddresses: number;
}

const DEFAULTS: RefusalLogOptions = { perWindow: 5, windowMs: 60_000, maxAddresses: 1000 };

/** The longest request path kept in an audit row. */
export const MAX_AUDITED_PATH = 120;

/** "GET /trpc/xyz" with a long path cut: "GET /trpc/xyz... (10240 chars)". */
export function describeRequest(method: string | undefined, url: string | undefined, prefix = ""): string {
  const path = (url ?? "/").split("?")[0]!;
  const kept = path.length <= MAX_AUDITED_PATH ? path : `${path.slice(0, MAX_AUDITED_PATH)}... (${path.length} chars)`;
  return `${prefix}${method ?? "?"} ${kept}`;
}

interface Window {
  start: number;
  written: number;
  suppressed: number;
  /** "401 missing or wrong token" → count */
  reasons: Map<string, number>;
  last: Refused;
}

export class RefusalLog {
  private readonly windows = new Map<string, Window>();
  private readonly timer: NodeJS.Timeout;
  private readonly opts: RefusalLogOptions;

  constructor(private readonly write: AuditWrite, opts: Partial<RefusalLogOptions> = {}) {
    this.opts = { ...DEFAULTS, ...opts };
    this.timer = setInterval(() => this.flush(), Math.max(1000, this.opts.windowMs / 4));
    this.timer.unref();
  }

  record(r: Refused, now = Date.now()): void {
    let key = `${r.ip} ${r.status}`;
    if (!this.windows.has(key) && this.windows.size >= this.opts.maxAddresses) key = `* ${r.status}`;
    let w = this.windows.get(key);
    if (w && now - w.start >= this.opts.windowMs) {
      this.summarize(w);
      w = undefined;
    }
    if (!w) {
      w = { start: now, written: 0, suppressed: 0, reasons: new Map(), last: r };
      this.windows.set(key, w);
    }
    w.last = r;
    if (w.written < this.opts.perWindow) {
      w.written++;
      this.safeWrite({ actor: r.actor, address: r.address, action: r.action, target: null, result: "refused", detail: r.why });
      return;
    }
    w.suppressed++;
    const reason = `${r.status} ${r.why}`.slice(0, 200);
    if (w.reasons.has(reason) || w.reasons.size < 10) w.reasons.set(reason, (w.reasons.get(reason) ?? 0) + 1);
  }

  /** Writes the summary of every window that has ended (all of them with `all`). */
  flush(now = Date.now(), all = false): void {
    for (const [key, w] of this.windows) {
      if (!all && now - w.start < this.opts.windowMs) continue;
      this.summarize(w);
      this.windows.delete(key);
    }
  }

  close(): void {
    clearInterval(this.timer);
    this.flush(Date.now(), true);
  }

  private summarize(w: Window): void {
    if (w.suppressed === 0) return;
    const reasons = [...w.reasons].map(([why, n]) => `${why} (${n})`).join("; ");
    const ip = w.last.ip;
    this.safeWrite({
      actor: w.last.actor, address: ip, action: "refused requests (summary)", target: null, result: "refused",
      detail: `${w.suppressed} more refused requests from ${ip} in ${Math.round(this.opts.windowMs / 1000)} s, not written one by one: ${reasons}`,
    });
    w.suppressed = 0;
  }

  /** A refusal is answered whether or not it can be written (a full disk must not silence the agent). */
  private safeWrite(entry: Omit<AuditEntry, "id" | "at">): void {
    try {
      this.write(entry);
    } catch (e) {
      // the refusal itself is still answered; the store says why it cannot write elsewhere
      expected(e, [StorageFull], "auditing a refused request");
    }
  }
}
