// The client stores' change notices (src/client/versioned.ts): in a browser, many changes between
// two frames are one notice (one React render), the version moving with each; without
// requestAnimationFrame (Node) each change is told at once.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Versioned } from "../src/client/versioned.ts";

class Store extends Versioned {
  bump(): void {
    this.changed();
  }
}

test("without requestAnimationFrame each change is told at once", () => {
  const s = new Store();
  let told = 0;
  s.subscribe(() => told++);
  s.bump();
  s.bump();
  assert.equal(told, 2);
  assert.equal(s.getVersion(), 2);
});

test("in a browser, the changes of one frame are told once, at the frame", () => {
  const frames: Array<() => void> = [];
  const g = globalThis as { requestAnimationFrame?: (f: () => void) => number };
  g.requestAnimationFrame = (f) => frames.push(f);
  try {
    const s = new Store();
    let told = 0;
    s.subscribe(() => told++);
    for (let i = 0; i < 30; i++) s.bump();
    assert.equal(told, 0);
    assert.equal(s.getVersion(), 30, "the version moves with each change");
    assert.equal(frames.length, 1, "one frame asked for");
    frames.shift()!();
    assert.equal(told, 1);
    s.bump();
    assert.equal(frames.length, 1, "the next change asks for the next frame");
  } finally {
    delete g.requestAnimationFrame;
  }
});
