// The agent's store: one SQLite file (WAL) in the lxcpath holding the timeline of state events
// and the audit log. An event is written here before anybody hears of it. The file is checked
// (quick_check) when it is opened: a corrupt store stops the agent rather than being appended to.
import Database from "better-sqlite3";
import { randomUUID } from "node:crypto";
import { errorCode, unexpected } from "../errors.ts";
import { SampleHistory } from "./samples.ts";
import { AlertLog } from "./alerts.ts";
import { Checkpointer } from "./checkpointer.ts";
import { HISTORY_KEEP_MS, preciseNow, type EventCause, type EventDetail, type StateEvent, type StateName } from "@corral/core";

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

/** How much audit log to keep: rows older than maxAgeMs go, then the oldest rows past maxBytes. */
export interface AuditRetention {
  maxAgeMs: number;
  maxBytes: number;
}

export const DEFAULT_AUDIT_RETENTION: AuditRetention = { maxAgeMs: 90 * 24 * 3600 * 1000, maxBytes: 64 * 1024 * 1024 };

/** Text fields of an audit row are cut to these lengths: a caller cannot make a row large. */
export const AUDIT_FIELD_LIMITS = { actor: 100, address: 64, action: 200, target: 100, detail: 2000 } as const;

/**
 * The store cannot be written: the disk (or the store's quota) is full, or the file cannot be
 * written at all. Reads still work; the write was not made.
 */
export class StorageFull extends Error {
  constructor(readonly what: string, cause: unknown) {
    super(`the agent's store cannot be written (${describeStorageError(cause)}) while ${what}; nothing was done. Free space under the lxcpath and try again.`, { cause });
    this.name = "StorageFull";
  }
}

/** The file is not a sound SQLite database (quick_check failed, or it is not one at all). */
export class StoreCorrupt extends Error {
  constructor(readonly path: string, readonly problem: string) {
    super([
      `the store ${path} is corrupt (${problem}); the agent will not append to it.`,
      "Way out: `CORRAL_SALVAGE_STORE=1 corral agent ...` sets the file aside as " +
        `${path}.corrupt-<time>, copies every event, audit row and alert that still reads into a new store and starts; ` +
        "or stop here, move the file (and its -wal and -shm) aside yourself and start with an empty store.",
      "Either way the new store has a new id: clients resync their timeline.",
    ].join(" "));
    this.name = "StoreCorrupt";
  }
}

const STORAGE_CODES = new Set(["SQLITE_FULL", "SQLITE_IOERR", "SQLITE_IOERR_WRITE", "SQLITE_IOERR_FSYNC", "SQLITE_IOERR_SHMSIZE",
  "SQLITE_IOERR_TRUNCATE", "SQLITE_IOERR_SHORT_READ", "SQLITE_READONLY", "SQLITE_CANTOPEN", "ENOSPC", "EDQUOT", "EROFS", "EIO"]);

/** Whether an error is the storage failing (full disk, quota, I/O error), not the request. */
export function isStorageError(e: unknown): boolean {
  if (e instanceof StorageFull) return true;
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "string" && (STORAGE_CODES.has(code) || code.startsWith("SQLITE_IOERR"));
}

function describeStorageError(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  if (code === "SQLITE_FULL" || code === "ENOSPC") return "the disk is full";
  if (code === "EDQUOT") return "the disk quota is used up";
  return `${typeof code === "string" ? `${code}: ` : ""}${e instanceof Error ? e.message : String(e)}`;
}

const CORRUPT_CODES = new Set(["SQLITE_CORRUPT", "SQLITE_NOTADB", "SQLITE_CORRUPT_INDEX", "SQLITE_CORRUPT_SEQUENCE", "SQLITE_CORRUPT_VTAB"]);

