// The numbers both sides of the executor must agree on have one source each: the op codes and
// sync messages are TypeScript enums (plan.ts, sync.ts), and this test reads native/plan.h and holds
// its copies equal, so that a new op or message cannot be added on one side only.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { OpCode, PLAN_MAGIC } from "../../src/runtime/plan.ts";
import { SyncMessage } from "../../src/runtime/sync.ts";

const source = readFileSync(join(import.meta.dirname, "../../native/plan.h"), "utf8");

/** NAME = value pairs of the C enum whose members start with `prefix`. */
function cEnum(prefix: string): Map<string, number> {
  return new Map([...source.matchAll(new RegExp(`\\b${prefix}([A-Z0-9_]+)\\s*=\\s*(\\d+)`, "g"))].map((m) => [m[1]!, Number(m[2])]));
}

/** PivotRoot -> PIVOT_ROOT */
const constName = (name: string) => name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase();

/** The members of a numeric TypeScript enum. */
const members = (e: object) => Object.entries(e).filter(([, v]) => typeof v === "number") as Array<[string, number]>;

test("plan.h has every plan op code of plan.ts, with the same number, and no other", () => {
  const ts = new Map(members(OpCode).map(([name, n]) => [constName(name), n]));
  assert.deepEqual(cEnum("OP_"), ts);
});

test("plan.h's sync messages are SyncMessage's (the stamps' kinds travel in the plan)", () => {
  const c = cEnum("SYNC_");
  assert.ok(c.size > 0, "no SYNC_ enum in plan.h");
  for (const [name, n] of c) assert.equal(n, SyncMessage[name.split("_").map((w) => w[0] + w.slice(1).toLowerCase()).join("") as keyof typeof SyncMessage], `SYNC_${name}`);
});

test("the plan's magic number is the same on both sides", () => {
  const m = /#define PLAN_MAGIC (0x[0-9a-f]+)u/.exec(source);
  assert.equal(Number(m?.[1]), PLAN_MAGIC);
});
