// Background creates: progress kept for readers with a cursor, the outcome kept a while.
import { it } from "node:test";
import assert from "node:assert/strict";
import { CreateJobs } from "../../src/containers/create-jobs.ts";
import type { Progress } from "../../src/containers/debian.ts";

function controlled() {
  let progress: Progress = () => {};
  let finish: (error?: Error) => void = () => {};
  const work = (p: Progress) => {
    progress = p;
    return new Promise<{ name: string; configPath: string; warnings: string[] }>((resolve, reject) => {
      finish = (error) => (error ? reject(error) : resolve({ name: "a", configPath: "/x", warnings: [] }));
    });
  };
  return { work, say: (l: string) => progress(l), finish: (e?: Error) => finish(e) };
}

it("a reader follows the lines with its cursor, then sees the end", async () => {
  const jobs = new CreateJobs();
  const job = controlled();
  const ends: Array<Error | undefined> = [];
  jobs.start("a", job.work, (e) => ends.push(e));
  assert.equal(jobs.running("a"), true);
  assert.equal(jobs.progress("b"), undefined);
  job.say("one");
  job.say("two");
  const first = jobs.progress("a")!;
  assert.deepEqual(first, { name: "a", lines: ["one", "two"], next: 2, done: false, error: undefined, missed: 0 });
  job.say("three");
  assert.deepEqual(jobs.progress("a", first.next)!.lines, ["three"]);
  assert.throws(() => jobs.start("a", job.work), /already running/);
  job.finish();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(jobs.progress("a", 3), { name: "a", lines: [], next: 3, done: true, error: undefined, missed: 0 });
  assert.deepEqual(ends, [undefined]);
  assert.equal(jobs.running("a"), false);
});

it("a failure is the outcome; a slow reader is told what it missed; ended jobs are forgotten after a while", async () => {
  let now = 0;
  const jobs = new CreateJobs({ maxLines: 3, keepMs: 1000, now: () => now });
  const job = controlled();
  jobs.start("a", job.work);
  for (const l of ["1", "2", "3", "4", "5"]) job.say(l);
  assert.deepEqual(jobs.progress("a", 1), { name: "a", lines: ["3", "4", "5"], next: 5, done: false, error: undefined, missed: 1 });
  job.finish(new Error("mmdebstrap exited with 1"));
  await new Promise((r) => setImmediate(r));
  assert.equal(jobs.progress("a", 5)!.error, "mmdebstrap exited with 1");
  now = 1001;
  assert.equal(jobs.progress("a"), undefined);
});
