// The agent's store: one SQLite file (WAL) in the lxcpath holding the timeline of state events
// and the audit log. An event is written here before anybody hears of it.
import Database from "better-sqlite3";
import { randomUUID } from "node:crypto";
import { preciseNow, type EventCause, type EventDetail, type StateEvent, type StateName } from "@corral/core";

export interface AuditEntry {
  id: number;
  at: number;
  actor: string;
  address: string;
  action: string;
  target: string | null;
  result: "ok" | "refused" | "error";
  detail: string | null;
}

export interface EventQuery {
  container?: string;
  /** events with seq > after */
  after?: number;
  /** events with seq < before (paging backwards) */
  before?: number;
  limit?: number;
}

type EventRow = { seq: number; container: string; state: string; at: number; cause: string; detail: string };

export class Store {
  private readonly db: Database.Database;
  /** Identifies this store: a cursor from another store cannot be resumed here. */
  readonly storeId: string;
  private readonly insertEvent: Database.Statement;
  private readonly insertAudit: Database.Statement;

  constructor(path: string) {
    this.db = new Database(path);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = NORMAL");
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, container TEXT NOT NULL, state TEXT NOT NULL,
        at INTEGER NOT NULL, cause TEXT NOT NULL, detail TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS events_container ON events (container, seq);
      CREATE TABLE IF NOT EXISTS audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, actor TEXT NOT NULL,
        address TEXT NOT NULL, action TEXT NOT NULL, target TEXT, result TEXT NOT NULL, detail TEXT);
    `);
    const row = this.db.prepare("SELECT value FROM meta WHERE key = 'store_id'").get() as { value: string } | undefined;
    this.storeId = row?.value ?? randomUUID();
    if (!row) this.db.prepare("INSERT INTO meta (key, value) VALUES ('store_id', ?)").run(this.storeId);
    this.insertEvent = this.db.prepare("INSERT INTO events (container, state, at, cause, detail) VALUES (?, ?, ?, ?, ?)");
    this.insertAudit = this.db.prepare("INSERT INTO audit (at, actor, address, action, target, result, detail) VALUES (?, ?, ?, ?, ?, ?, ?)");
  }

  appendEvent(container: string, state: StateName, cause: EventCause, detail: EventDetail, at = preciseNow()): StateEvent {
    const info = this.insertEvent.run(container, state, at, JSON.stringify(cause), JSON.stringify(detail));
    return { seq: Number(info.lastInsertRowid), container, state, at, cause, detail };
  }

  events(q: EventQuery = {}): StateEvent[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.container !== undefined) (where.push("container = ?"), args.push(q.container));
    if (q.after !== undefined) (where.push("seq > ?"), args.push(q.after));
    if (q.before !== undefined) (where.push("seq < ?"), args.push(q.before));
    const limit = Math.min(Math.max(q.limit ?? 1000, 1), 100_000);
    // Paging backwards takes the newest page before the cursor, returned oldest first.
    const order = q.before !== undefined && q.after === undefined ? "DESC" : "ASC";
    const sql = `SELECT * FROM events ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY seq ${order} LIMIT ${limit}`;
    const rows = (this.db.prepare(sql).all(...args) as EventRow[]).map(toEvent);
    return order === "DESC" ? rows.reverse() : rows;
  }

  lastSeq(): number {
    const row = this.db.prepare("SELECT MAX(seq) AS s FROM events").get() as { s: number | null };
    return row.s ?? 0;
  }

  /** The newest event of each container, or its newest event in `state`. */
  latestByContainer(state?: StateName): Map<string, StateEvent> {
    const filter = state ? "WHERE state = ?" : "";
    const sql = `SELECT e.* FROM events e JOIN (SELECT container, MAX(seq) AS seq FROM events ${filter} GROUP BY container) m ON e.seq = m.seq`;
    const rows = this.db.prepare(sql).all(...(state ? [state] : [])) as EventRow[];
    return new Map(rows.map((r) => [r.container, toEvent(r)]));
  }

  audit(entry: Omit<AuditEntry, "id" | "at"> & { at?: number }): void {
    this.insertAudit.run(entry.at ?? Date.now(), entry.actor, entry.address, entry.action, entry.target, entry.result, entry.detail);
  }

  auditLog(limit = 200, target?: string): AuditEntry[] {
    const sql = `SELECT * FROM audit ${target ? "WHERE target = ?" : ""} ORDER BY id DESC LIMIT ?`;
    return this.db.prepare(sql).all(...(target ? [target, limit] : [limit])) as AuditEntry[];
  }

  close(): void {
    this.db.close();
  }
}

function toEvent(r: EventRow): StateEvent {
  return { seq: r.seq, container: r.container, state: r.state as StateName, at: r.at, cause: JSON.parse(r.cause), detail: JSON.parse(r.detail) };
}

/** Milliseconds since the epoch with microseconds: delivery latencies on one host are sub-ms. */
