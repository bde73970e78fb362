// The dashboard, end to end: a real agent running real containers, the production dashboard, and
// Chromium. Every test asserts what an operator sees; each makes its own containers. Signing in
// and its refusals are auth.spec.ts.
import { readFileSync } from "node:fs";
import { expect, hydrated, test } from "../support/stack.ts";
import { confirmDialog, expectNoReload, markPage, rowState, screenshot, selectContainer, unique } from "../support/ui.ts";

test("create a container, start it, see RUNNING live and its console", async ({ signedIn: page }, testInfo) => {
  const name = unique("web");
  await markPage(page);

  // pasted config: the parser's error shows inline at its line
  await page.getByTestId("create-open").click();
  await page.getByTestId("create-name").fill(name);
  await page.getByTestId("create-mode-config").click();
  await page.getByTestId("create-config").fill(`lxc.uts.name = ${name}\nlxc.bogus.key = 1\n`);
  await expect(page.getByTestId("config-error")).toContainText("Line 2");
  await expect(page.getByTestId("config-error")).toContainText("lxc.bogus.key");
  await expect(page.getByTestId("config-error-line")).toHaveText("2");
  await expect(page.getByTestId("create-submit")).toBeDisabled();

  // from the "host" template instead
  await page.getByTestId("create-config").fill("");
  await page.getByTestId("create-mode-template").click();
  await page.getByTestId("create-template").selectOption("host");
  // unprivileged is the dialog's default (as Incus makes it): root inside is host uid 100000
  await expect(page.getByTestId("create-unprivileged")).toBeChecked();
  await page.getByTestId("create-submit").click();
  await expect(page.getByTestId("create-dialog")).toHaveCount(0);
  await expect(rowState(page, name)).toHaveText("STOPPED");
  await expect(page.getByTestId("detail-name")).toHaveText(name);
  await expect(page.getByTestId("detail-privilege")).toHaveText("host uid 100000 (unprivileged)");
  await expect(page.getByTestId(`row-${name}`).getByTestId("privileged")).toHaveCount(0);

  // start: RUNNING appears without a reload, with a pid and the start's phases
  await page.getByTestId("action-start").click();
  await expect(rowState(page, name)).toHaveText("RUNNING");
  await expect(page.getByTestId(`row-${name}`).getByTestId("pid")).toHaveText(/^\d+$/);
  await expect(page.getByTestId("detail-state")).toHaveText("RUNNING");
  await expect(page.getByTestId("event-row").filter({ hasText: "running, pid" })).toContainText("dashboard:admin");
  await expect(page.getByTestId("action-start")).toBeDisabled();
  await expect(page.getByTestId("action-stop")).toBeEnabled();
  await expectNoReload(page);

  // its console: type into the shell, see the answer
  await page.getByTestId("tab-console").click();
  await expect(page.getByTestId("console-status")).toHaveText("attached");
  await page.getByTestId("console").click();
  await page.keyboard.type("echo console-says-$((6*7))\n");
  await expect(page.getByTestId("console")).toContainText("console-says-42");
  await screenshot(page, testInfo, "console");

  // a new view of the console gets the history from the ring buffer
  await page.getByTestId("tab-timeline").click();
  await page.getByTestId("tab-console").click();
  await expect(page.getByTestId("console")).toContainText("console-says-42");

  // find in it, and download the ring buffer
  await page.getByTestId("console-find").fill("console-says-42");
  await page.getByTestId("console-find").press("Enter");
  await expect(page.getByTestId("console-found")).toHaveText("found");
  await page.getByTestId("console-find").fill("nowhere-in-the-console");
  await page.getByTestId("console-find").press("Enter");
  await expect(page.getByTestId("console-found")).toHaveText("no match");
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("console-download").click()]);
  expect(download.suggestedFilename()).toBe(`${name}-console.log`);
  expect(readFileSync(await download.path(), "utf8")).toContain("console-says-42");
  await expectNoReload(page);
});

