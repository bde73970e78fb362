// The lxcpath's parse cache: a config is parsed again when it or anything it includes changes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ContainerNotFound, LxcPath } from "../../src/containers/lxcpath.ts";

function setup() {
  const root = mkdtempSync(join(tmpdir(), "corral-lxcpath-"));
  const lxcpath = new LxcPath(root);
  const shared = join(root, "shared.conf");
  const confd = join(root, "conf.d");
  mkdirSync(confd);
  mkdirSync(join(root, "web"));
  writeFileSync(shared, "lxc.signal.halt = SIGTERM\n");
  writeFileSync(join(root, "web", "config"), `lxc.uts.name = web\nlxc.include = ${shared}\nlxc.include = ${confd}\n`);
  return { root, lxcpath, shared, confd };
}

test("a load is cached while nothing changes", () => {
  const { root, lxcpath } = setup();
  try {
    assert.equal(lxcpath.load("web"), lxcpath.load("web"));
  } finally {
    rmSync(root, { recursive: true });
  }
});

test("a change to an included file, or a file added to an included directory, is seen at the next load", () => {
  const { root, lxcpath, shared, confd } = setup();
  try {
    assert.equal(lxcpath.load("web").config.signals.halt, 15);
    writeFileSync(shared, "lxc.signal.halt = 10\n");
    assert.equal(lxcpath.load("web").config.signals.halt, 10);
    writeFileSync(join(confd, "50-stop.conf"), "lxc.signal.stop = SIGKILL\n");
    assert.equal(lxcpath.load("web").config.signals.stop, 9);
    rmSync(join(root, "web", "config"));
    assert.throws(() => lxcpath.load("web"), ContainerNotFound);
  } finally {
    rmSync(root, { recursive: true });
  }
});
