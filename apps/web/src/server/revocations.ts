// Signed-out sessions, shared by every dashboard server that shares the key: a session cookie is
// signed, so any server accepts it until it expires, and signing out must be written where all of
// them look. The list is a directory of files, one per hour in which the sessions it holds expire
// ("<hour>.revoked", one session id a line), each line appended with O_APPEND (one write of a few
// bytes, which no other server's append can split). A server reads a file again only when its
// size changed (one stat per check), and only what was added. A file whose hour has passed names
// sessions that have expired anyway: the next sign-out deletes it, so nothing is ever rewritten
// while another server may append to it. Server only.
import { appendFileSync, closeSync, mkdirSync, openSync, readdirSync, readSync, statSync, unlinkSync } from "node:fs";
import { join } from "node:path";

const HOUR_MS = 3600_000;
const SID = /^[A-Za-z0-9_-]{16,64}$/;

interface FileView {
  /** bytes read so far (complete lines only) */
  offset: number;
  ino: number;
  sids: Set<string>;
}

export class RevocationList {
  private readonly files = new Map<string, FileView>();

  constructor(readonly dir: string) {}

  private pathFor(exp: number): string {
    return join(this.dir, `${Math.floor(exp / HOUR_MS)}.revoked`);
  }

  /** Signs out the session `sid` (which expires at `exp`, ms) on every server reading this list. */
  revoke(sid: string, exp: number, now = Date.now()): void {
    if (!SID.test(sid)) throw new Error(`not a session id: ${sid.slice(0, 20)}`);
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    appendFileSync(this.pathFor(exp), `${sid}\n`, { mode: 0o600 });
    this.prune(now);
  }

  /** Whether `sid` (expiring at `exp`) was signed out, here or on another server. */
  isRevoked(sid: string, exp: number): boolean {
    const path = this.pathFor(exp);
    let st;
    try {
      st = statSync(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return false; // nobody signed out in that hour
      throw e;
    }
    let view = this.files.get(path);
    if (!view || view.ino !== st.ino || st.size < view.offset) {
      view = { offset: 0, ino: st.ino, sids: new Set() };
      this.files.set(path, view);
    }
    if (st.size > view.offset) this.readMore(path, view, st.size);
    return view.sids.has(sid);
  }

  private readMore(path: string, view: FileView, size: number): void {
    const fd = openSync(path, "r");
    try {
      const buf = Buffer.alloc(size - view.offset);
      const n = readSync(fd, buf, 0, buf.length, view.offset);
      const text = buf.subarray(0, n).toString("utf8");
      const end = text.lastIndexOf("\n") + 1; // a line still being written is read next time
      for (const line of text.slice(0, end).split("\n")) if (line) view.sids.add(line);
      view.offset += Buffer.byteLength(text.slice(0, end));
    } finally {
      closeSync(fd);
    }
  }

  /** Deletes the files of hours that have passed: every session in them has expired. */
  private prune(now: number): void {
    const current = Math.floor(now / HOUR_MS);
    for (const name of readdirSync(this.dir)) {
      const hour = /^(\d+)\.revoked$/.exec(name)?.[1];
      if (hour === undefined || Number(hour) >= current) continue;
      try {
        unlinkSync(join(this.dir, name));
        this.files.delete(join(this.dir, name));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e; // ENOENT: another server deleted it first
      }
    }
  }
}
