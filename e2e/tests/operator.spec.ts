// The operator's day (issue 13): the dashboard with the keyboard alone, checked with axe on every
// page, at a phone's size, in dark mode, and with its view kept in the URL across a reload.
import type { Locator, Page } from "@playwright/test";
import { expect, hydrated, signIn, test, type Stack } from "../support/stack.ts";
import { unique, noSeriousViolations } from "../support/ui.ts";
const LOOP = 'lxc.init.cmd = sh -c "while :; do sleep 1; done"\n';


/** Press Tab (or Shift+Tab) until the element with this test id has the focus; fail after `max` presses. */
async function tabTo(page: Page, testId: string, { back = false, max = 40 } = {}): Promise<void> {
  for (let i = 0; i < max; i++) {
    if ((await page.evaluate(() => document.activeElement?.getAttribute("data-testid"))) === testId) return;
    await page.keyboard.press(back ? "Shift+Tab" : "Tab");
  }
  throw new Error(`${testId} never got the focus in ${max} presses of ${back ? "Shift+Tab" : "Tab"}`);
}

const focusedTestId = (page: Page) => page.evaluate(() => document.activeElement?.getAttribute("data-testid") ?? document.activeElement?.tagName);

async function createLooping(stack: Stack, ...names: string[]): Promise<void> {
  for (const name of names) await stack.agent.containers.create.mutate({ name, template: "host", config: LOOP });
}

async function fitsWidth(locator: Locator, width: number): Promise<void> {
  await expect(locator).toBeVisible();
  const box = (await locator.boundingBox())!;
  expect(box.x, `${locator.toString()} starts on screen`).toBeGreaterThanOrEqual(0);
  expect(box.x + box.width, `${locator.toString()} ends on screen`).toBeLessThanOrEqual(width);
}

test("axe finds no serious or critical violation on any page", async ({ page, stack }) => {
  const name = unique("axe");
  await createLooping(stack, name);
  await stack.agent.containers.start.mutate({ name });

  await page.goto("/login");
  await noSeriousViolations(page, "the sign-in page");
  await signIn(page, stack);
  await page.goto(`/?c=local/${name}`);
  await hydrated(page);
  await expect(page.getByTestId("detail-state")).toHaveText("RUNNING");
  await expect(page.getByTestId("event-row").first()).toBeVisible();
  await noSeriousViolations(page, "the containers page, Timeline tab");
  for (const tab of ["metrics", "console", "config", "audit"] as const) {
    await page.getByTestId(`tab-${tab}`).click();
    if (tab === "metrics") await expect(page.getByTestId("metric-cpu")).toBeVisible();
    if (tab === "console") await expect(page.getByTestId("console-status")).toHaveText("attached");
    if (tab === "config") await expect(page.getByTestId("config-text")).toBeVisible();
    if (tab === "audit") await expect(page.getByTestId("audit-row").first()).toBeVisible();
    await noSeriousViolations(page, `the containers page, ${tab} tab`);
  }
  await page.getByTestId("action-abort").click();
  await expect(page.getByTestId("confirm-dialog")).toBeVisible();
  await noSeriousViolations(page, "the confirmation of an abort");
  await page.getByTestId("confirm-cancel").click();
  await page.getByTestId("create-open").click();
  await expect(page.getByTestId("create-dialog")).toBeVisible();
  await noSeriousViolations(page, "the create dialog");
  await page.keyboard.press("Escape");

  await page.goto(`/timeline?q=${name}`);
  await hydrated(page);
  await expect(page.getByTestId("lane-event-row").first()).toBeVisible();
  await noSeriousViolations(page, "the timeline page");
});

