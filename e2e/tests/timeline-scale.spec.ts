// The host timeline with 200 containers and 50,000 events (served by a real agent from its store):
// it loads, draws every lane, redraws while it is panned and zoomed, and tells what happened where
// the pointer rests. How long a redraw takes is reported, never asserted: a timing in a test fails
// whenever the machine is busy, so draw times belong in the benchmarks (`pnpm bench`).
// It starts its own stack, so it uses Playwright's plain `test` (not the one with the default stack).
import { expect, test, type Page } from "@playwright/test";
import { join } from "node:path";
import { startStack, type Stack } from "../support/stack.ts";
import { seedHistory } from "../support/seed.ts";
import { ARTIFACTS } from "../support/paths.ts";

const CONTAINERS = 200;
const EVENTS = 50_000;

let big: (Stack & { close(): Promise<void> }) | undefined;
test.beforeAll(async () => {
  big = await startStack({ seed: (lxcpath) => seedHistory(lxcpath, CONTAINERS, EVENTS, 6 * 3600_000) });
});
test.afterAll(async () => {
  await big?.close();
});

type DrawLog = { __corralTimelineDraws?: Record<string, number[]> };

/** The durations (ms) of the canvas's draw() calls while `during` runs, as the dashboard records them. */
async function drawTimes(page: Page, testId: string, during: () => Promise<void>): Promise<number[]> {
  const earlier = await page.evaluate((id) => (window as unknown as DrawLog).__corralTimelineDraws?.[id]?.splice(0).length ?? 0, testId);
  expect(earlier, "the timeline records its draws").toBeGreaterThan(0);
  await during();
  await page.waitForTimeout(100); // the last frame's draw
  return page.evaluate((id) => (window as unknown as DrawLog).__corralTimelineDraws?.[id] ?? [], testId);
}

const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

test("the host timeline draws and follows pan and zoom with 200 containers and 50,000 events", async ({ page }, testInfo) => {
  const stack = big!;
  test.setTimeout(180_000);
  await page.goto(`${stack.webUrl}/login`);
  await page.getByTestId("login-password").fill(stack.password);
  await page.getByTestId("login-submit").click();
  await page.goto(`${stack.webUrl}/timeline`);
  const stats = page.getByTestId("timeline-stats");
  await expect(stats).toHaveAttribute("data-event-count", String(EVENTS), { timeout: 60_000 });
  await expect(stats).toHaveAttribute("data-lanes", String(CONTAINERS));
  await page.getByTestId("timeline-all").click();

  const canvas = page.getByTestId("host-timeline-canvas");
  const box = (await canvas.boundingBox())!;
  const draws = await drawTimes(page, "host-timeline", async () => {
    // pan by dragging, then zoom in and out with ctrl + wheel, then scroll the lanes
    await page.mouse.move(box.x + box.width * 0.7, box.y + 200);
    await page.mouse.down();
    for (let i = 0; i < 30; i++) await page.mouse.move(box.x + box.width * 0.7 - i * 12, box.y + 200);
    await page.mouse.up();
    await page.keyboard.down("Control");
    for (let i = 0; i < 15; i++) await page.mouse.wheel(0, i < 8 ? -120 : 120);
    await page.keyboard.up("Control");
    for (let i = 0; i < 10; i++) await page.mouse.wheel(0, 200);
  });
  const p50 = percentile(draws, 0.5);
  const p95 = percentile(draws, 0.95);
  const summary = `${draws.length} draws while panning and zooming: median ${p50.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms`;
  testInfo.annotations.push({ type: "draws", description: summary });
  process.stdout.write(`      ${summary}\n`);
  // every drag step, wheel turn and scroll redraws (a frame each at most): far more than 20
  expect(draws.length).toBeGreaterThan(20);

  // hovering a lane tells what happened there
  await page.getByTestId("timeline-all").click();
  await page.mouse.move(box.x + box.width * 0.5, box.y + 60);
  await expect(page.getByTestId("timeline-tooltip")).toContainText("dashboard:admin");

  const path = join(ARTIFACTS, "timeline-200-lanes.png");
  await page.screenshot({ path });
  await testInfo.attach("timeline-200-lanes", { path, contentType: "image/png" });
});