test("stop shows the countdown, kill now, then STOPPING and STOPPED with their cause", async ({ signedIn: page, stack }, testInfo) => {
  const name = unique("trap");
  // an init that catches the halt signal (SIGPWR), so the stop really waits for its timeout
  await stack.agent.containers.create.mutate({ name, template: "host", config: `lxc.init.cmd = sh -c "trap 'echo got PWR' PWR; echo ready; while :; do sleep 1; done"\n` });
  await page.reload();
  await hydrated(page);
  await markPage(page);
  await selectContainer(page, name);
  // made without lxc.idmap: privileged, and tagged so
  await expect(page.getByTestId(`row-${name}`).getByTestId("privileged")).toHaveText("privileged");
  await expect(page.getByTestId("detail-privilege")).toHaveText("host root (privileged)");
  await page.getByTestId("action-start").click();
  await expect(rowState(page, name)).toHaveText("RUNNING");

  await page.getByTestId("stop-timeout").fill("6");
  await page.getByTestId("action-stop").click();
  await expect(rowState(page, name)).toHaveText("STOPPING");
  const countdown = page.getByTestId("countdown");
  await expect(countdown).toContainText("SIGPWR");
  await expect(countdown).toContainText("dashboard:admin (stop --timeout 6)");
  const left = async () => Number((await page.getByTestId("countdown-left").textContent())?.replace(" s", ""));
  const first = await left();
  expect(first).toBeGreaterThan(0);
  expect(first).toBeLessThanOrEqual(6);
  await expect.poll(left).toBeLessThan(first);
  await screenshot(page, testInfo, "stop-countdown");

  // the init hears the halt signal, live on its console, while the countdown runs
  await page.getByTestId("tab-console").click();
  await expect(page.getByTestId("console")).toContainText("got PWR");
  await expect(countdown).toBeVisible();

  await page.getByTestId("kill-now").click();
  await confirmDialog(page, "Kill now 1 container?", [name]);
  await page.getByTestId("tab-timeline").click();
  await expect(rowState(page, name)).toHaveText("STOPPED");
  await expect(countdown).toHaveCount(0);
  await expect(page.getByTestId(`row-${name}`).getByTestId("last-exit")).toHaveText("SIGKILL (137)");

  const rows = page.getByTestId("event-row");
  await expect(rows.filter({ has: page.locator('[data-state="STOPPING"]') }).first()).toContainText("SIGPWR sent; kill after 6.0 s");
  await expect(rows.filter({ has: page.locator('[data-state="STOPPING"]') }).first()).toContainText("dashboard:admin (stop --timeout 6)");
  await expect(rows.filter({ has: page.locator('[data-state="STOPPED"]') }).first()).toContainText("killed by SIGKILL");
  await expect(rows.filter({ has: page.locator('[data-state="STOPPED"]') }).first()).toContainText("dashboard:admin (kill now)");

  await expectNoReload(page);
});

test("abort a container, and bulk actions say what they refused", async ({ signedIn: page, stack }) => {
  const a = unique("abort");
  const b = unique("bulk");
  for (const name of [a, b]) await stack.agent.containers.create.mutate({ name, template: "host", config: 'lxc.init.cmd = sh -c "while :; do sleep 1; done"\n' });
  await stack.agent.containers.start.mutate({ name: a });
  await page.reload();
  await hydrated(page);
  await expect(rowState(page, a)).toHaveText("RUNNING");

  // bulk start of a running and a stopped container: one starts, one is refused in words
  await page.getByTestId("filter").fill("-");
  await page.getByTestId(`check-${a}`).check();
  await page.getByTestId(`check-${b}`).check();
  await page.getByTestId("bulk-start").click();
  await expect(page.getByTestId("bulk-result")).toContainText(`Done: ${b}`);
  await expect(page.getByTestId("bulk-result")).toContainText(`Refused: ${a}: container is already running`);
  await expect(rowState(page, b)).toHaveText("RUNNING");

  // the state filter
  await page.getByTestId("filter").fill("");
  await page.getByTestId("state-filter").selectOption("RUNNING");
  await expect(page.getByTestId(`row-${a}`)).toBeVisible();
  await page.getByTestId("state-filter").selectOption("STOPPED");
  await expect(page.getByTestId(`row-${a}`)).toHaveCount(0);
  await page.getByTestId("state-filter").selectOption("");

  await selectContainer(page, a);
  // abort asks first; Escape cancels and nothing happens
  await page.getByTestId("action-abort").click();
  await expect(page.getByRole("alertdialog", { name: "Abort 1 container?" })).toContainText("SIGKILL");
  await page.keyboard.press("Escape");
  await expect(page.getByTestId("confirm-dialog")).toHaveCount(0);
  await expect(page.getByTestId("action-abort")).toBeFocused();
  await expect(rowState(page, a)).toHaveText("RUNNING");
  expect((await stack.agent.containers.get.query({ name: a })).state).toBe("RUNNING");
  await page.getByTestId("action-abort").click();
  await confirmDialog(page, "Abort 1 container?", [a]);
  await expect(rowState(page, a)).toHaveText("STOPPED");
  const aborting = page.getByTestId("event-row").filter({ has: page.locator('[data-state="ABORTING"]') }).first();
  await expect(aborting).toContainText("abort: SIGKILL to every process");
  await expect(aborting).toContainText("dashboard:admin (abort)");

  // the other one, aborted with the bulk button: the filter hides the checked (and stopped) first
  // one, which is then neither counted nor acted on
  await page.getByTestId("filter").fill(b);
  await expect(page.getByTestId(`row-${a}`)).toHaveCount(0);
  await expect(page.getByTestId("selected-count")).toHaveText("1 selected");
  await page.getByTestId("bulk-abort").click();
  await confirmDialog(page, "Abort 1 container?", [b]);
  await expect(page.getByTestId("bulk-result")).toContainText(`Done: ${b}`);
  await expect(page.getByTestId("bulk-result")).not.toContainText(a);
  await expect(rowState(page, b)).toHaveText("STOPPED");
});