test("start, console, stop and a bulk delete with the keyboard alone", async ({ signedIn: page, stack }) => {
  const prefix = unique("kbd");
  const [a, b] = [`${prefix}-a`, `${prefix}-b`];
  // the host template's default init: a shell on the console
  for (const name of [a, b]) await stack.agent.containers.create.mutate({ name, template: "host" });
  await page.goto(`/?q=${prefix}`);
  await hydrated(page);
  await expect(page.getByTestId(`row-${b}`)).toBeVisible();

  // the grid is one tab stop; arrows move between rows, Enter opens one
  await tabTo(page, `row-${a}`);
  await page.keyboard.press("ArrowDown");
  await expect(page.getByTestId(`row-${b}`)).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("detail-name")).toHaveText(b);
  await page.keyboard.press("Home");
  await expect(page.getByTestId(`row-${a}`)).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("detail-name")).toHaveText(a);
  await expect(page.getByTestId(`row-${a}`)).toHaveAttribute("aria-selected", "true");

  // start
  await tabTo(page, "action-start");
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("detail-state")).toHaveText("RUNNING");

  // the tabs: arrow keys move and show, Home and End go to the ends
  await tabTo(page, "tab-timeline");
  await page.keyboard.press("End");
  await expect(page.getByTestId("tab-audit")).toBeFocused();
  await expect(page.getByTestId("tab-audit")).toHaveAttribute("aria-selected", "true");
  await page.keyboard.press("Home");
  await expect(page.getByTestId("tab-timeline")).toBeFocused();
  await page.keyboard.press("ArrowLeft");
  await expect(page.getByTestId("tab-audit")).toBeFocused();
  await page.keyboard.press("ArrowRight");
  await page.keyboard.press("ArrowRight");
  await expect(page.getByTestId("tab-metrics")).toHaveAttribute("aria-selected", "true");
  await page.keyboard.press("ArrowRight");
  await expect(page.getByTestId("tab-console")).toBeFocused();
  await expect(page.getByTestId("tab-console")).toHaveAttribute("aria-selected", "true");
  await expect(page.getByTestId("console-status")).toHaveText("attached");

  // the console: Tab into it, type, see the answer; Shift+Tab leaves it
  await page.keyboard.press("Tab");
  expect(await page.evaluate(() => document.activeElement?.closest("[data-testid=console]") !== null)).toBe(true);
  await page.keyboard.type("echo keyboard-says-$((6*7))\n");
  await expect(page.getByTestId("console")).toContainText("keyboard-says-42");
  await page.keyboard.press("Shift+Tab");
  expect(await page.evaluate(() => document.activeElement?.closest("[data-testid=console]") === null)).toBe(true);

  // stop
  await tabTo(page, "action-stop", { back: true });
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("detail-state")).toHaveText("STOPPED");

  // check both rows with Space, then the bulk delete, confirmed from the keyboard
  await tabTo(page, `row-${a}`, { back: true });
  await page.keyboard.press("Space");
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("Space");
  await expect(page.getByTestId("selected-count")).toHaveText("2 selected");
  await tabTo(page, "bulk-delete", { back: true });
  await page.keyboard.press("Enter");
  const dialog = page.getByRole("alertdialog", { name: "Delete 2 containers?" });
  await expect(dialog.getByRole("listitem")).toHaveText([a, b]);
  expect(await focusedTestId(page)).toBe("confirm-cancel"); // the choice that changes nothing comes first
  await page.keyboard.press("Tab");
  expect(await focusedTestId(page)).toBe("confirm-ok");
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("bulk-result")).toContainText("Done:");
  await expect(page.getByTestId(`row-${a}`)).toHaveCount(0);
  await expect(page.getByTestId(`row-${b}`)).toHaveCount(0);
  const left = (await stack.agent.containers.list.query()).map((c) => c.name);
  expect(left).not.toContain(a);
  expect(left).not.toContain(b);
});

