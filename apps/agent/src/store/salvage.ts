// The way out of a corrupt store: set the file aside, copy what still reads into a new store, and
// start on that. The new store has a new id, so every client's cursor is answered with a resync
// (it reloads the timeline) instead of resuming into a timeline that changed under it.
import Database from "better-sqlite3";
import { existsSync, renameSync } from "node:fs";
import { errorCode, unexpected } from "../errors.ts";
import { Store } from "./store.ts";

export interface SalvageReport {
  /** where the corrupt file (and its -wal and -shm) went */
  setAside: string;
  events: number;
  audit: number;
  alerts: number;
  /** row ranges that could not be read */
  unreadable: number;
}

const CHUNK = 500;

/**
 * Moves `path` aside as `<path>.corrupt-<time>` and makes a new store at `path` holding every
 * event, audit row and alert of the old one that still reads (events keep their seq). Reads the old file
 * in chunks of rows; a chunk that fails is read row by row, and rows that fail are skipped.
 */
export function salvageStore(path: string, now = new Date()): SalvageReport {
  const setAside = `${path}.corrupt-${now.toISOString().replace(/[:.]/g, "-")}`;
  for (const suffix of ["", "-wal", "-shm"]) {
    if (existsSync(path + suffix)) renameSync(path + suffix, setAside + suffix);
  }
  const report: SalvageReport = { setAside, events: 0, audit: 0, alerts: 0, unreadable: 0 };
  let old: Database.Database | undefined;
  try {
    old = new Database(setAside, { readonly: true, fileMustExist: true });
  } catch (e) {
    damaged(e, `opening ${setAside}`); // not even a database any more: nothing to copy
    old = undefined;
  }
  const fresh = new Store(path);
  try {
    if (old) {
      const eventRows = readAll(old, "events", "seq", report);
      fresh.importEvents(eventRows);
      report.events = eventRows.length;
      const auditRows = readAll(old, "audit", "id", report);
      fresh.importAudit(auditRows);
      report.audit = auditRows.length;
      // a store from before alerts has no such table: nothing read (SQLITE_ERROR), nothing copied
      const alertRows = readAll(old, "alerts", "id", report);
      fresh.importAlerts(alertRows);
      report.alerts = alertRows.length;
    }
  } finally {
    old?.close();
    fresh.close();
  }
  return report;
}

/** Every row of `table` that reads, by ranges of its integer key. */
function readAll(db: Database.Database, table: "events" | "audit" | "alerts", key: "seq" | "id", report: SalvageReport): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [];
  const max = highestKey(db, table, key);
  for (let from = 0; from <= max; from += CHUNK) {
    try {
      rows.push(...(db.prepare(`SELECT * FROM ${table} WHERE ${key} > ? AND ${key} <= ? ORDER BY ${key}`).all(from, from + CHUNK) as Record<string, unknown>[]));
    } catch (e) {
      damaged(e, `reading ${table} ${from + 1}..${from + CHUNK}`);
      for (let k = from + 1; k <= from + CHUNK; k++) {
        try {
          const row = db.prepare(`SELECT * FROM ${table} WHERE ${key} = ?`).get(k) as Record<string, unknown> | undefined;
          if (row) rows.push(row);
        } catch (e) {
          damaged(e, `reading ${table} ${k}`);
          report.unreadable++;
        }
      }
    }
  }
  return rows;
}

/** The largest key ever given out: sqlite_sequence, else MAX(), else nothing readable. */
function highestKey(db: Database.Database, table: string, key: string): number {
  for (const sql of [`SELECT seq AS k FROM sqlite_sequence WHERE name = '${table}'`, `SELECT MAX(${key}) AS k FROM ${table}`]) {
    try {
      const row = db.prepare(sql).get() as { k: number | null } | undefined;
      if (row?.k) return row.k;
    } catch (e) {
      damaged(e, `finding the last key of ${table}`); // this way reads a damaged page; try the next
    }
  }
  return 0;
}

/** What a damaged file answers a read with (SQLite's primary codes, with their extended ones). */
const DAMAGE = ["SQLITE_CORRUPT", "SQLITE_NOTADB", "SQLITE_IOERR", "SQLITE_ERROR", "SQLITE_FORMAT"];

/** A read the damage explains is skipped quietly; any other failure is logged, and skipped too. */
function damaged(e: unknown, where: string): void {
  const code = errorCode(e) ?? "";
  if (!DAMAGE.some((d) => code === d || code.startsWith(`${d}_`))) unexpected(`salvaging the store: ${where}`, e);
}
