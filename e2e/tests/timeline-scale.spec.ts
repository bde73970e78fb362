// The host timeline with 200 containers and 50,000 events (served by a real agent from its store):
// it loads, draws every lane, and stays smooth while it is panned and zoomed.
import type { Page } from "@playwright/test";
import { join } from "node:path";
import { expect, startStack, test, type Stack } from "../support/stack.ts";
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

/** Frame intervals (ms) measured with requestAnimationFrame while `during` runs. */
async function frames(page: Page, during: () => Promise<void>): Promise<number[]> {
  await page.evaluate(() => {
    const w = window as unknown as { __frames: number[]; __stop: boolean };
    w.__frames = [];
    w.__stop = false;
    let last = performance.now();
    const tick = (t: number) => {
      w.__frames.push(t - last);
      last = t;
      if (!w.__stop) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  await during();
  return page.evaluate(() => {
    const w = window as unknown as { __frames: number[]; __stop: boolean };
    w.__stop = true;
    return w.__frames.slice(1);
  });
}

const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

test("the host timeline stays smooth with 200 containers and 50,000 events", async ({ page }, testInfo) => {
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
  const intervals = await frames(page, async () => {
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
  const p50 = percentile(intervals, 0.5);
  const p95 = percentile(intervals, 0.95);
  const summary = `${intervals.length} frames while panning and zooming: median ${p50.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms`;
  testInfo.annotations.push({ type: "frames", description: summary });
  process.stdout.write(`      ${summary}\n`);
  expect(intervals.length).toBeGreaterThan(20);
  expect(p50).toBeLessThan(50);
  expect(p95).toBeLessThan(150);

  // hovering a lane tells what happened there
  await page.getByTestId("timeline-all").click();
  await page.mouse.move(box.x + box.width * 0.5, box.y + 60);
  await expect(page.getByTestId("timeline-tooltip")).toContainText("dashboard:admin");

  const path = join(ARTIFACTS, "timeline-200-lanes.png");
  await page.screenshot({ path });
  await testInfo.attach("timeline-200-lanes", { path, contentType: "image/png" });
});
