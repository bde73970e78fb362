#!/usr/bin/env node
// The corral command (setup links /usr/local/bin/corral here): runs the bundle, rebuilding it
// first if a source changed since. The look is inline and the builder (bundle.mjs, which loads
// esbuild) is imported only to rebuild: every command pays for this file, so it stays small.
// CORRAL_BUNDLE_CHECK=0 skips the look (one stat per source file, 2 to 3 ms here).
import { readdirSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";

const dist = new URL("../dist/corral.mjs", import.meta.url);
const sources = ["../src", "../../../packages/core/src"].map((dir) => fileURLToPath(new URL(dir, import.meta.url)));

function newerThan(dir, built) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory() ? newerThan(path, built) : statSync(path).mtimeMs > built) return true;
  }
  return false;
}

function stale() {
  let built;
  try {
    built = statSync(dist).mtimeMs;
  } catch {
    return true;
  }
  return sources.some((dir) => newerThan(dir, built));
}

if (process.env.CORRAL_BUNDLE_CHECK !== "0" && stale()) await (await import("./bundle.mjs")).bundle();
await import(dist.href);
