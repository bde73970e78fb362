// The downsampled history of resource samples, in the agent's SQLite store beside the timeline: one
// row a container a minute (the host's under the name ""), kept 24 hours, so graphs of the last
// day survive an agent restart. Bounded: rows older than the retention go at every write, and
// past MAX_ROWS (a host that ran thousands of short-lived containers in a day) the oldest go too.
import type Database from "better-sqlite3";
import { SAMPLE_FIELDS, type Sample } from "@corral/core";

/** 200 containers for 24 h at one row a minute is 288,000 rows: room for twice that. */
export const MAX_SAMPLE_ROWS = 600_000;

const COLUMNS = ["cpu", "mem", "mem_peak", "mem_limit", "oom_kills", "io_read", "io_write", "net_rx", "net_tx", "pids", "running"] as const;
const FIELDS = [...SAMPLE_FIELDS, "running"] as const;

type SampleRow = { container: string; t: number } & Record<(typeof COLUMNS)[number], number | null>;

export class SampleHistory {
  private readonly insert: Database.Statement;
  private readonly select: Database.Statement;

  constructor(private readonly db: Database.Database, private readonly keepMs: number, private readonly maxRows = MAX_SAMPLE_ROWS) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS samples (
        container TEXT NOT NULL, t INTEGER NOT NULL,
        ${COLUMNS.map((c) => `${c} REAL`).join(", ")},
        PRIMARY KEY (container, t)) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS samples_t ON samples (t);
    `);
    this.insert = db.prepare(`INSERT OR REPLACE INTO samples (container, t, ${COLUMNS.join(", ")}) VALUES (?, ?, ${COLUMNS.map(() => "?").join(", ")})`);
    this.select = db.prepare(`SELECT * FROM samples WHERE container = ? AND t >= ? AND t < ? ORDER BY t`);
  }

  /** Store one minute's points (container name -> point; "" is the host), then prune. */
  write(points: ReadonlyMap<string, Sample>, now: number): void {
    this.db.transaction(() => {
      for (const [container, s] of points) {
        this.insert.run(container, s.t, ...FIELDS.map((f) => s[f] ?? null));
      }
      this.prune(now);
    })();
  }

  /** Points of one container ("" the host) with from <= t < to, oldest first. */
  range(container: string, from: number, to: number): Sample[] {
    return (this.select.all(container, from, to) as SampleRow[]).map((r) => {
      const s = { t: r.t } as Sample;
      for (const [i, f] of SAMPLE_FIELDS.entries()) s[f] = r[COLUMNS[i]!];
      if (r.running !== null) s.running = r.running;
      return s;
    });
  }

  prune(now: number): number {
    let removed = this.db.prepare("DELETE FROM samples WHERE t < ?").run(now - this.keepMs).changes;
    const { n } = this.db.prepare("SELECT COUNT(*) AS n FROM samples").get() as { n: number };
    if (n > this.maxRows) {
      removed += this.db.prepare("DELETE FROM samples WHERE t <= (SELECT t FROM samples ORDER BY t LIMIT 1 OFFSET ?)").run(n - this.maxRows - 1).changes;
    }
    return removed;
  }

  rows(): number {
    return (this.db.prepare("SELECT COUNT(*) AS n FROM samples").get() as { n: number }).n;
  }
}
