// What the dashboard's specs do again and again: names of their own, a mark that a reload would
// lose, selecting a container, a row's state, confirming a destructive action, a screenshot.
import AxeBuilder from "@axe-core/playwright";
import { join } from "node:path";
import type { Page, TestInfo } from "@playwright/test";
import { expect } from "./stack.ts";
import { ARTIFACTS } from "./paths.ts";

let counter = 0;
/** A container name no other test uses. */
export const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${counter++}`;

/** Mark the page: a reload would lose the mark. */
export async function markPage(page: Page): Promise<void> {
  await page.evaluate(() => ((window as unknown as { __e2eMark: number }).__e2eMark = 42));
}
export async function expectNoReload(page: Page): Promise<void> {
  expect(await page.evaluate(() => (window as unknown as { __e2eMark?: number }).__e2eMark)).toBe(42);
}

export async function selectContainer(page: Page, name: string): Promise<void> {
  await page.getByTestId(`row-${name}`).click();
  await expect(page.getByTestId("detail-name")).toHaveText(name);
}

export const rowState = (page: Page, name: string) => page.getByTestId(`row-${name}`).getByTestId("state");

/** The confirmation a destructive action asks for: its title and the containers it names, then confirm. */
export async function confirmDialog(page: Page, title: string, names: string[]): Promise<void> {
  const dialog = page.getByRole("alertdialog", { name: title });
  await expect(dialog).toBeVisible();
  await expect(dialog.getByTestId("confirm-names").getByRole("listitem")).toHaveText(names);
  await dialog.getByTestId("confirm-ok").click();
  await expect(page.getByTestId("confirm-dialog")).toHaveCount(0);
}

export async function screenshot(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: false });
  await testInfo.attach(name, { path, contentType: "image/png" });
}

/** axe on the page as it is: no serious or critical violation. */
export async function noSeriousViolations(page: Page, what: string): Promise<void> {
  const { violations } = await new AxeBuilder({ page }).analyze();
  const bad = violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help}: ${v.nodes.slice(0, 4).map((n) => n.target.join(" ")).join(" | ")}`);
  expect(bad, `axe on ${what}`).toEqual([]);
}
