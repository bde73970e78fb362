// Alerts in the dashboard (issue 12, item 4): a container killed by its memory limit raises a toast
// naming OOM and the bell's count goes up; acknowledging it in the bell's list brings the count
// back down. The bell's list and the toast pass axe in light, dark and at a phone's size.
import type { Page } from "@playwright/test";
import { expect, hydrated, test } from "../support/stack.ts";
import { unique, noSeriousViolations } from "../support/ui.ts";

const HOG = ["sh", "-c", "x=aaaaaaaaaaaaaaaa; while :; do x=$x$x; done"];


const count = async (page: Page) => Number(await page.getByTestId("alert-count").textContent());

test("an OOM kill raises a toast naming OOM; the bell counts it until it is acknowledged", async ({ signedIn: page, stack }) => {
  const name = unique("hog");
  await stack.agent.containers.create.mutate({ name, template: "host", config: "lxc.cgroup2.memory.max = 32M\n" });
  await page.goto(`/?q=${name}`);
  await hydrated(page);
  await expect(page.getByTestId("agent-local")).toContainText("live");
  const bell = page.getByTestId("alert-bell");
  await expect(bell).toBeVisible();
  const before = (await stack.agent.alerts.list.query({ unacknowledged: true })).unacknowledged;
  await expect.poll(() => count(page)).toBe(before);

  await stack.agent.containers.start.mutate({ name, command: HOG });
  const toast = page.getByTestId("alert-toast").filter({ hasText: name });
  await expect(toast).toContainText("OOM", { timeout: 30_000 });
  await expect(page.getByTestId("alert-toasts")).toHaveAttribute("role", "status");
  await expect.poll(() => count(page)).toBe(before + 1);
  await expect(bell).toHaveAttribute("aria-label", `Alerts: ${before + 1} not acknowledged`);

  await bell.click();
  await expect(bell).toHaveAttribute("aria-expanded", "true");
  const row = page.getByTestId("alert-panel").locator("li[data-kind='oom-killed']").filter({ hasText: name });
  await expect(row).toContainText("OOM-killed");
  await noSeriousViolations(page, "the bell's list and a toast, light");
  await page.emulateMedia({ colorScheme: "dark" });
  await noSeriousViolations(page, "the bell's list and a toast, dark");
  await page.emulateMedia({ colorScheme: "light" });

  await row.getByTestId("alert-ack").click();
  await expect.poll(() => count(page)).toBe(before);
  await expect(row).toContainText("acknowledged by");
  await expect(row.getByTestId("alert-ack")).toHaveCount(0);
  await expect(toast).toHaveCount(0);
  const stored = await stack.agent.alerts.list.query({ unacknowledged: true });
  expect(stored.unacknowledged).toBe(before);

  // a reload reads the count from the agent again
  await page.reload();
  await hydrated(page);
  await expect.poll(() => count(page)).toBe(before);
  await page.keyboard.press("Escape");
});

test("the bell and its list fit a phone and pass axe there", async ({ signedIn: page }) => {
  await page.setViewportSize({ width: 390, height: 800 });
  await page.goto("/");
  await hydrated(page);
  const bell = page.getByTestId("alert-bell");
  await bell.click();
  const panel = page.getByTestId("alert-panel");
  await expect(panel).toBeVisible();
  const box = (await panel.boundingBox())!;
  expect(box.x).toBeGreaterThanOrEqual(0);
  expect(box.x + box.width).toBeLessThanOrEqual(390);
  await noSeriousViolations(page, "the bell's list on a phone");
  await page.keyboard.press("Escape");
  await expect(panel).toHaveCount(0);
  await expect(bell).toBeFocused();
  // a click elsewhere closes it too
  await bell.click();
  await expect(panel).toBeVisible();
  await page.getByTestId("nav-containers").click();
  await expect(panel).toHaveCount(0);
});
