// The console ring: the newest bytes, and cursors that let a reader resume where it was.
import { test } from "node:test";
import assert from "node:assert/strict";
import { RingBuffer } from "../../src/runtime/console.ts";

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
