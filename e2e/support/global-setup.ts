// Before the tests: root is required (the agent runs real containers), and the dashboard's
// production build must exist and be newer than its sources; build it if not.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { ARTIFACTS, ROOT, WEB_DIR } from "./paths.ts";

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const entry of readdirSync(path)) {
    if (entry === "node_modules" || entry === ".next") continue;
    newest = Math.max(newest, newestMtime(join(path, entry)));
  }
  return newest;
}

export default function globalSetup(): void {
  if (process.getuid?.() !== 0) {
    throw new Error("the e2e tests start a real agent and real containers: run them as root");
  }
  mkdirSync(ARTIFACTS, { recursive: true });
  const buildId = join(WEB_DIR, ".next", "BUILD_ID");
  const built = existsSync(buildId) ? statSync(buildId).mtimeMs : 0;
  const sources = Math.max(
    ...["src", "next.config.ts", "package.json", "tsconfig.json"].map((p) => newestMtime(join(WEB_DIR, p))),
    newestMtime(join(ROOT, "packages", "core", "src")),
  );
  if (built > sources) return;
  process.stdout.write(built ? "dashboard build is older than its sources: rebuilding\n" : "no dashboard build: building\n");
  const r = spawnSync("pnpm", ["--filter", "@corral/web", "build"], { cwd: ROOT, stdio: "inherit", env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" } });
  if (r.status !== 0) throw new Error(`the dashboard's build failed (exit ${r.status})`);
}
