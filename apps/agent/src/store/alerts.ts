// The alerts, in the agent's SQLite store beside the timeline: each raised alert is a row, written
// before anybody hears of it, and acknowledged in place (when, by whom). Bounded: past MAX_ALERT_ROWS
// the oldest rows go, acknowledged or not (an operator who never acknowledges still has the newest).
import type Database from "better-sqlite3";
import type { Alert, AlertDraft, AlertKind, AlertSeverity } from "@corral/core";

export const MAX_ALERT_ROWS = 10_000;

type AlertRow = {
  id: number; kind: string; severity: string; container: string; at: number; message: string;
  seq: number | null; detail: string; acknowledged_at: number | null; acknowledged_by: string | null;
};

export class AlertLog {
  private readonly insert: Database.Statement;
  private readonly ack: Database.Statement;
  private readonly one: Database.Statement;
  private writes = 0;

  constructor(private readonly db: Database.Database, private readonly maxRows = MAX_ALERT_ROWS) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS alerts (
        id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, severity TEXT NOT NULL,
        container TEXT NOT NULL, at INTEGER NOT NULL, message TEXT NOT NULL, seq INTEGER,
        detail TEXT NOT NULL, acknowledged_at INTEGER, acknowledged_by TEXT);
      CREATE INDEX IF NOT EXISTS alerts_unacknowledged ON alerts (id) WHERE acknowledged_at IS NULL;
    `);
    this.insert = db.prepare("INSERT INTO alerts (kind, severity, container, at, message, seq, detail) VALUES (?, ?, ?, ?, ?, ?, ?)");
    this.ack = db.prepare("UPDATE alerts SET acknowledged_at = ?, acknowledged_by = ? WHERE id = ? AND acknowledged_at IS NULL");
    this.one = db.prepare("SELECT * FROM alerts WHERE id = ?");
  }

  /** Stores a raised alert; answers it with its id. */
  add(draft: AlertDraft): Alert {
    const info = this.insert.run(draft.kind, draft.severity, draft.container, Math.round(draft.at), draft.message, draft.seq ?? null, JSON.stringify(draft.detail));
    if (++this.writes % 100 === 0) this.prune();
    return { ...draft, at: Math.round(draft.at), id: Number(info.lastInsertRowid), acknowledgedAt: null, acknowledgedBy: null };
  }

  /** The newest first; only those not acknowledged yet if asked; ids below `before` to page back. */
  list(q: { unacknowledged?: boolean; limit?: number; before?: number; after?: number } = {}): Alert[] {
    const where: string[] = [];
    const args: number[] = [];
    if (q.unacknowledged) where.push("acknowledged_at IS NULL");
    if (q.before !== undefined) {
      where.push("id < ?");
      args.push(q.before);
    }
    if (q.after !== undefined) {
      where.push("id > ?");
      args.push(q.after);
    }
    const limit = Math.min(Math.max(q.limit ?? 100, 1), 1000);
    const sql = `SELECT * FROM alerts ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY id DESC LIMIT ${limit}`;
    return (this.db.prepare(sql).all(...args) as AlertRow[]).map(toAlert);
  }

  unacknowledgedCount(): number {
    return (this.db.prepare("SELECT COUNT(*) AS n FROM alerts WHERE acknowledged_at IS NULL").get() as { n: number }).n;
  }

  get(id: number): Alert | undefined {
    const row = this.one.get(id) as AlertRow | undefined;
    return row ? toAlert(row) : undefined;
  }

  /** Acknowledges one alert (a second acknowledgement keeps the first's time and name); undefined if there is none. */
  acknowledge(id: number, by: string, at = Date.now()): Alert | undefined {
    this.ack.run(at, by, id);
    return this.get(id);
  }

  prune(): number {
    const { n } = this.db.prepare("SELECT COUNT(*) AS n FROM alerts").get() as { n: number };
    if (n <= this.maxRows) return 0;
    return this.db.prepare("DELETE FROM alerts WHERE id IN (SELECT id FROM alerts ORDER BY id LIMIT ?)").run(n - this.maxRows).changes;
  }
}

function toAlert(r: AlertRow): Alert {
  return {
    id: r.id, kind: r.kind as AlertKind, severity: r.severity as AlertSeverity, container: r.container, at: r.at,
    message: r.message, ...(r.seq === null ? {} : { seq: r.seq }), detail: JSON.parse(r.detail) as Record<string, unknown>,
    acknowledgedAt: r.acknowledged_at, acknowledgedBy: r.acknowledged_by,
  };
}
