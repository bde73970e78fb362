// Bundles the corral CLI and agent (src/cli/main.ts and @corral/core) into dist/corral.mjs with
// esbuild. Run by `pnpm build`; bin/corral.mjs also runs it when a source is newer than the
// bundle. The bundle starts in a third of the time tsx takes and the agent uses 40 MB less.
import { build } from "esbuild";
import { readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(dirname(fileURLToPath(import.meta.url)));
export const BUNDLE = join(here, "dist/corral.mjs");
const SOURCES = [join(here, "src"), join(here, "../../packages/core/src")];

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

export function bundleIsStale() {
  let built;
  try {
    built = statSync(BUNDLE).mtimeMs;
  } catch {
    return true;
  }
  return SOURCES.some((dir) => newestSource(dir) > built);
}

export async function bundle() {
  await build({
    entryPoints: [join(here, "src/cli/main.ts")],
    outfile: BUNDLE,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    // Native and optional-native modules stay in node_modules.
    external: ["ffi-rs", "better-sqlite3", "ws", "bufferutil", "utf-8-validate"],
    banner: { js: "import { createRequire as __corralRequire } from 'node:module'; const require = __corralRequire(import.meta.url);" },
    logLevel: "warning",
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await bundle();
