// The CLI's HTTP client speaks tRPC's wire format over node:http: a query is a GET with its input
// in the URL, a mutation a POST with a JSON body, and the agent's error comes back as an
// AgentError with its message, code and status. Checked against a local HTTP server.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingMessage } from "node:http";
import { AgentError, callAgent, decodeAnswer, httpClient, placeOf } from "../../src/cli/agent-http.ts";

interface Seen { method?: string; url?: string; headers: IncomingMessage["headers"]; body: string }

async function withServer(answer: (seen: Seen) => { status: number; body: string }, run: (url: string, seen: Seen[]) => Promise<void>): Promise<void> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      const s = { method: req.method, url: req.url, headers: req.headers, body };
      seen.push(s);
      const a = answer(s);
      res.writeHead(a.status, { "content-type": "application/json" });
      res.end(a.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  try {
    await run(`http://127.0.0.1:${(server.address() as { port: number }).port}`, seen);
  } finally {
    server.close();
  }
}

test("a query is a GET with its input in the URL; a mutation a POST with a JSON body; both carry the headers", async () => {
  await withServer(() => ({ status: 200, body: JSON.stringify({ result: { data: { name: "web", state: "RUNNING" } } }) }), async (url, seen) => {
    const client = httpClient(url, { authorization: "Bearer t0ken", "x-corral-actor": "cli:test" });
    const got = await client.containers.get.query({ name: "web" });
    assert.deepEqual(got, { name: "web", state: "RUNNING" });
    await client.containers.start.mutate({ name: "web", command: ["sh", "-c", "echo a&b"] });
    await client.containers.list.query();
    const [get, start, list] = seen;
    assert.equal(get!.method, "GET");
    assert.equal(get!.url, `/trpc/containers.get?input=${encodeURIComponent(JSON.stringify({ name: "web" }))}`);
    assert.equal(get!.headers.authorization, "Bearer t0ken");
    assert.equal(get!.headers["x-corral-actor"], "cli:test");
    assert.equal(start!.method, "POST");
    assert.equal(start!.url, "/trpc/containers.start");
    assert.match(String(start!.headers["content-type"]), /^application\/json/);
    assert.deepEqual(JSON.parse(start!.body), { name: "web", command: ["sh", "-c", "echo a&b"] });
    assert.equal(list!.url, "/trpc/containers.list", "no input, no input parameter");
  });
});

test("the agent's refusal is an AgentError with its message, tRPC code and HTTP status", async () => {
  const refusal = { error: { message: "web is RUNNING: stop it before deleting it", code: -32009, data: { code: "CONFLICT", httpStatus: 409 } } };
  await withServer(() => ({ status: 409, body: JSON.stringify(refusal) }), async (url) => {
    const client = httpClient(url, {});
    await assert.rejects(client.containers.delete.mutate({ name: "web" }), (e: unknown) =>
      e instanceof AgentError && e.message === refusal.error.message && e.code === "CONFLICT" && e.httpStatus === 409);
  });
});

test("answers that are not tRPC's: the server's own refusal, no JSON, no result", () => {
  assert.throws(() => decodeAnswer(401, JSON.stringify({ error: { message: "missing or wrong token", code: 401 } })),
    (e: unknown) => e instanceof AgentError && e.message === "missing or wrong token" && e.code === "401" && e.httpStatus === 401);
  assert.throws(() => decodeAnswer(502, "<html>bad gateway</html>"), /HTTP 502 with no JSON: <html>/);
  assert.throws(() => decodeAnswer(200, "{}"), /without a result/);
  assert.equal(decodeAnswer(200, JSON.stringify({ result: {} })), undefined, "a procedure that answers nothing");
});

test("a part of the client is not a thenable, and only query and mutate go over HTTP", () => {
  const client = httpClient("http://127.0.0.1:1", {}) as unknown as Record<string, unknown>;
  assert.equal((client.containers as Record<string, unknown>).then, undefined);
  const onEvent = (client.events as Record<string, Record<string, () => unknown>>).onEvent!;
  assert.throws(() => onEvent.subscribe!(), /only query and mutate go over HTTP/);
});

test("an agent of another API version, or one that refuses the token, is said in words with what to do", async () => {
  const server = createServer((req, res) => {
    const other = req.url?.includes("other");
    res.writeHead(other ? 200 : 401, { "content-type": "application/json", "x-corral-api": other ? "999" : "1" });
    res.end(JSON.stringify(other ? { result: { data: [] } } : { error: { message: "missing or wrong token", code: 401 } }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  try {
    const client = httpClient(url, {}, { place: placeOf(url, "edge") });
    await assert.rejects(callAgent(url, {}, "query", "other.list", undefined, { place: placeOf(url, "edge") }), (e: unknown) =>
      e instanceof AgentError && e.code === "version" && /^Version mismatch: agent "edge" .* speaks API version 999, this client speaks API version 1\. Install the same corral on both sides/.test(e.message));
    await assert.rejects(client.containers.list.query(), (e: unknown) =>
      e instanceof AgentError && e.httpStatus === 401 && /did not accept the token.*corral remote remove edge and corral remote add edge .* --token TOKEN/.test(e.message));
  } finally {
    server.close();
  }
});

test("an agent that cannot be reached is said so, with the error's code", async () => {
  const client = httpClient("http://127.0.0.1:1", {});
  await assert.rejects(client.containers.list.query(), (e: unknown) => e instanceof AgentError && /^Unreachable: the agent at http:\/\/127\.0\.0\.1:1 cannot be reached \(ECONNREFUSED\)/.test(e.message));
});
