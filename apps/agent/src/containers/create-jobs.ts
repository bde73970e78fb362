// Creates that run in the background (the debian template builds for minutes the first time):
// each keeps its progress lines, so that a client can follow it by polling with a cursor, and
// its outcome for a while after it ends. The API answers a create at once and the caller reads
// the progress here; nothing waits on a request for minutes.
import type { CreateResult } from "./create.ts";
import type { Progress } from "./debian.ts";

/** What a reader gets: the lines after its cursor, the next cursor, and the outcome once done. */
export interface CreateProgress {
  name: string;
  lines: string[];
  /** pass it back as `after` for the lines that follow */
  next: number;
  done: boolean;
  /** set when the create failed (done is then true) */
  error?: string;
  /** lines that fell out of the kept window before this reader got them */
  missed: number;
}

interface Job {
  lines: string[];
  /** how many lines were dropped from the front of `lines` */
  dropped: number;
  done: boolean;
  error?: string;
  endedAt?: number;
}

export class CreateJobs {
  private readonly jobs = new Map<string, Job>();

  constructor(private readonly opts: { maxLines?: number; keepMs?: number; now?: () => number } = {}) {}

  private get maxLines(): number {
    return this.opts.maxLines ?? 2000;
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  /** Forget jobs that ended more than keepMs ago (10 minutes by default). */
  private prune(): void {
    const keep = this.opts.keepMs ?? 10 * 60_000;
    for (const [name, job] of this.jobs) if (job.endedAt !== undefined && this.now() - job.endedAt > keep) this.jobs.delete(name);
  }

  /**
   * Run `work` for `name`, its progress recorded; `onEnd` hears the outcome. A name already
   * running is a programming error: the caller reserved the name before (beginCreate).
   */
  start(name: string, work: (progress: Progress) => Promise<CreateResult>, onEnd: (error?: Error) => void = () => {}): void {
    this.prune();
    const current = this.jobs.get(name);
    if (current && !current.done) throw new Error(`a create of ${name} is already running`);
    const job: Job = { lines: [], dropped: 0, done: false };
    this.jobs.set(name, job);
    const record: Progress = (line) => {
      job.lines.push(line);
      if (job.lines.length > this.maxLines) {
        const over = job.lines.length - this.maxLines;
        job.lines.splice(0, over);
        job.dropped += over;
      }
    };
    work(record).then(
      () => {
        job.done = true;
        job.endedAt = this.now();
        onEnd();
      },
      (e: Error) => {
        job.done = true;
        job.error = e.message;
        job.endedAt = this.now();
        onEnd(e);
      },
    );
  }

  running(name: string): boolean {
    const job = this.jobs.get(name);
    return job !== undefined && !job.done;
  }

  /** The progress of the create of `name` after cursor `after`; undefined when none is known. */
  progress(name: string, after = 0): CreateProgress | undefined {
    this.prune();
    const job = this.jobs.get(name);
    if (!job) return undefined;
    const first = Math.max(after, job.dropped);
    return {
      name,
      lines: job.lines.slice(first - job.dropped),
      next: job.dropped + job.lines.length,
      done: job.done,
      error: job.error,
      missed: first - after,
    };
  }
}
