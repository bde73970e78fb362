// A Debian container with systemd, driven from the dashboard: started with its button, logged
// into on its console as an operator would (the login prompt, the password, a shell), then
// stopped with its button, which halts systemd instead of killing it. The rootfs comes from the
// debian template's cache (built once on the machine, by the root tests or the first create).
import type { Page } from "@playwright/test";
import { expect, test } from "../support/stack.ts";

const PASSWORD = "e2e-console";

const rowState = (page: Page, name: string) => page.getByTestId(`row-${name}`).getByTestId("state");

test("log in on a Debian container's console in the dashboard, then stop it cleanly", async ({ signedIn: page, stack }) => {
  test.setTimeout(20 * 60_000); // a first build of the Debian base downloads it
  const name = `deb-${Date.now().toString(36)}`;
  const made = await stack.agent.containers.create.mutate({ name, template: "debian", rootPassword: PASSWORD });
  if (made.building) {
    await expect.poll(async () => (await stack.agent.containers.createProgress.query({ name }))?.done ?? false, { timeout: 18 * 60_000, intervals: [1000] }).toBe(true);
    const outcome = await stack.agent.containers.createProgress.query({ name });
    expect(outcome?.error, "the debian template built the container").toBeUndefined();
  }

  await expect(page.getByTestId(`row-${name}`)).toBeVisible({ timeout: 15_000 });
  await page.getByTestId(`row-${name}`).click();
  await expect(page.getByTestId("detail-name")).toHaveText(name);
  await page.getByTestId("action-start").click();
  await expect(rowState(page, name)).toHaveText("RUNNING");

  // the console shows systemd's boot, then a getty's prompt
  await page.getByTestId("tab-console").click();
  await expect(page.getByTestId("console-status")).toHaveText("attached");
  const consoleView = page.getByTestId("console");
  await expect(consoleView).toContainText("Debian GNU/Linux 12", { timeout: 60_000 });
  await expect(consoleView).toContainText("login:", { timeout: 60_000 });
  await consoleView.click();
  await page.keyboard.type("root\n");
  await expect(consoleView).toContainText("Password:");
  await page.keyboard.type(`${PASSWORD}\n`);
  await expect(consoleView).toContainText(`root@${name}:~#`);
  await page.keyboard.type("echo logged-in-$(id -un)-$((6*7))\n");
  await expect(consoleView).toContainText("logged-in-root-42");

  // Stop: systemd hears SIGRTMIN+3 and halts itself, well before the kill
  await page.getByTestId("action-stop").click();
  await expect(rowState(page, name)).toHaveText("STOPPED", { timeout: 60_000 });
  const stopped = await stack.agent.containers.get.query({ name });
  expect(stopped.lastExit?.status, "ended by systemd's halt (SIGINT), not SIGKILL").toBe(2);
  await page.getByTestId("tab-timeline").click();
  await expect(page.getByTestId("event-row").filter({ hasText: "SIGRTMIN+3 sent" }).first()).toBeVisible();
  await expect(page.getByTestId("event-row").filter({ hasText: "halt" }).first()).toBeVisible();
  await stack.agent.containers.delete.mutate({ name });
});
