// The create dialog's debian template, end to end: the agent builds in the background (from the
// cached base here: the root tests or the first create built it), the dialog shows the builder's
// lines while it works, and the container appears with its address on the managed bridge.
import { expect, test } from "../support/stack.ts";

test("the create dialog makes a Debian container, showing progress until it is built", async ({ signedIn: page, stack }) => {
  test.setTimeout(15 * 60_000); // the first create on a fresh machine downloads Debian
  const name = `deb-${Date.now().toString(36)}`;
  await page.getByTestId("create-open").click();
  await page.getByTestId("create-name").fill(name);
  await page.getByTestId("create-mode-template").click();
  await page.getByTestId("create-template").selectOption("debian");
  await expect(page.getByTestId("create-release")).toHaveValue("bookworm");
  await page.getByTestId("create-root-password").fill("e2e-secret");
  // what the dialog was told while it built (from the cache this takes a second or two, too
  // short to catch on screen reliably)
  const told: string[] = [];
  page.on("response", async (res) => {
    if (res.url().endsWith("/call") && res.request().postData()?.includes("containers.createProgress")) {
      told.push(...(((await res.json()) as { data?: { lines?: string[] } }).data?.lines ?? []));
    }
  });
  await page.getByTestId("create-submit").click();
  await expect(page.getByTestId("create-progress")).toBeVisible();
  await expect(page.getByTestId("create-dialog")).toHaveCount(0, { timeout: 14 * 60_000 });
  expect(told.join("\n")).toContain(`copying /var/cache/corral/debian/bookworm-amd64 to ${stack.lxcpath}/${name}/rootfs`);
  expect(told.at(-1)).toMatch(new RegExp(`^created ${name} `));
  await expect(page.getByTestId("detail-name")).toHaveText(name);
  await expect(page.getByTestId(`row-${name}`).getByTestId("state")).toHaveText("STOPPED");
  const c = await stack.agent.containers.get.query({ name });
  expect(c.ips).toEqual([expect.stringMatching(/^10\.0\.5\.\d+$/)]);
  expect(c.configText).toContain("lxc.net.0.link = corralbr0");
  // the dialog's default: unprivileged, its rootfs chowned by the map
  expect(c.privileged).toBe(false);
  expect(told.join("\n")).toContain("to the mapped ids (root inside is host uid 100000)");
  const audit = await stack.agent.audit.list.query({ name });
  expect(JSON.stringify(audit)).not.toContain("e2e-secret");
  await stack.agent.containers.delete.mutate({ name });
});