test("the view is in the URL: a reload and a shared link keep filters, container, tab and time range", async ({ signedIn: page, stack }) => {
  const prefix = unique("url");
  const [a, b] = [`${prefix}-a`, `${prefix}-b`];
  await createLooping(stack, a, b);
  await stack.agent.containers.start.mutate({ name: b });
  await page.reload();
  await hydrated(page);

  await page.getByTestId("filter").fill(prefix);
  await page.getByTestId("state-filter").selectOption("RUNNING");
  await expect(page.getByTestId(`row-${a}`)).toHaveCount(0);
  await page.getByTestId(`row-${b}`).click();
  await expect(page.getByTestId("detail-name")).toHaveText(b);
  await page.getByTestId("container-timeline").getByTestId("range-15m").click();
  await expect(page).toHaveURL(/[?&]span=900000(&|$)/);
  await page.getByTestId("tab-config").click();
  await page.getByTestId("stop-timeout").fill("7");
  await expect(page).toHaveURL(new RegExp(`[?&]c=local%2F${b}(&|$)`));
  await expect(page).toHaveURL(/[?&]tab=config(&|$)/);
  await expect(page).toHaveURL(new RegExp(`[?&]q=${prefix}(&|$)`));
  await expect(page).toHaveURL(/[?&]state=RUNNING(&|$)/);

  const check = async () => {
    await expect(page.getByTestId("filter")).toHaveValue(prefix);
    await expect(page.getByTestId("state-filter")).toHaveValue("RUNNING");
    await expect(page.getByTestId(`row-${a}`)).toHaveCount(0);
    await expect(page.getByTestId("detail-name")).toHaveText(b);
    await expect(page.getByTestId("tab-config")).toHaveAttribute("aria-selected", "true");
    await expect(page.getByTestId("config-text")).toContainText("lxc.init.cmd");
    await page.getByTestId("tab-timeline").click();
    await expect(page.getByTestId("container-timeline")).toHaveAttribute("data-span", "900000");
  };
  await page.reload();
  await hydrated(page);
  await check();
  // the stop timeout is this browser's, kept across the reload
  await expect(page.getByTestId("stop-timeout")).toHaveValue("7");

  // a shared link, opened signed out: sign in, then the same view
  await page.getByTestId("tab-config").click();
  const shared = page.url();
  await page.context().clearCookies();
  await page.goto(shared);
  await expect(page).toHaveURL(/\/login\?next=/);
  await page.getByTestId("login-password").fill(stack.password);
  await page.getByTestId("login-submit").click();
  await hydrated(page);
  await check();

  // the host timeline keeps its filter, lane and range too
  await page.goto(`/timeline`);
  await hydrated(page);
  await page.getByTestId("lane-filter").fill(prefix);
  await expect(page.getByTestId("timeline-stats")).toHaveAttribute("data-lanes", "2");
  await page.getByTestId("lane-select").selectOption(`local/${b}`);
  await page.getByTestId("range-1h").click();
  await expect(page).toHaveURL(/[?&]span=3600000(&|$)/);
  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId("lane-filter")).toHaveValue(prefix);
  await expect(page.getByTestId("lane-select")).toHaveValue(`local/${b}`);
  await expect(page.getByTestId("host-timeline")).toHaveAttribute("data-span", "3600000");
  // the lane's events, in words: the table lists them all
  const events = (await stack.agent.events.list.query({ container: b, before: Number.MAX_SAFE_INTEGER, limit: 1000 })).events;
  await expect(page.getByTestId("lane-event-row")).toHaveCount(events.length);
  await expect(page.getByTestId("lane-event-row").first()).toHaveAttribute("data-seq", String(events.at(-1)!.seq));
  // "2 containers", and one filtered lane is "1 container"
  await expect(page.getByTestId("timeline-stats")).toContainText("2 containers");
  await page.getByTestId("lane-filter").fill(a);
  await expect(page.getByTestId("timeline-stats")).toContainText(/^1 container · /);
});

