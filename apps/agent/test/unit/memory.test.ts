// When the agent asks V8 for a full GC to give a burst's heap back (src/memory.ts).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { gcDue } from "../../src/memory.ts";

const MB = 1024 * 1024;

describe("gcDue", () => {
  it("asks for a GC once the loop is quiet and the heap holds far more than it uses", () => {
    assert.equal(gcDue(0.01, 110 * MB, 22 * MB, 0), true);
  });
  it("never while the loop is busy: the pause would land on requests", () => {
    assert.equal(gcDue(0.5, 110 * MB, 22 * MB, 0), false);
  });
  it("not for a little slack", () => {
    assert.equal(gcDue(0.01, 40 * MB, 30 * MB, 0), false);
  });
  it("not again for a heap that has not grown since a GC that could not shrink it", () => {
    assert.equal(gcDue(0.01, 60 * MB, 30 * MB, 60 * MB), false);
    assert.equal(gcDue(0.01, 80 * MB, 30 * MB, 60 * MB), true);
  });
});
