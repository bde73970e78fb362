// The agent's TLS identity and trust store, without root: a certificate made with openssl and kept
// (the same fingerprint on the next start), given ones taken only in pairs, loopback told apart,
// and the trusted client certificates added, found, listed, removed and read again after a change
// by another process; a trust file that does not parse trusts nobody and is never written over.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { certificateFingerprint, isLoopback, loadOrCreateIdentity, TrustStore } from "../../src/api/tls.ts";
import { logUnexpectedTo } from "../../src/errors.ts";

function inTemp(run: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), "corral-tls-"));
  try {
    run(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function clientCertificate(dir: string, name: string): string {
  const cert = join(dir, `${name}.crt`);
  execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", join(dir, `${name}.key`), "-out", cert, "-days", "1", "-subj", `/CN=${name}`], { stdio: "ignore" });
  return readFileSync(cert, "utf8");
}

test("the agent's certificate is made once in the lxcpath, its key 0600, and kept", () => {
  inTemp((dir) => {
    const first = loadOrCreateIdentity(dir);
    assert.match(first.fingerprint, /^[0-9a-f]{64}$/);
    assert.equal(statSync(join(dir, "agent.key")).mode & 0o777, 0o600);
    assert.equal(loadOrCreateIdentity(dir).fingerprint, first.fingerprint, "the next start serves the same certificate");
    assert.throws(() => loadOrCreateIdentity(dir, { cert: join(dir, "agent.crt") }), /--tls-cert and --tls-key go together/);
    assert.throws(() => certificateFingerprint("not a certificate", "x.crt"), /x\.crt is not a PEM certificate/);
  });
});

test("a certificate and key given are served in place of the lxcpath's, and none is made there", () => {
  inTemp((dir) => {
    const pem = clientCertificate(dir, "given");
    const identity = loadOrCreateIdentity(join(dir, "lxcpath-unused"), { cert: join(dir, "given.crt"), key: join(dir, "given.key") });
    assert.equal(identity.fingerprint, certificateFingerprint(pem, "given.crt"));
    assert.equal(identity.certPath, join(dir, "given.crt"));
  });
});

test("loopback stays plain HTTP; every other address is beyond it", () => {
  for (const host of ["127.0.0.1", "127.1.2.3", "::1", "localhost"]) assert.ok(isLoopback(host), host);
  for (const host of ["0.0.0.0", "10.78.9.2", "::", "192.168.1.1", "127.0.0.1.example"]) assert.ok(!isLoopback(host), host);
});

test("trusted client certificates: added, found by fingerprint, listed, removed, read again after another process changes them", () => {
  inTemp((dir) => {
    const trust = TrustStore.of(dir);
    const pem = clientCertificate(dir, "alice");
    const fp = certificateFingerprint(pem, "alice.crt");
    assert.equal(trust.find(fp), undefined);
    const added = trust.add(pem, "alice.crt", "alice");
    assert.deepEqual([added.name, added.fingerprint], ["alice", fp]);
    assert.equal(trust.find(fp)?.name, "alice");
    assert.equal(statSync(join(dir, "trusted-clients.json")).mode & 0o777, 0o600);
    // the running agent's store sees what `corral agent trust` writes in another process
    const other = TrustStore.of(dir);
    other.add(clientCertificate(dir, "bob"), "bob.crt");
    assert.deepEqual(trust.list().map((c) => c.name).sort(), ["CN=bob", "alice"]);
    assert.equal(other.remove("alice"), true);
    assert.equal(trust.find(fp), undefined);
    assert.equal(other.remove("alice"), false, "nothing left by that name");
  });
});

test("a trust file that does not parse trusts nobody, and the commands refuse to write over it", () => {
  inTemp((dir) => {
    const logged: string[] = [];
    logUnexpectedTo({ info: () => undefined, error: (msg) => logged.push(msg) });
    const path = join(dir, "trusted-clients.json");
    writeFileSync(path, "{broken");
    const trust = TrustStore.of(dir);
    assert.deepEqual(trust.list(), []);
    assert.match(logged.join("\n"), /no client certificate is trusted until it is fixed/);
    assert.throws(() => trust.add(clientCertificate(dir, "carol"), "carol.crt"), /must be a JSON array.*fix or remove it/);
    assert.equal(readFileSync(path, "utf8"), "{broken");
  });
});