test("the favicon is served", async ({ request }) => {
  const res = await request.get("/favicon.ico");
  expect(res.status()).toBe(200);
  expect(res.headers()["content-type"]).toMatch(/image\//);
  expect((await res.body()).subarray(0, 4)).toEqual(Buffer.from([0, 0, 1, 0])); // an ICO header
});

test.describe("on a phone, 390 x 844", () => {
  test.use({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });

  test("the list, then the panel: nothing off screen, every action reachable", async ({ signedIn: page, stack }) => {
    const name = unique("phone");
    await createLooping(stack, name);
    await stack.agent.containers.start.mutate({ name });
    await page.goto(`/?q=${name}`);
    await hydrated(page);
    const noSideways = async () => expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);

    // the list first, with everything the top and the list offer on screen
    await expect(page.getByTestId(`row-${name}`)).toBeVisible();
    await expect(page.getByTestId("detail")).toBeHidden();
    await noSideways();
    for (const id of ["create-open", "sign-out", "nav-timeline", "filter", "state-filter", "check-all", "bulk-start", "bulk-stop", "bulk-abort", "bulk-delete"]) {
      await fitsWidth(page.getByTestId(id), 390);
    }
    await page.getByTestId(`check-${name}`).check();
    await expect(page.getByTestId("bulk-stop")).toBeEnabled();
    // the create dialog fits too
    await page.getByTestId("create-open").click();
    for (const id of ["create-name", "create-template", "create-submit"]) await fitsWidth(page.getByTestId(id), 390);
    await page.keyboard.press("Escape");
    await expect(page.getByTestId("create-dialog")).toHaveCount(0);

    // then the panel, with every action on screen
    await page.getByTestId(`row-${name}`).click();
    await expect(page.getByTestId("detail-name")).toHaveText(name);
    await expect(page.getByTestId("filter")).toBeHidden();
    await noSideways();
    for (const id of ["back-to-list", "action-start", "action-stop", "stop-timeout", "action-abort", "action-reboot", "action-freeze", "action-delete", "tab-timeline", "tab-metrics", "tab-console", "tab-config", "tab-audit"]) {
      await fitsWidth(page.getByTestId(id), 390);
    }
    await page.getByTestId("action-freeze").click();
    await expect(page.getByTestId("detail-state")).toHaveText("FROZEN");
    await page.getByTestId("action-unfreeze").click();
    await expect(page.getByTestId("detail-state")).toHaveText("RUNNING");
    await page.getByTestId("tab-metrics").click();
    await expect(page.getByTestId("metric-cpu")).toBeVisible();
    await noSideways();
    await noSeriousViolations(page, "the Metrics tab on a phone");
    await page.getByTestId("tab-console").click();
    await expect(page.getByTestId("console-status")).toHaveText("attached");
    await noSideways();
    await page.getByTestId("tab-timeline").click();
    await expect(page.getByTestId("event-row").first()).toBeVisible();
    await noSideways();
    await page.getByTestId("action-abort").click();
    await fitsWidth(page.getByTestId("confirm-ok"), 390);
    await page.getByTestId("confirm-ok").click();
    await expect(page.getByTestId("detail-state")).toHaveText("STOPPED");
    // back to the list, and forth
    await page.getByTestId("back-to-list").click();
    await expect(page.getByTestId("filter")).toBeVisible();
    await expect(page.getByTestId("detail")).toBeHidden();
    await page.getByTestId(`row-${name}`).click();
    await expect(page.getByTestId("detail-name")).toHaveText(name);

    // a deleted container leaves the list on screen
    await page.getByTestId("action-delete").click();
    await page.getByTestId("confirm-ok").click();
    await expect(page.getByTestId("filter")).toBeVisible();
    await expect(page.getByTestId(`row-${name}`)).toHaveCount(0);
    await noSideways();

    // the timeline page fits too
    await page.getByTestId("nav-timeline").click();
    await expect(page.getByTestId("host-timeline-canvas")).toBeVisible();
    await noSideways();
    await noSeriousViolations(page, "the timeline page on a phone");

    // and signing out works from there
    await page.getByTestId("sign-out").click();
    await expect(page.getByTestId("login-form")).toBeVisible();
  });
});

