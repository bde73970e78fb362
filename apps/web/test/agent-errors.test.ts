// What the dashboard says about an agent that cannot be used, from the errors its calls and its
// streams fail with: words with what to do, never "Initialization error".
import { test } from "node:test";
import assert from "node:assert/strict";
import { TRPCClientError } from "@trpc/client";

process.env.CORRAL_WEB_AGENTS = JSON.stringify([{ name: "edge", url: "https://10.0.0.2:7690", token: "t", fingerprint: "ab".repeat(32), certificate: "PEM" }]);
const { describeAgentError } = await import("../src/server/agents.ts");
const edge = { name: "edge", url: "https://10.0.0.2:7690", token: "t" };
const sys = (code: string, message = code) => Object.assign(new Error(message), { code });

test("a call that could not reach the agent: unreachable, with the code and what to check", () => {
  const e = new TRPCClientError("fetch failed", { cause: new TypeError("fetch failed", { cause: sys("ECONNREFUSED") }) });
  const d = describeAgentError(edge, e);
  assert.equal(d.code, "AGENT_UNREACHABLE");
  assert.match(d.message, /^Unreachable: agent "edge" \(https:\/\/10\.0\.0\.2:7690\) cannot be reached \(ECONNREFUSED\)\. Check that the agent runs there/);
});

test("a stream whose WebSocket failed to open (tRPC's \"Initialization error\") says why", () => {
  // tRPC wraps ws's error event, which carries the socket's error
  const e = new TRPCClientError("Initialization error", { cause: new Error("Initialization error", { cause: { type: "error", error: sys("DEPTH_ZERO_SELF_SIGNED_CERT", "self-signed certificate") } }) });
  const d = describeAgentError(edge, e);
  assert.equal(d.code, "AGENT_CERTIFICATE_CHANGED");
  assert.match(d.message, /presented a certificate other than the one pinned for it, so nothing was sent\..*change its entry in CORRAL_WEB_AGENTS/);
  assert.doesNotMatch(d.message, /Initialization error/);
});

test("a refused token names where the token is and how to give another", () => {
  const e = new TRPCClientError("missing or wrong token");
  const d = describeAgentError(edge, e);
  assert.equal(d.code, "AGENT_TOKEN");
  assert.match(d.message, /did not accept the token.*agent\.token/);
});
