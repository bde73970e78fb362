// The container list with 1,000 containers (issue 14): every one is in the grid's row count and
// reachable, by scrolling and by keyboard, while only the rows in view (and a margin) are drawn;
// a state change of a drawn row shows. How long frames take with this many is the bench's to
// report (`pnpm bench --only dashboard`), never a test's to assert.
// It starts its own stack, so it uses Playwright's plain `test` (not the one with the default stack).
import { expect, test } from "@playwright/test";
import { createContainer } from "../../apps/agent/src/containers/create.ts";
import { LxcPath } from "../../apps/agent/src/containers/lxcpath.ts";
import { hydrated, startStack, type Stack } from "../support/stack.ts";

const CONTAINERS = 1000;
const nameOf = (i: number) => `n${String(i).padStart(4, "0")}`;

let big: (Stack & { close(): Promise<void> }) | undefined;
test.beforeAll(async () => {
  test.setTimeout(180_000);
  big = await startStack({
    seed: (lxcpath) => {
      const path = new LxcPath(lxcpath);
      for (let i = 0; i < CONTAINERS; i++) createContainer(path, { name: nameOf(i), template: "host" });
    },
  });
});
test.afterAll(async () => {
  await big?.agent.containers.abort.mutate({ name: nameOf(CONTAINERS - 1) }).catch(() => undefined);
  await big?.close();
});

test("1,000 containers: all counted and reachable, a window of them drawn, changes shown", async ({ page }) => {
  const stack = big!;
  test.setTimeout(180_000);
  await page.goto(`${stack.webUrl}/login`);
  await page.getByTestId("login-user").fill(stack.user);
  await page.getByTestId("login-password").fill(stack.password);
  await page.getByTestId("login-submit").click();
  await hydrated(page);

  const grid = page.getByTestId("container-grid");
  // the header row, the agent's group row, and a row per container
  await expect(grid).toHaveAttribute("aria-rowcount", String(CONTAINERS + 2), { timeout: 60_000 });
  await expect(page.getByTestId(`row-${nameOf(0)}`)).toBeVisible();
  const drawn = await grid.locator("tr.crow").count();
  expect(drawn, "only the rows in view and a margin are drawn").toBeLessThan(150);
  expect(drawn).toBeGreaterThan(10);
  await expect(page.getByTestId(`row-${nameOf(CONTAINERS - 1)}`)).toHaveCount(0);

  // by keyboard: the first row, then End, reaches the last container, drawn and in view
  await page.getByTestId(`row-${nameOf(0)}`).focus();
  await page.keyboard.press("End");
  const last = page.getByTestId(`row-${nameOf(CONTAINERS - 1)}`);
  await expect(last).toBeFocused();
  await expect(last).toBeInViewport();
  await expect(last).toHaveAttribute("aria-rowindex", String(CONTAINERS + 2));
  await page.keyboard.press("ArrowUp");
  await expect(page.getByTestId(`row-${nameOf(CONTAINERS - 2)}`)).toBeFocused();

  // by scrolling: back to the top, the first rows are drawn again and the last are not
  await page.getByTestId("list-scroll").evaluate((el) => el.scrollTo(0, 0));
  await expect(page.getByTestId(`row-${nameOf(0)}`)).toBeInViewport();
  await expect(last).toHaveCount(0);
  // the middle of the list, by scrolling to it
  await page.getByTestId("list-scroll").evaluate((el) => el.scrollTo(0, el.scrollHeight / 2));
  await expect(page.getByTestId(`row-${nameOf(CONTAINERS / 2)}`)).toBeInViewport();

  // a change to a drawn row shows
  await page.getByTestId("list-scroll").evaluate((el) => el.scrollTo(0, el.scrollHeight));
  await expect(last).toBeInViewport();
  await stack.agent.containers.start.mutate({ name: nameOf(CONTAINERS - 1), command: ["sleep", "300"] });
  await expect(last).toHaveAttribute("data-state", "RUNNING");
});
