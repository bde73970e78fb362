// The console ring: the newest bytes, and cursors that let a reader resume where it was; and a
// console that was never read from.
import { test } from "node:test";
import assert from "node:assert/strict";
import { fstatSync, openSync } from "node:fs";
import { nodeHost } from "../../src/host/node-host.ts";
import { ConsoleCapture, RingBuffer } from "../../src/runtime/console.ts";

test("keeps the newest bytes", () => {
  const ring = new RingBuffer(8);
  for (const s of ["abc", "defg", "hijkl"]) ring.write(Buffer.from(s));
  assert.equal(ring.contents().toString(), "efghijkl");
});

test("a cursor resumes after what was read; one from another ring or one gone from it starts over", () => {
  const ring = new RingBuffer(8);
  ring.write(Buffer.from("abc"));
  const afterAbc = ring.cursor();
  ring.write(Buffer.from("def"));
  assert.deepEqual(ring.since(afterAbc), { reset: false, data: Buffer.from("def") });
  assert.deepEqual(ring.since(ring.cursor()), { reset: false, data: Buffer.alloc(0) });
  assert.deepEqual(ring.since(undefined), { reset: true, data: Buffer.from("abcdef") });
  assert.deepEqual(ring.since(new RingBuffer(8).cursor()), { reset: true, data: Buffer.from("abcdef") });
  assert.equal(ring.since(`${ring.id}:99`).reset, true, "a cursor past the end");
  ring.write(Buffer.from("ghijk"));
  // the ring holds "defghijk": right after "abc" is its very start, still a place to continue from
  assert.deepEqual(ring.since(afterAbc), { reset: false, data: Buffer.from("defghijk") });
  ring.write(Buffer.from("l"));
  // now "d" is gone too: after "abc" cannot be continued
  assert.deepEqual(ring.since(afterAbc), { reset: true, data: Buffer.from("efghijkl") });
});

test("each run's ring has an id of its own", () => {
  const ids = new Set(Array.from({ length: 100 }, () => new RingBuffer().id));
  assert.equal(ids.size, 100);
});

test("a console whose start failed before the clone (never read) closes both its fds when drained", async () => {
  const [master, slave] = [openSync("/dev/null", "r"), openSync("/dev/null", "r")];
  const console = new ConsoleCapture(nodeHost.files, master, slave, new RingBuffer());
  let closed = false;
  console.onClose(() => (closed = true));
  await console.drain();
  assert.ok(closed);
  for (const fd of [master, slave]) assert.throws(() => fstatSync(fd), { code: "EBADF" });
});
