import { test } from "node:test";
import assert from "node:assert/strict";
import { NAME_RE, validateName } from "../src/index.ts";

test("valid names", () => {
  for (const name of ["c1", "web-01", "a", "A.b_c-d", "0", "x".repeat(64), "a..b"]) {
    assert.equal(validateName(name), null, name);
    assert.ok(NAME_RE.test(name));
  }
});

test("invalid names carry a reason", () => {
  const cases: Array<[string, RegExp]> = [
    ["", /empty/],
    [".", /reserved/],
    ["..", /reserved/],
    ["../evil", /"\/"/],
    ["a/b", /"\/"/],
    [".hidden", /start with/],
    ["-x", /start with/],
    ["x".repeat(80), /80 characters/],
    ["x".repeat(65), /limit is 64/],
    ["semi;colon", /may contain only/],
    ["sp ace", /may contain only/],
    ["new\nline", /may contain only/],
    ["ünï", /start with/],
  ];
  for (const [name, reason] of cases) assert.match(validateName(name) ?? "(accepted)", reason, JSON.stringify(name));
});
