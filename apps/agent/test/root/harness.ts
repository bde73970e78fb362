// Shared pieces of the root tests: they start real containers, so they need root, and say so by
// failing (never skipping) when they do not have it.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import type { StateName } from "@corral/core";
import { nativeSyscalls } from "../../src/sys/native.ts";
import { LxcPath } from "../../src/containers/lxcpath.ts";
import { Runtime, type StateChange } from "../../src/runtime/runtime.ts";
import { createContainer } from "../../src/containers/create.ts";
import { nodeHost } from "../../src/host/node-host.ts";

export function requireRoot(): void {
  assert.equal(process.getuid?.(), 0, "this test starts real containers and needs root: run it as root (CI does)");
}

export interface Harness {
  lxcpath: LxcPath;
  runtime: Runtime;
  changes: StateChange[];
  states(name: string): StateName[];
  create(name: string, template?: "host" | "busybox", config?: string): void;
  /** wait until `name` has passed through `state` `times` times */
  waitFor(name: string, state: StateName, times?: number, timeoutMs?: number): Promise<void>;
  dispose(): void;
}

export function makeHarness(): Harness {
  requireRoot();
  const dir = mkdtempSync(join(tmpdir(), "corral-test-"));
  const lxcpath = new LxcPath(dir);
  const changes: StateChange[] = [];
  const waiters: Array<() => void> = [];
  const runtime = new Runtime(nativeSyscalls, nodeHost, lxcpath, (c) => {
    changes.push(c);
    waiters.splice(0).forEach((w) => w());
  });
  const states = (name: string) => changes.filter((c) => c.container === name).map((c) => c.state);
  return {
    lxcpath,
    runtime,
    changes,
    states,
    create: (name, template = "host", config) => void createContainer(lxcpath, { name, template, config }),
    async waitFor(name, state, times = 1, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (states(name).filter((s) => s === state).length < times) {
        if (Date.now() > deadline) throw new Error(`${name} did not reach ${state} x${times}; saw ${states(name).join(" ")}`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 100);
        });
      }
    },
    dispose() {
      runtime.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Nothing of a container may outlive it: no cgroup directory, veth, mount or process. */
export function assertNothingLeft(name: string, rootfs?: string): void {
  for (const mount of readdirSync("/sys/fs/cgroup")) {
    const base = join("/sys/fs/cgroup", mount);
    const left = existsSync(base) ? readdirSync(base).filter((d) => d === `corral-${name}` || d.startsWith(`corral-${name}-`)) : [];
    assert.deepEqual(left, [], `cgroup directories left in ${base}`);
  }
  assert.deepEqual(corralVeths(), [], "veth links left on the host");
  if (rootfs) {
    const mounts = readFileSync("/proc/self/mountinfo", "utf8").split("\n").filter((l) => l.includes(rootfs));
    assert.deepEqual(mounts, [], "mounts of the rootfs left on the host");
  }
}

/**
 * The host's veth links that a corral container could have left: those on no bridge or on one of
 * corral's (the tests' and the managed corralbr0). Another runtime's (a bench's lxc-start on its
 * own bridge) are not the tests' business.
 */
/** The veths corral names (veth + 6 hex, or a test's veth.pair, corral...), not on a bridge of
 * someone else's: other work on the host (a test fleet's namespaces) keeps its own. */
function corralVeths(): string[] {
  return execFileSync("ip", ["-o", "link", "show", "type", "veth"], { encoding: "utf8" })
    .split("\n")
    .filter((line) => /^\d+: (veth[0-9a-f]{6}|corral[\w.-]*)@/.test(line) && (!/ master /.test(line) || / master corral/.test(line)));
}

export function until(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (predicate()) { resolve(); return; }
      if (Date.now() > deadline) { reject(new Error("timed out")); return; }
      setTimeout(tick, 10);
    };
    tick();
  });
}

/**
 * Log in as root on a booted system container's console and run `probe` there: resolves once the
 * console shows `expect` (what probe prints); fails with the console's last lines otherwise.
 */
export async function consoleLogin(runtime: Runtime, name: string, password: string, bootMs: number, probe: string, expect: string): Promise<void> {
  const ring = () => runtime.consoleHistory(name).toString();
  await until(() => /login: $/.test(ring()), bootMs).catch(() => assert.fail(`no login prompt on the console:\n${ring().slice(-400)}`));
  runtime.writeConsole(name, "root\r");
  await until(() => ring().includes("Password:"), 30_000);
  runtime.writeConsole(name, `${password}\r`);
  await until(() => new RegExp(`root@${name}:~# $`).test(ring()), 30_000).catch(() => assert.fail(`no shell prompt:\n${ring().slice(-400)}`));
  runtime.writeConsole(name, `${probe}\r`);
  await until(() => ring().includes(expect), 30_000);
}