test("a start that fails shows the step that failed", async ({ signedIn: page }, testInfo) => {
  const name = unique("broken");
  await page.getByTestId("create-open").click();
  await page.getByTestId("create-name").fill(name);
  await page.getByTestId("create-mode-config").click();
  await page.getByTestId("create-config").fill(`lxc.uts.name = ${name}\nlxc.rootfs.path = dir:/nonexistent\nlxc.init.cmd = /bin/sh\n`);
  await expect(page.getByTestId("config-error")).toHaveCount(0);
  await page.getByTestId("create-submit").click();
  await expect(page.getByTestId("detail-name")).toHaveText(name);

  await page.getByTestId("action-start").click();
  await expect(page.getByTestId("action-error")).toContainText("start failed at setup: rootfs /nonexistent does not exist");
  await expect(page.getByTestId("start-failure")).toContainText("Start failed at step “setup”");
  await expect(page.getByTestId("start-failure")).toContainText("rootfs /nonexistent does not exist");
  await expect(page.getByTestId("failed-step")).toHaveAttribute("data-step", "setup");
  await expect(rowState(page, name)).toHaveText("STOPPED");
  await expect(page.getByTestId(`row-${name}`).getByTestId("last-exit")).toHaveText("failed at setup");
  await expect(page.getByTestId("event-row").filter({ has: page.locator('[data-state="ABORTING"]') }).first()).toContainText(
    "start failed at step setup: rootfs /nonexistent does not exist",
  );
  await screenshot(page, testInfo, "containers-view");

  // on the host timeline, the failed start is there too: its lane, hovered after the failure,
  // says so in words
  await page.getByTestId("nav-timeline").click();
  const canvas = page.getByTestId("host-timeline-canvas");
  await expect(canvas).toBeVisible();
  await page.getByTestId("lane-filter").fill(name);
  await expect(page.getByTestId("timeline-stats")).toHaveAttribute("data-lanes", "1");
  await page.getByTestId("timeline-all").click();
  await page.getByTestId("follow-live").click();
  const box = (await canvas.boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.85, box.y + 26 + 14); // below the axis, in the one lane
  const tooltip = page.getByTestId("timeline-tooltip");
  await expect(tooltip).toContainText(name);
  await expect(tooltip).toContainText("stopped: start failed at setup");
  await expect(tooltip.getByTestId("tooltip-state")).toHaveText("STOPPED");
  await screenshot(page, testInfo, "timeline");
});

