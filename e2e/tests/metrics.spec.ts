// The Metrics tab (issue 12, item 6): a busy container's CPU rises in its graph and in its row's
// sparkline, its memory is shown against its limit, and its state changes are on the graphs' axis.
// Asserts on the figures the page exposes (data-last, captions), never on pixels.
import { expect, hydrated, test } from "../support/stack.ts";
import { unique } from "../support/ui.ts";

const lastOf = (locator: import("@playwright/test").Locator) => async () => Number((await locator.getAttribute("data-last")) || "0");

test("a busy container's CPU rises in its graph and its sparkline; memory against its limit; the host's summary", async ({ signedIn: page, stack }) => {
  const name = unique("busy");
  await stack.agent.containers.create.mutate({ name, template: "host", config: "lxc.cgroup2.memory.max = 64M\nlxc.cgroup2.pids.max = 200\n" });
  await page.goto(`/?q=${name}&c=local/${name}&tab=metrics`);
  await hydrated(page);
  const cpu = page.getByTestId("metric-cpu");
  await expect(cpu).toBeVisible();
  // stopped: nothing sampled yet
  await expect(page.getByTestId("metrics-empty")).toBeVisible();
  expect(await cpu.getAttribute("data-last")).toBe("");

  await stack.agent.containers.start.mutate({ name, command: ["sh", "-c", "while :; do :; done"] });
  await expect(page.getByTestId("detail-state")).toHaveText("RUNNING");
  // a core's worth of a busy loop, on a 2-core machine shared with other work: well above 20 %
  await expect.poll(lastOf(cpu), { timeout: 30_000 }).toBeGreaterThan(20);
  expect(Number(await cpu.getAttribute("data-points"))).toBeGreaterThan(1);
  await expect(page.getByTestId("metric-cpu-last")).toHaveText(/^\d+\.\d %$/);
  await expect(page.getByTestId("metric-mem-note")).toContainText("of 64 MiB");
  expect(await page.getByTestId("metric-mem").getAttribute("data-last")).not.toBe("");
  await expect.poll(lastOf(page.getByTestId("metric-pids"))).toBeGreaterThanOrEqual(1);
  // the host template has no veth: the network graph says so rather than drawing zeros
  await expect(page.getByTestId("metric-net-note")).toContainText("no veth");

  // the list: the row's sparkline, and the host's summary on the agent's row
  const cell = page.getByTestId(`row-${name}`).getByTestId("cpu-cell");
  await expect.poll(lastOf(cell), { timeout: 30_000 }).toBeGreaterThan(20);
  await expect(page.getByTestId(`spark-${name}`)).toHaveAttribute("role", "img");
  await expect.poll(async () => Number(await page.getByTestId("host-summary").getAttribute("data-cpu"))).toBeGreaterThan(20);
  await expect(page.getByTestId("host-summary")).toContainText("running");

  // the last hour: the same samples (the store's minutes before the last 10), and the span is kept
  await page.getByTestId("metrics-span-1h").click();
  await expect(page.getByTestId("metrics-span-1h")).toHaveAttribute("aria-pressed", "true");
  await expect(page.getByTestId("metrics-tab")).toHaveAttribute("data-span", "1h");
  await expect.poll(lastOf(cpu)).toBeGreaterThan(20);

  // stopped: the graph keeps what it had, the row has no sparkline
  await stack.agent.containers.stop.mutate({ name, kill: true });
  await expect(page.getByTestId("detail-state")).toHaveText("STOPPED");
  await expect(page.getByTestId(`row-${name}`).getByTestId("cpu-cell")).toHaveCount(0);
  expect(Number(await cpu.getAttribute("data-points"))).toBeGreaterThan(1);
});
