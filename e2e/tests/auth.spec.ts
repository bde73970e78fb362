// Signing in to the dashboard and what it refuses: pages and API without a session, a wrong
// password, the session cookie, signing out, redirects that stay on the dashboard, and requests
// from another site carrying the user's cookies.
import { expect, signIn, test } from "../support/stack.ts";
import { unique } from "../support/ui.ts";

test("an unauthenticated browser gets only the login, and the API refuses it", async ({ page, stack, request }) => {
  await page.goto("/");
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByTestId("login-form")).toBeVisible();
  await expect(page.getByTestId("agents")).toHaveCount(0);
  await page.goto("/timeline");
  await expect(page).toHaveURL(/\/login\?next=%2Ftimeline$/);

  for (const [method, path] of [
    ["GET", "/api/agents"],
    ["POST", "/api/agents/local/call"],
    ["GET", "/api/live?s=events/local@"],
    ["POST", "/api/live/x"],
  ] as const) {
    const res = method === "GET" ? await request.get(path) : await request.post(path, { data: { path: "containers.list" } });
    expect(res.status(), `${method} ${path}`).toBe(401);
    expect(JSON.stringify(await res.json())).not.toContain(stack.token);
  }
  // a forged cookie is no session either
  const forged = await request.get("/api/agents", { headers: { cookie: "corral_session=eyJ1c2VyIjoiYWRtaW4iLCJleHAiOjk5OTk5OTk5OTk5OTl9.AAAA" } });
  expect(forged.status()).toBe(401);

  // a wrong password is refused in words
  await page.getByTestId("login-user").fill(stack.user);
  await page.getByTestId("login-password").fill("not-the-password");
  await page.getByTestId("login-submit").click();
  await expect(page.getByTestId("login-error")).toContainText("Wrong user name or password");
  await expect(page).toHaveURL(/[?&]error=wrong(&|$)/);
  // the page shows only its own sentences, never text from the URL
  await page.goto("/login?error=Your+account+is+locked%2C+call+0800");
  await expect(page.getByTestId("login-form")).toBeVisible();
  await expect(page.getByTestId("login-error")).toHaveCount(0);

  // the right one signs in, with an HttpOnly, SameSite=Strict session cookie
  await signIn(page, stack);
  const cookie = (await page.context().cookies()).find((c) => c.name === "corral_session");
  expect(cookie?.httpOnly).toBe(true);
  expect(cookie?.sameSite).toBe("Strict");
  expect(await page.evaluate(() => document.cookie)).not.toContain("corral_session");
  // the agent's token never reaches the browser
  expect(await page.content()).not.toContain(stack.token);

  // signing out ends it
  await page.getByTestId("sign-out").click();
  await expect(page.getByTestId("login-form")).toBeVisible();
  await page.goto("/");
  await expect(page).toHaveURL(/\/login$/);

  // after signing in, `next` leads only to a path on the dashboard: browsers read "/\host" and
  // "/<TAB>/host" as "//host", another site
  for (const next of ["/\\evil.example", "/\t/evil.example", "//evil.example", "https://evil.example/"]) {
    const res = await request.post("/api/login", { form: { user: stack.user, password: stack.password, next }, maxRedirects: 0 });
    expect(res.status(), JSON.stringify(next)).toBe(303);
    const location = res.headers()["location"] ?? "";
    expect(new URL(location, stack.webUrl).origin, `Location ${location} for next=${JSON.stringify(next)}`).toBe(new URL(stack.webUrl).origin);
    expect(location).not.toContain("evil");
  }
  const fine = await request.post("/api/login", { form: { user: stack.user, password: stack.password, next: "/timeline?x=1#y" }, maxRedirects: 0 });
  expect(fine.headers()["location"]).toBe("/timeline?x=1#y");
});

test("a signed-in browser's cookies do not work for another site's requests", async ({ signedIn: page, stack }) => {
  const name = unique("csrf");
  const create = { path: "containers.create", input: { name, template: "host" } };
  // another origin posting with the user's cookies: refused before the agent is called
  const foreign: Record<string, string>[] = [{ origin: "http://evil.example" }, { origin: "null" }, { "sec-fetch-site": "cross-site" }, { "sec-fetch-site": "same-site" }];
  for (const headers of foreign) {
    const res = await page.request.post("/api/agents/local/call", { headers, data: create });
    expect(res.status(), JSON.stringify(headers)).toBe(403);
    expect((await res.json()) as unknown).toEqual({ error: { message: "Cross-site request refused.", code: "CROSS_SITE" } });
  }
  // so is signing in (or out) from another site
  const login = await page.request.post("/api/login", { headers: { origin: "http://evil.example" }, form: { user: stack.user, password: stack.password }, maxRedirects: 0 });
  expect(login.status()).toBe(403);
  const logout = await page.request.post("/api/logout", { headers: { origin: "http://evil.example" }, maxRedirects: 0 });
  expect(logout.status()).toBe(403);
  // a body that is not JSON (what a cross-site form could send) is refused too
  const form = await page.request.post("/api/agents/local/call", { headers: { origin: stack.webUrl, "content-type": "text/plain" }, data: JSON.stringify(create) });
  expect(form.status()).toBe(415);
  expect((await stack.agent.containers.list.query()).map((c) => c.name)).not.toContain(name);

  // the same cookies from the dashboard's own origin do work
  const own = await page.request.post("/api/agents/local/call", { headers: { origin: stack.webUrl, "sec-fetch-site": "same-origin" }, data: create });
  expect(own.status()).toBe(200);
  expect((await stack.agent.containers.list.query()).map((c) => c.name)).toContain(name);
});