test("after the agent restarts, the timeline shows reconnecting and catches up with nothing missing", async ({ signedIn: page, stack }, testInfo) => {
  // something running, so the agent's shutdown and the restart both leave events behind
  const running = unique("survivor");
  const auto = unique("autostart");
  await stack.agent.containers.create.mutate({ name: running, template: "host", config: 'lxc.init.cmd = sh -c "while :; do sleep 1; done"\n' });
  await stack.agent.containers.create.mutate({ name: auto, template: "host", config: 'lxc.init.cmd = sh -c "while :; do sleep 1; done"\nlxc.start.auto = 1\n' });
  await stack.agent.containers.start.mutate({ name: running });

  await page.goto("/timeline");
  await hydrated(page);
  await markPage(page);
  const stats = page.getByTestId("timeline-stats");
  const before = await stack.agent.events.list.query({ before: Number.MAX_SAFE_INTEGER, limit: 100_000 });
  await expect(stats).toHaveAttribute("data-event-count", String(before.events.length));
  await expect(page.getByTestId("reconnecting")).toHaveCount(0);
  // the stream is live before the agent goes: a first connection that never was live is not a
  // reconnection, and the page says "unreachable" without the reconnecting banner
  await expect(page.getByTestId("agent-local")).toContainText("live");

  await stack.stopAgent();
  await expect(page.getByTestId("reconnecting")).toBeVisible();
  await expect(page.getByTestId("agent-unreachable-local")).toContainText("unreachable");
  await expect(page.getByTestId("host-timeline-canvas")).toBeVisible(); // never a blank page
  await screenshot(page, testInfo, "timeline-reconnecting");

  await stack.startAgent();
  await expect(page.getByTestId("reconnecting")).toHaveCount(0, { timeout: 30_000 });
  await expect(page.getByTestId("agent-unreachable-local")).toHaveCount(0);

  // more happens once it is back
  await stack.agent.containers.start.mutate({ name: running });
  const after = await stack.agent.events.list.query({ before: Number.MAX_SAFE_INTEGER, limit: 100_000 });
  const last = after.events.at(-1)!;
  expect(after.events.length).toBeGreaterThan(before.events.length + 3);
  // the shutdown's aborts and the autostart happened while the dashboard was cut off
  expect(after.events.some((e) => e.container === auto && e.state === "RUNNING" && e.seq > before.events.at(-1)!.seq)).toBe(true);
  await expect(stats).toHaveAttribute("data-last-seq", `local:${last.seq}`);
  await expect(stats).toHaveAttribute("data-event-count", String(after.events.length));
  // no gap: the seqs the dashboard holds are exactly those the agent has (count, first, last, sum)
  const seqs = after.events.map((e) => e.seq);
  const digest = `local:${seqs.length}:${seqs[0]}:${seqs.at(-1)}:${seqs.reduce((a, b) => a + b, 0)}`;
  await expect(stats).toHaveAttribute("data-seqs", digest);
  await expectNoReload(page);

  // and the container's own timeline lists the shutdown's abort with its cause
  await page.getByTestId("nav-containers").click();
  await selectContainer(page, running);
  const rows = page.getByTestId("event-row");
  await expect(rows.filter({ has: page.locator('[data-state="ABORTING"]') }).first()).toContainText("agent");
  const shown = await rows.evaluateAll((els) => els.map((el) => Number(el.getAttribute("data-seq"))));
  const expected = after.events.filter((e) => e.container === running).map((e) => e.seq).reverse();
  expect(shown).toEqual(expected);
});

