// What `corral stop` and `corral reboot` show while they wait, from the container's events, and
// the bash completion made from the command table, run in a real bash.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { StateEvent, StateName } from "@corral/core";
import { killLine, rebootLine, rebootStep, type RebootStep } from "../../src/cli/countdown.ts";
import { bashCompletion } from "../../src/cli/completion.ts";
import { COMMANDS } from "../../src/cli/commands.ts";

let seq = 0;
const ev = (state: StateName, detail: StateEvent["detail"] = {}): StateEvent => ({ seq: ++seq, container: "web", state, at: 0, cause: { actor: "cli:test", request: "reboot" }, detail });

test("a stop's line: the signal and the seconds left before SIGKILL, or why the init is killed at once", () => {
  assert.equal(killLine("web", ev("STOPPING", { signal: "SIGRTMIN+3", timeoutMs: 10_000, killAt: 10_000 }), 1_500), "web: SIGRTMIN+3 sent; SIGKILL in 9 s");
  assert.equal(killLine("web", ev("STOPPING", { signal: "SIGKILL", timeoutMs: 0, killAt: 0 }), 0), "web: SIGKILL at once");
  assert.equal(killLine("web", ev("STOPPING", { signal: "SIGKILL", timeoutMs: 0, note: "the init does not handle SIGPWR: killed at once" }), 0), "web: the init does not handle SIGPWR: killed at once");
  assert.equal(killLine("web", ev("STOPPING", { exitStatus: 0 }), 0), undefined, "the STOPPING of an init that ended says no countdown");
  assert.equal(killLine("web", ev("RUNNING"), 0), undefined);
});

function walk(events: StateEvent[]): RebootStep[] {
  const steps: RebootStep[] = [];
  let step: RebootStep = { step: "asked" };
  for (const e of events) steps.push((step = rebootStep(step, e)));
  return steps;
}

test("a reboot goes from the signal to the init's end, the new start and RUNNING", () => {
  const steps = walk([
    ev("STOPPING", { signal: "SIGINT", timeoutMs: 10_000, killAt: 10_000 }),
    ev("STOPPING", { exitStatus: 1, signal: "SIGHUP", reboot: true }),
    ev("STOPPED", { exitStatus: 1, signal: "SIGHUP", reboot: true }),
    ev("STARTING", { reboot: true }),
    ev("RUNNING", { pid: 4242 }),
  ]);
  assert.deepEqual(steps.map((s) => s.step), ["signalled", "signalled", "ended", "starting", "running"]);
  assert.equal(rebootLine("web", steps[0]!, 1, 2_000), "web: SIGINT sent; SIGKILL in 8 s");
  assert.equal(rebootLine("web", steps[2]!, 3, 0), "web: the init ended by SIGHUP; starting again");
  assert.equal(rebootLine("web", steps[4]!, 4, 0), "web: RUNNING again (pid 4242)");
});

test("a reboot with no word from the agent before the init ends counts the seconds waited", () => {
  assert.equal(rebootLine("web", { step: "asked" }, 3, 0), "web: reboot signal sent; waiting for the init to end (3 s)");
  const steps = walk([ev("STOPPING", { exitStatus: 0, reboot: true }), ev("STOPPED", { exitStatus: 0, exitCode: 0, reboot: true })]);
  assert.deepEqual(steps.map((s) => s.step), ["asked", "ended"]);
  assert.equal(rebootLine("web", steps[1]!, 0, 0), "web: the init exited 0; starting again");
});

test("a reboot whose next run is aborted fails with the error; events after the end change nothing", () => {
  const steps = walk([
    ev("STOPPED", { signal: "SIGKILL" }),
    ev("STARTING", { reboot: true }),
    ev("ABORTING", { error: { step: "cgroup", message: "cgroup setting memory.max = 1 refused" } }),
    ev("STOPPED", {}),
    ev("RUNNING", {}),
  ]);
  assert.deepEqual(steps.at(-1), { step: "failed", error: "cgroup setting memory.max = 1 refused" });
  assert.deepEqual(walk([ev("RUNNING")]).map((s) => s.step), ["asked"], "a RUNNING before the init ended is not the next run");
});

/** COMPREPLY for a command line whose last word is being completed, in a real bash. */
function complete(words: string[], corral: string): string[] {
  const script = `${bashCompletion()}
COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}
_corral; printf '%s\\n' "\${COMPREPLY[@]}"`;
  return execFileSync("bash", ["-c", script], { encoding: "utf8", env: { ...process.env, PATH: process.env.PATH } })
    .split("\n").filter(Boolean).map((w) => w.replace(corral, "CORRAL"));
}

test("bash completion: verbs, the options of each verb, option values and the agent's container names", () => {
  const dir = mkdtempSync(join(tmpdir(), "corral-completion-"));
  // a stand-in corral that answers `ls --names` as the agent would, and says how it was called
  const corral = join(dir, "corral");
  writeFileSync(corral, `#!/bin/sh\n[ "$1 $2" = "ls --names" ] || exit 1\necho "web"; echo "db"; [ "$3" = "--agent" ] && echo "via-$4"; exit 0\n`);
  chmodSync(corral, 0o755);
  writeFileSync(join(dir, "my.conf"), "");
  assert.deepEqual(complete([corral, "st"], corral), ["start", "stop"]);
  assert.deepEqual(complete([corral, ""], corral).sort(), [...Object.keys(COMMANDS), "help"].sort());
  assert.deepEqual(complete([corral, "stop", "--"], corral), ["--kill", "--timeout", "--lxcpath", "--agent"]);
  assert.deepEqual(complete([corral, "stop", ""], corral), ["web", "db"]);
  assert.deepEqual(complete([corral, "stop", "web", ""], corral), [], "stop takes one name");
  assert.deepEqual(complete([corral, "info", "--agent", "http://h:1", ""], corral), ["web", "db", "via-http://h:1"], "the line's --agent is asked");
  assert.deepEqual(complete([corral, "create", "x", "--template", ""], corral), ["host", "busybox", "debian"]);
  assert.deepEqual(complete([corral, "create", "x", "--config", join(dir, "my")], corral), [join(dir, "my.conf")]);
  assert.deepEqual(complete([corral, "stop", "--timeout", ""], corral), [], "a number: nothing to offer");
  assert.deepEqual(complete([corral, "start", "web", "--", ""], corral), [], "after --, the container's command");
});
