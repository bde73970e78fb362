// The agent registry every dashboard server reads: the local agent until the file exists; read
// again when the file changes (as another server's write changes it); written 0600 with the pins;
// refused when CORRAL_WEB_AGENTS fixes the agents, or when an https agent has no pin.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatAgents, parseAgents } from "../src/server/env.ts";
import { changeRegistry, readRegistry, RegistryRefusal } from "../src/server/registry.ts";

const FP = "ab".repeat(32);

function withRegistry(run: (path: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), "corral-registry-"));
  const saved = { file: process.env.CORRAL_WEB_AGENTS_FILE, env: process.env.CORRAL_WEB_AGENTS };
  process.env.CORRAL_WEB_AGENTS_FILE = join(dir, "web", "agents.json");
  delete process.env.CORRAL_WEB_AGENTS;
  try {
    run(process.env.CORRAL_WEB_AGENTS_FILE);
  } finally {
    if (saved.file === undefined) delete process.env.CORRAL_WEB_AGENTS_FILE;
    else process.env.CORRAL_WEB_AGENTS_FILE = saved.file;
    if (saved.env !== undefined) process.env.CORRAL_WEB_AGENTS = saved.env;
    rmSync(dir, { recursive: true, force: true });
  }
}

test("an https agent is kept with its pin, and one without a pin is refused in words", () => {
  const agents = parseAgents(JSON.stringify([{ name: "edge", url: "https://10.0.0.2:7690/", token: "t", fingerprint: FP.toUpperCase(), certificate: "PEM" }]), "test");
  assert.deepEqual(agents, [{ name: "edge", url: "https://10.0.0.2:7690", token: "t", pin: { fingerprint: FP, certificate: "PEM" } }]);
  assert.deepEqual(parseAgents(formatAgents(agents), "again"), agents);
  assert.throws(() => parseAgents(JSON.stringify([{ name: "edge", url: "https://10.0.0.2:7690", token: "t" }]), "test"), /the https agent "edge" needs its pinned certificate/);
});

test("the local agent until the file exists; then the file, read again when it changes", () => {
  withRegistry((path) => {
    const first = readRegistry();
    assert.deepEqual(first.agents.map((a) => a.name), ["local"]);
    const written = changeRegistry((agents) => [...agents, { name: "edge", url: "https://10.0.0.2:7690", token: "t", pin: { fingerprint: FP, certificate: "PEM" } }]);
    assert.deepEqual(written.map((a) => a.name), ["local", "edge"]);
    assert.equal(statSync(path).mode & 0o777, 0o600, "it holds tokens");
    assert.equal(statSync(join(path, "..")).mode & 0o777, 0o700);
    const second = readRegistry(first);
    assert.deepEqual(second.agents.map((a) => a.name), ["local", "edge"]);
    assert.equal(readRegistry(second), second, "unchanged: the same state, no read");
    // another dashboard server's write
    writeFileSync(path, formatAgents(second.agents.filter((a) => a.name !== "local")));
    assert.deepEqual(readRegistry(second).agents.map((a) => a.name), ["edge"]);
    assert.match(readFileSync(path, "utf8"), new RegExp(FP));
  });
});

test("a registry that does not parse is said, and nothing is written over it", () => {
  withRegistry((path) => {
    changeRegistry((agents) => agents);
    writeFileSync(path, "{not json");
    assert.match(readRegistry().error ?? "", /is not JSON/);
    assert.throws(() => changeRegistry((agents) => agents), (e: unknown) => e instanceof RegistryRefusal && /cannot be read/.test(e.message));
    assert.equal(readFileSync(path, "utf8"), "{not json");
  });
});

test("agents fixed by CORRAL_WEB_AGENTS cannot be changed from the dashboard", () => {
  withRegistry(() => {
    process.env.CORRAL_WEB_AGENTS = JSON.stringify([{ name: "a", url: "http://127.0.0.1:1", token: "t" }]);
    try {
      assert.equal(readRegistry().source, "env");
      assert.throws(() => changeRegistry((agents) => agents), (e: unknown) => e instanceof RegistryRefusal && e.status === 409 && /set by CORRAL_WEB_AGENTS/.test(e.message));
    } finally {
      delete process.env.CORRAL_WEB_AGENTS;
    }
  });
});

test("every dashboard server sees another's change on its next look; an unchanged agent keeps its connection", async () => {
  const { agentNames, getAgent } = await import("../src/server/agents.ts");
  withRegistry((path) => {
    changeRegistry(() => [{ name: "a", url: "http://127.0.0.1:1", token: "t" }, { name: "b", url: "http://127.0.0.1:2", token: "t" }]);
    assert.deepEqual(agentNames(), ["a", "b"]);
    const a = getAgent("a");
    const b = getAgent("b");
    // another server renames b and gives a new token to nobody else
    writeFileSync(path, formatAgents([{ name: "a", url: "http://127.0.0.1:1", token: "t" }, { name: "c", url: "http://127.0.0.1:2", token: "t2" }]));
    assert.deepEqual(agentNames(), ["a", "c"]);
    assert.equal(getAgent("a"), a, "the same connection");
    assert.equal(getAgent("b"), undefined);
    assert.notEqual(getAgent("c"), b);
    assert.equal(getAgent("c")?.config.token, "t2");
  });
});
