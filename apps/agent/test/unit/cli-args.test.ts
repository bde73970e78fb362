// The corral command's argument parser: what a command takes, and a clear error for the rest.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseArgs, UsageError } from "../../src/cli/args.ts";

const spec = { booleans: ["rm"], values: ["template", "lxcpath"], positionals: 1 };

test("options, one positional, and the command after --", () => {
  const a = parseArgs(["web", "--rm", "--template", "host", "--lxcpath=/x", "--", "sh", "-c", "--rm"], spec);
  assert.deepEqual(a.positionals, ["web"]);
  assert.deepEqual([...a.flags], [["rm", true], ["template", "host"], ["lxcpath", "/x"]]);
  assert.deepEqual(a.rest, ["sh", "-c", "--rm"]);
});

test("an unknown option, a missing value, a value for a switch, or an extra argument is a usage error", () => {
  for (const [words, message] of [
    [["--bogus"], /unknown option --bogus/],
    [["--template"], /--template needs a value/],
    [["--template", "--", "true"], /--template needs a value/],
    [["--rm=1"], /--rm takes no value/],
    [["a", "b"], /unexpected argument "b"/],
  ] as const) {
    assert.throws(() => parseArgs(words, spec), (e: Error) => e instanceof UsageError && message.test(e.message), words.join(" "));
  }
});