test.describe("in dark mode", () => {
  test.use({ colorScheme: "dark" });

  test("the page is dark, the state colours stay distinct and keep their words", async ({ signedIn: page, stack }) => {
    const prefix = unique("dark");
    const [up, down] = [`${prefix}-up`, `${prefix}-down`];
    await createLooping(stack, up, down);
    await stack.agent.containers.start.mutate({ name: up });
    await page.goto(`/?q=${prefix}&c=local/${up}`);
    await hydrated(page);
    await expect(page.getByTestId(`row-${up}`).getByTestId("state")).toHaveText("RUNNING");
    await expect(page.getByTestId(`row-${down}`).getByTestId("state")).toHaveText("STOPPED");

    const luminance = (l: Locator, prop: "backgroundColor" | "color") =>
      l.evaluate((el, p) => {
        const m = /rgba?\((\d+), (\d+), (\d+)/.exec(getComputedStyle(el)[p])!;
        const [r, g, b] = [m[1], m[2], m[3]].map((c) => Number(c) / 255).map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4)) as [number, number, number];
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
      }, prop);
    expect(await luminance(page.locator("body"), "backgroundColor")).toBeLessThan(0.05);
    expect(await luminance(page.getByTestId("detail-name"), "color")).toBeGreaterThan(0.6);
    expect(await luminance(page.getByTestId("list-pane"), "backgroundColor")).toBeLessThan(0.05);

    const chipColour = (name: string) => page.getByTestId(`row-${name}`).getByTestId("state").evaluate((el) => getComputedStyle(el).backgroundColor);
    expect(await chipColour(up)).not.toBe(await chipColour(down));
    await noSeriousViolations(page, "the containers page in dark mode");
    await page.getByTestId("tab-metrics").click();
    await expect(page.getByTestId("metric-mem")).toBeVisible();
    await noSeriousViolations(page, "the Metrics tab in dark mode");

    // the legend: every state in its own colour, with its word
    await page.goto(`/timeline?q=${prefix}`);
    await hydrated(page);
    const legend = page.getByTestId("legend-item");
    await expect(legend).toHaveText(["STOPPED", "STARTING", "RUNNING", "STOPPING", "ABORTING", "FREEZING", "FROZEN", "THAWED"]);
    const swatches = await legend.evaluateAll((els) => els.map((el) => getComputedStyle(el.querySelector(".swatch")!).backgroundColor));
    expect(new Set(swatches).size).toBe(8);
    // the canvas is painted on the dark ground too
    const ground = await page.getByTestId("host-timeline-canvas").evaluate((c: HTMLCanvasElement) => Array.from(c.getContext("2d")!.getImageData(2, 2, 1, 1).data));
    expect(ground[0]! + ground[1]! + ground[2]!).toBeLessThan(3 * 60);
    await noSeriousViolations(page, "the timeline page in dark mode");
  });
});

test("a reboot from the dashboard shows its countdown at once, with the operator as cause", async ({ signedIn: page, stack }) => {
  const name = unique("reboot");
  // an init that handles the reboot signal and stays: the agent waits for it before the kill
  await stack.agent.containers.create.mutate({ name, template: "host", config: `lxc.init.cmd = sh -c "trap 'echo got INT' INT; while :; do sleep 1; done"\n` });
  await stack.agent.containers.start.mutate({ name });
  await page.goto(`/?c=local/${name}`);
  await hydrated(page);
  await expect(page.getByTestId("detail-state")).toHaveText("RUNNING");
  const before = (await stack.agent.events.list.query({ container: name, before: Number.MAX_SAFE_INTEGER, limit: 100 })).events.at(-1)!.seq;
  await page.getByTestId("action-reboot").click();
  // the first event the reboot leaves, recorded as soon as it is asked: STOPPING with the kill time
  let first: { state: string; detail: { killAt?: number; reboot?: boolean }; cause: { actor: string; request?: string } } | undefined;
  await expect
    .poll(async () => (first = (await stack.agent.events.list.query({ container: name, before: Number.MAX_SAFE_INTEGER, limit: 100 })).events.find((e) => e.seq > before)))
    .toBeDefined();
  expect(first!.cause).toEqual({ actor: "dashboard:admin", request: "reboot" });
  expect([first!.state, first!.detail.reboot, typeof first!.detail.killAt]).toEqual(["STOPPING", true, "number"]);
  const countdown = page.getByTestId("countdown");
  await expect(countdown).toHaveAttribute("data-kind", "reboot");
  await expect(countdown).toContainText("Reboot:");
  await expect(countdown).toContainText("dashboard:admin (reboot)");
  await expect(page.getByTestId("event-row").filter({ has: page.locator('[data-state="STOPPING"]') }).first()).toContainText("reboot: SIGINT sent");
  await expect(page.getByTestId("detail-state")).toHaveText("RUNNING", { timeout: 30_000 });
  await expect(page.getByTestId("event-row").filter({ has: page.locator('[data-state="STARTING"]') })).toHaveCount(2);
});
