// The words for an agent that cannot be used, from the errors Node, fetch, tRPC and ws give: each
// names what happened and what to do; and the pin's check of a certificate.
import { test } from "node:test";
import assert from "node:assert/strict";
import { agentProblem, API_VERSION, CertificateMismatchError, isConnectionReset, normalizeFingerprint, pinnedTlsOptions, tokenRefused, versionMismatch, type AgentPlace } from "../src/index.ts";

const place: AgentPlace = { url: "https://10.0.0.2:7690", name: "edge", repin: "pin it again with X", retoken: "give it with Y" };
const sys = (code: string, message = code) => Object.assign(new Error(message), { code });
/** as fetch and tRPC wrap a socket's error */
const wrapped = (inner: Error) => new Error("wrapper", { cause: new TypeError("fetch failed", { cause: inner }) });
const FP = "ab".repeat(32);

test("fingerprints are read in Node's, incus's and sha256: forms", () => {
  assert.equal(normalizeFingerprint(FP.toUpperCase().match(/../g)!.join(":")), FP);
  assert.equal(normalizeFingerprint(`sha256:${FP}`), FP);
  assert.equal(normalizeFingerprint(` ${FP}\n`), FP);
  assert.equal(normalizeFingerprint("abcd"), undefined);
  assert.equal(normalizeFingerprint("zz".repeat(32)), undefined);
});

test("the pin accepts its own certificate's fingerprint only, whatever the host name", () => {
  const { ca, checkServerIdentity } = pinnedTlsOptions({ fingerprint: FP, certificate: "PEM" });
  assert.equal(ca, "PEM");
  assert.equal(checkServerIdentity("any.name", { fingerprint256: FP.toUpperCase().match(/../g)!.join(":") }), undefined);
  const refused = checkServerIdentity("10.0.0.2", { fingerprint256: "CD:".repeat(31) + "CD" });
  assert.ok(refused instanceof CertificateMismatchError);
});

test("each failure says what it is and what to do", () => {
  const cases: [unknown, string, RegExp][] = [
    [wrapped(sys("ECONNREFUSED")), "unreachable", /^Unreachable: agent "edge" \(https:\/\/10\.0\.0\.2:7690\) cannot be reached \(ECONNREFUSED\)\. Check that the agent runs there/],
    [sys("EHOSTUNREACH"), "unreachable", /cannot be reached \(EHOSTUNREACH\)/],
    [sys("ETIMEDOUT"), "timeout", /did not answer in time.*firewall/],
    [sys("DEPTH_ZERO_SELF_SIGNED_CERT", "self-signed certificate"), "certificate-changed", /^Refused: .*presented a certificate other than the one pinned for it, so nothing was sent\..*corral agent --fingerprint.*pin it again with X/],
    [wrapped(new CertificateMismatchError(FP, undefined)), "certificate-changed", /other than the one pinned/],
    [sys("ERR_SSL_WRONG_VERSION_NUMBER", "wrong version number"), "not-tls", /does not speak TLS.*use its http:\/\/ URL/],
    [{ error: sys("ECONNREFUSED") }, "unreachable", /ECONNREFUSED/],
    [new Error("Unexpected server response: 401"), "token", /did not accept the token.*give it with Y/],
  ];
  for (const [error, kind, words] of cases) {
    const problem = agentProblem(error, place);
    assert.equal(problem?.kind, kind, String(error));
    assert.match(problem.message, words);
  }
  assert.equal(agentProblem(new Error("no container named web"), place), undefined, "the agent's own answers are not problems");
});

test("plain HTTP to an agent that speaks HTTPS names the https URL to use", () => {
  const plain = { ...place, url: "http://10.0.0.2:7690" };
  assert.match(agentProblem({ code: "CORRAL_NEEDS_HTTPS" }, plain)!.message, /speaks HTTPS only beyond loopback.*Use https:\/\/10\.0\.0\.2:7690/);
  assert.equal(agentProblem(sys("ECONNRESET"), plain)?.kind, "needs-https");
});

test("a token refused, and another API version, in words", () => {
  assert.match(tokenRefused(place).message, /^Refused: agent "edge" .* did not accept the token.*agent\.token/);
  assert.equal(versionMismatch(API_VERSION, place), undefined);
  assert.equal(versionMismatch(String(API_VERSION), place), undefined);
  assert.match(versionMismatch(API_VERSION + 1, place)!.message, new RegExp(`^Version mismatch: .* speaks API version ${API_VERSION + 1}, this client speaks API version ${API_VERSION}\\. Install the same corral on both sides`));
  assert.match(versionMismatch(undefined, place)!.message, /an older API, without a version/);
});

test("a reset or a hang-up, however wrapped, is a connection reset; a refusal is not", () => {
  assert.equal(isConnectionReset(wrapped(sys("ECONNRESET", "read ECONNRESET"))), true);
  assert.equal(isConnectionReset(wrapped(new Error("socket hang up"))), true);
  assert.equal(isConnectionReset(wrapped(sys("ECONNREFUSED"))), false);
  assert.equal(isConnectionReset(new Error("bad input")), false);
});
