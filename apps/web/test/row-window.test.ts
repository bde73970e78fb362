import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { OVERSCAN_ROWS, rowWindow, scrollToShow, WINDOW_FROM_ROWS } from "../src/lib/row-window.ts";

describe("rowWindow", () => {
  it("draws a short list whole", () => {
    assert.deepEqual(rowWindow(WINDOW_FROM_ROWS, 30, 900, 600), { first: 0, end: WINDOW_FROM_ROWS });
  });

  it("draws the viewport of a long list and a margin each side", () => {
    // 1,000 rows of 30 px, scrolled to row 500, a viewport of 20 rows
    assert.deepEqual(rowWindow(1000, 30, 15_000, 600), { first: 500 - OVERSCAN_ROWS, end: 520 + OVERSCAN_ROWS });
  });

  it("stays within the list at both ends", () => {
    assert.deepEqual(rowWindow(1000, 30, 0, 600), { first: 0, end: 20 + OVERSCAN_ROWS });
    assert.deepEqual(rowWindow(1000, 30, 29_400, 600), { first: 980 - OVERSCAN_ROWS, end: 1000 });
    // scrolled past the end (the list just shrank): still a row to draw
    const w = rowWindow(200, 30, 50_000, 600);
    assert.ok(w.first < w.end && w.end === 200);
  });
});

describe("scrollToShow", () => {
  it("leaves a row in view where it is", () => {
    assert.equal(scrollToShow(10, 30, 0, 600), undefined);
  });
  it("scrolls up to a row above the viewport, down to one below it", () => {
    assert.equal(scrollToShow(5, 30, 600, 600), 150);
    assert.equal(scrollToShow(999, 30, 0, 600, 28), 999 * 30 + 30 + 28 - 600);
  });
});
