// Bundles the corral command with esbuild into three files in dist/, so that each command loads
// only what it needs:
//   corral.mjs          src/cli/main.ts: the argument parser and the agent's HTTP client, all
//                       that ls, info, start, stop... load (about 20 KB);
//   corral-local.mjs    src/cli/local.ts: create without an agent, run and agent (the runtime,
//                       the store, the native bindings), imported by main.ts for those only;
//   corral-streams.mjs  src/cli/streams.ts: tRPC over WebSocket, for events, console and the
//                       progress of stop and reboot;
//   corral-remote.mjs   src/cli/remote-admin.ts: remote add, list and remove;
//   corral-problems.mjs src/cli/problems.ts: the words for an agent that cannot be used, loaded
//                       when a call fails;
//   corral-checkpoint.mjs src/store/checkpoint-worker.mjs: the agent's thread for the store's WAL
//                       checkpoints (store/checkpointer.ts).
// Each is whole (no shared chunks): esbuild's code splitting kept all of @corral/core in the chunk
// the quick commands load. Run by `pnpm build`; bin/corral.mjs also runs it when a source is
// newer than dist/corral.mjs.
import { renameSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(dirname(fileURLToPath(import.meta.url)));
const DIST = join(here, "dist");
/** The modules main.ts and client.ts import on demand, and the file each becomes. */
const APART = { "./local.ts": "./corral-local.mjs", "./streams.ts": "./corral-streams.mjs", "./remote-admin.ts": "./corral-remote.mjs", "./problems.ts": "./corral-problems.mjs" };

/** Imports of the modules bundled apart stay imports, of the file each becomes. */
const importApart = {
  name: "import-apart",
  setup(build) {
    build.onResolve({ filter: /^\.\/(local|streams|remote-admin|problems)\.ts$/ }, (args) =>
      args.importer.startsWith(join(here, "src/cli/")) ? { path: APART[args.path], external: true } : undefined);
  },
};

export async function bundle() {
  // esbuild is loaded only to build: importing it would cost every command
  const { build } = await import("esbuild");
  // built beside, then swapped in: a command running meanwhile still finds whole files
  const out = `${DIST}.${process.pid}`;
  const common = {
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    // Native and optional-native modules stay in node_modules.
    external: ["ffi-rs", "better-sqlite3", "ws", "bufferutil", "utf-8-validate"],
    banner: { js: "import { createRequire as __corralRequire } from 'node:module'; const require = __corralRequire(import.meta.url);" },
    logLevel: "warning",
    plugins: [importApart],
  };
  await Promise.all([
    ["corral.mjs", "src/cli/main.ts"],
    ["corral-local.mjs", "src/cli/local.ts"],
    ["corral-streams.mjs", "src/cli/streams.ts"],
    ["corral-remote.mjs", "src/cli/remote-admin.ts"],
    ["corral-problems.mjs", "src/cli/problems.ts"],
    ["corral-checkpoint.mjs", "src/store/checkpoint-worker.mjs"],
  ].map(([file, entry]) => build({ ...common, entryPoints: [join(here, entry)], outfile: join(out, file) })));
  const old = `${DIST}.old.${process.pid}`;
  try {
    renameSync(DIST, old);
  } catch {
    // no bundle yet
  }
  try {
    renameSync(out, DIST);
  } catch (e) {
    // another command rebuilt at the same time and put its bundle in first: as fresh as ours
    if (e.code !== "ENOTEMPTY" && e.code !== "EEXIST") throw e;
    rmSync(out, { recursive: true, force: true });
  }
  rmSync(old, { recursive: true, force: true });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await bundle();