test("freeze, unfreeze, reboot, stop and delete a container with its buttons", async ({ signedIn: page, stack }) => {
  const name = unique("cycle");
  await markPage(page);
  // the container's events after a seq, oldest first: state and the row's words
  const eventsAfter = (seq: number) =>
    page.getByTestId("event-row").evaluateAll(
      (els, after) =>
        els
          .map((el) => ({ seq: Number(el.getAttribute("data-seq")), state: el.getAttribute("data-state"), text: el.textContent }))
          .filter((e) => e.seq > after)
          .sort((a, b) => a.seq - b.seq),
      seq,
    );
  const lastSeq = async () => Math.max(0, ...(await eventsAfter(0)).map((e) => e.seq));

  // from the "host" template, with an init that keeps running and prints a line every second. It
  // ignores the reboot signal (SIGINT; dash -c would catch it and exit 130, a plain stop), so the
  // reboot kills it and starts it again.
  await page.getByTestId("create-open").click();
  await page.getByTestId("create-name").fill(name);
  await page.getByTestId("create-mode-template").click();
  await page.getByTestId("create-template").selectOption("host");
  await page.getByTestId("create-config").fill(`lxc.init.cmd = sh -c "trap '' INT; while :; do echo tick; sleep 1; done"\n`);
  await page.getByTestId("create-submit").click();
  await expect(page.getByTestId("create-dialog")).toHaveCount(0);
  await expect(page.getByTestId("detail-name")).toHaveText(name);
  await expect(rowState(page, name)).toHaveText("STOPPED");
  await page.getByTestId("action-start").click();
  await expect(rowState(page, name)).toHaveText("RUNNING");
  await expect(page.getByTestId("detail-pid")).toHaveText(/^\d+$/);
  const pid = (await page.getByTestId("detail-pid").textContent())!;
  await page.getByTestId("tab-console").click();
  await expect(page.getByTestId("console")).toContainText("tick");
  await page.getByTestId("tab-timeline").click();

  // freeze: FROZEN live; Freeze gives way to Unfreeze, and what a frozen container cannot do is off
  let seq = await lastSeq();
  await page.getByTestId("action-freeze").click();
  await expect(rowState(page, name)).toHaveText("FROZEN");
  await expect(page.getByTestId("detail-state")).toHaveText("FROZEN");
  await expect(page.getByTestId("action-freeze")).toHaveCount(0);
  await expect(page.getByTestId("action-unfreeze")).toBeEnabled();
  await expect(page.getByTestId("action-reboot")).toBeDisabled();
  await expect(page.getByTestId("action-reboot")).toHaveAttribute("title", /frozen; unfreeze it first/);
  await expect(page.getByTestId("action-start")).toBeDisabled();
  await expect(page.getByTestId("action-delete")).toBeDisabled();
  await expect(page.getByTestId("action-stop")).toBeEnabled();
  await expect.poll(async () => (await eventsAfter(seq)).map((e) => e.state)).toEqual(["FREEZING", "FROZEN"]);
  for (const e of await eventsAfter(seq)) expect(e.text).toContain("dashboard:admin (freeze)");

  // unfreeze: THAWED then RUNNING, the same process
  seq = await lastSeq();
  await page.getByTestId("action-unfreeze").click();
  await expect(rowState(page, name)).toHaveText("RUNNING");
  await expect(page.getByTestId("detail-state")).toHaveText("RUNNING");
  await expect(page.getByTestId("action-unfreeze")).toHaveCount(0);
  await expect(page.getByTestId("action-freeze")).toBeEnabled();
  await expect(page.getByTestId("action-reboot")).toBeEnabled();
  await expect.poll(async () => (await eventsAfter(seq)).map((e) => e.state)).toEqual(["THAWED", "RUNNING"]);
  for (const e of await eventsAfter(seq)) expect(e.text).toContain("dashboard:admin (unfreeze)");
  await expect(page.getByTestId("detail-pid")).toHaveText(pid);

  // reboot: STOPPING, STOPPED, a second STARTING and RUNNING, all caused by the reboot; a new pid
  seq = await lastSeq();
  await page.getByTestId("action-reboot").click();
  await expect.poll(async () => (await eventsAfter(seq)).map((e) => e.state)).toEqual(["STOPPING", "STOPPED", "STARTING", "RUNNING"]);
  const reboot = await eventsAfter(seq);
  for (const e of reboot) expect(e.text, e.state ?? "").toContain("dashboard:admin (reboot)");
  // the init ignores SIGINT: the reboot kills it at once, and says so as soon as it is asked
  expect(reboot[0]!.text).toContain("reboot: SIGKILL sent");
  expect(reboot[1]!.text).toContain("rebooting");
  expect(reboot[3]!.text).toMatch(/running, pid \d+/);
  await expect(page.getByTestId("event-row").filter({ has: page.locator('[data-state="STARTING"]') })).toHaveCount(2);
  await expect(rowState(page, name)).toHaveText("RUNNING");
  await expect(page.getByTestId("detail-pid")).toHaveText(/^\d+$/);
  await expect(page.getByTestId("detail-pid")).not.toHaveText(pid);
  await expect(page.getByTestId(`row-${name}`).getByTestId("pid")).not.toHaveText(pid);
  const newPid = (await page.getByTestId("detail-pid").textContent())!;
  expect(reboot[3]!.text).toContain(`running, pid ${newPid}`);

  // stop (the init ignores the halt signal: a short timeout), then delete, confirming the dialog
  await page.getByTestId("stop-timeout").fill("1");
  await page.getByTestId("action-stop").click();
  await expect(rowState(page, name)).toHaveText("STOPPED");
  await expect(page.getByTestId("detail-pid")).toHaveText("-");
  await page.getByTestId("action-delete").click();
  await expect(page.getByTestId("confirm-dialog")).toContainText("rootfs directory are removed");
  await confirmDialog(page, "Delete 1 container?", [name]);
  await expect(page.getByTestId(`row-${name}`)).toHaveCount(0);
  // the panel moves on to the first container left, if any; never the deleted one
  await expect(page.getByTestId("detail-name").filter({ hasText: name })).toHaveCount(0);
  await expect(page).not.toHaveURL(new RegExp(`[?&]c=local%2F${name}`));
  await expect.poll(async () => (await stack.agent.containers.list.query()).map((c) => c.name)).not.toContain(name);
  await expectNoReload(page);
});

test("a container another client creates and deletes appears and disappears without a reload", async ({ signedIn: page, stack }) => {
  const name = unique("other");
  await markPage(page);
  await expect(page.getByTestId("create-open")).toBeVisible();
  await stack.agent.containers.create.mutate({ name, template: "host" });
  await expect(page.getByTestId(`row-${name}`)).toHaveCount(1);
  await expect(rowState(page, name)).toHaveText("STOPPED");
  await stack.agent.containers.delete.mutate({ name });
  await expect(page.getByTestId(`row-${name}`)).toHaveCount(0);
  await expectNoReload(page);
});