function clip(value: string, max: number): string {
  return value.length <= max ? value : `${value.slice(0, max)}... (${value.length} chars)`;
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
  private readonly settleStatement: Database.Statement;

  private readonly retention: AuditRetention;
  /** the downsampled resource samples (store/samples.ts) */
  readonly samples: SampleHistory;
  /** the raised alerts (store/alerts.ts) */
  readonly alerts: AlertLog;
  private auditWrites = 0;
  private checkpointer: Checkpointer | undefined;

  constructor(readonly path: string, opts: { retention?: AuditRetention } = {}) {
    this.retention = opts.retention ?? DEFAULT_AUDIT_RETENTION;
    this.db = openChecked(path);
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
    this.settleStatement = this.db.prepare("UPDATE audit SET result = ?, detail = ? WHERE id = ?");
    this.samples = new SampleHistory(this.db, HISTORY_KEEP_MS);
    this.alerts = new AlertLog(this.db);
    this.pruneAudit();
  }

  /** Stores an event; throws StorageFull (nothing stored, nothing to publish) when it cannot. */
  appendEvent(container: string, state: StateName, cause: EventCause, detail: EventDetail, at = preciseNow()): StateEvent {
    const info = this.write(`storing ${container}'s ${state} event`, () => this.insertEvent.run(container, state, at, JSON.stringify(cause), JSON.stringify(detail)));
    return { seq: Number(info.lastInsertRowid), container, state, at, cause, detail };
  }

  /** A write, with a storage failure turned into StorageFull. */
  private write<T>(what: string, run: () => T): T {
    try {
      return run();
    } catch (e) {
      if (isStorageError(e)) throw new StorageFull(what, e);
      throw e;
    }
  }

  events(q: EventQuery = {}): StateEvent[] {
    const where: string[] = [];
    const args: unknown[] = [];
    const add = (clause: string, value: unknown) => {
      where.push(clause);
      args.push(value);
    };
    if (q.container !== undefined) add("container = ?", q.container);
    if (q.after !== undefined) add("seq > ?", q.after);
    if (q.before !== undefined) add("seq < ?", q.before);
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

  /**
   * Writes one audit row, its fields cut to AUDIT_FIELD_LIMITS; returns its id. Throws StorageFull
   * when the store cannot be written. Every so often the retention is applied.
   */
  audit(entry: Omit<AuditEntry, "id" | "at"> & { at?: number }): number {
    const L = AUDIT_FIELD_LIMITS;
    const info = this.write("writing the audit log", () => this.insertAudit.run(
      entry.at ?? Date.now(), clip(entry.actor, L.actor), clip(entry.address, L.address), clip(entry.action, L.action),
      entry.target === null ? null : clip(entry.target, L.target), entry.result, entry.detail === null ? null : clip(entry.detail, L.detail),
    ));
    if (++this.auditWrites % 500 === 0) this.pruneAudit();
    return Number(info.lastInsertRowid);
  }

  /** Changes the outcome of an audit row written before its action ran. */
  settleAudit(id: number, result: AuditEntry["result"], detail: string | null): void {
    this.write("writing the audit log", () => this.settleStatement.run(result, detail === null ? null : clip(detail, AUDIT_FIELD_LIMITS.detail), id));
  }

  /**
   * The audit log's retention: rows older than maxAgeMs are deleted, then the oldest rows until
   * the text the log holds is under maxBytes. Returns how many rows went. A full disk is no reason
   * to fail (deleting is how space comes back): errors are left to the next write.
   */
  pruneAudit(now = Date.now()): number {
    try {
      let removed = this.db.prepare("DELETE FROM audit WHERE at < ?").run(now - this.retention.maxAgeMs).changes;
      const size = this.db.prepare(`SELECT COUNT(*) AS n, COALESCE(SUM(length(actor) + length(address) + length(action) +
        COALESCE(length(target), 0) + COALESCE(length(detail), 0) + 40), 0) AS bytes FROM audit`).get() as { n: number; bytes: number };
      if (size.bytes > this.retention.maxBytes && size.n > 0) {
        // down to 90% of the limit, so that the next few writes do not prune again
        const perRow = size.bytes / size.n;
        const excess = Math.ceil((size.bytes - this.retention.maxBytes * 0.9) / perRow);
        removed += this.db.prepare("DELETE FROM audit WHERE id IN (SELECT id FROM audit ORDER BY id LIMIT ?)").run(excess).changes;
      }
      return removed;
    } catch (e) {
      if (isStorageError(e)) return 0;
      throw e;
    }
  }

  auditLog(limit = 200, target?: string): AuditEntry[] {
    const sql = `SELECT * FROM audit ${target ? "WHERE target = ?" : ""} ORDER BY id DESC LIMIT ?`;
    return this.db.prepare(sql).all(...(target ? [target, limit] : [limit])) as AuditEntry[];
  }

  /** Rows salvaged from another store (salvage.ts), keys kept; rows that do not fit are skipped. */
  importEvents(rows: Record<string, unknown>[]): void {
    this.importRows("INSERT OR IGNORE INTO events (seq, container, state, at, cause, detail) VALUES (@seq, @container, @state, @at, @cause, @detail)", rows);
  }

  importAudit(rows: Record<string, unknown>[]): void {
    this.importRows("INSERT OR IGNORE INTO audit (id, at, actor, address, action, target, result, detail) VALUES (@id, @at, @actor, @address, @action, @target, @result, @detail)", rows);
  }

  importAlerts(rows: Record<string, unknown>[]): void {
    this.importRows("INSERT OR IGNORE INTO alerts (id, kind, severity, container, at, message, seq, detail, acknowledged_at, acknowledged_by) " +
      "VALUES (@id, @kind, @severity, @container, @at, @message, @seq, @detail, @acknowledged_at, @acknowledged_by)", rows);
  }

  private importRows(sql: string, rows: Record<string, unknown>[]): void {
    const insert = this.db.prepare(sql);
    this.db.transaction(() => {
      for (const r of rows) {
        try {
          insert.run(r);
        } catch (e) {
          // a row whose fields did not survive (NULL where a value must be): left out
          const code = errorCode(e) ?? "";
          if (!code.startsWith("SQLITE_CONSTRAINT") && code !== "SQLITE_MISMATCH") unexpected("importing a salvaged row", e);
        }
      }
    })();
  }

  /**
   * WAL checkpoints from a thread of their own from now on (store/checkpointer.ts), so that no
   * write of the agent's waits for one. The agent's store does this; a store opened for a
   * moment (a test, a salvage) keeps SQLite's automatic checkpoints.
   */
  checkpointInBackground(intervalMs?: number): void {
    this.checkpointer ??= new Checkpointer(this.db, this.path, intervalMs);
  }

  close(): void {
    this.checkpointer?.stop();
    this.db.close();
  }
}

/** Opens the file and checks it (quick_check): StoreCorrupt if it is not a sound database. */
function openChecked(path: string): Database.Database {
  let db: Database.Database | undefined;
  try {
    db = new Database(path);
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    const rows = db.pragma("quick_check(20)") as Array<{ quick_check: string }>;
    const problems = rows.map((r) => r.quick_check).filter((r) => r !== "ok");
    if (problems.length > 0) throw new StoreCorrupt(path, `quick_check: ${problems.slice(0, 3).join("; ")}`);
    return db;
  } catch (e) {
    db?.close();
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && CORRUPT_CODES.has(code)) throw new StoreCorrupt(path, `${code}: ${(e as Error).message}`);
    throw e;
  }
}

function toEvent(r: EventRow): StateEvent {
  return { seq: r.seq, container: r.container, state: r.state as StateName, at: r.at, cause: JSON.parse(r.cause) as EventCause, detail: JSON.parse(r.detail) as EventDetail };
}

/** Milliseconds since the epoch with microseconds: delivery latencies on one host are sub-ms. */
