// Restart policy from the dashboard (issue 12, item 3): the panel's select sets it, a container
// that keeps failing is restarted by the policy, and the list marks it flapping.
import { expect, hydrated, test } from "../support/stack.ts";
import { unique } from "../support/ui.ts";

test("a container set to restart on failure that keeps failing is restarted, then marked flapping in the list", async ({ signedIn: page, stack }) => {
  const name = unique("flap");
  await stack.agent.containers.create.mutate({ name, template: "host", config: 'lxc.init.cmd = sh -c "exit 3"\n' });
  await page.goto(`/?c=local/${name}`);
  await hydrated(page);
  await expect(page.getByTestId("restart-policy")).toHaveValue("never");
  await page.getByTestId("restart-policy").selectOption("on-failure");
  await expect(page.getByTestId("restart-policy")).toHaveValue("on-failure");
  expect((await stack.agent.containers.get.query({ name })).restart?.policy).toBe("on-failure");
  await page.getByTestId("action-start").click();
  // restarts 1 s, 2 s, 4 s apart by default: the third abnormal stop marks it flapping
  const row = page.getByTestId(`row-${name}`);
  await expect(row.getByTestId("flapping")).toBeVisible({ timeout: 20_000 });
  await expect(page.getByTestId("detail-restart")).toHaveAttribute("data-flapping", "true");
  await expect(page.getByTestId("detail-restart")).toContainText("flapping");
  const starts = (await stack.agent.events.list.query({ container: name })).events.filter((e) => e.state === "STARTING");
  expect(starts.slice(1).map((e) => e.cause.actor)).toContain("restart policy");
  await page.getByTestId("restart-policy").selectOption("never");
  await expect.poll(async () => (await stack.agent.containers.get.query({ name })).restart?.policy).toBe("never");
});
