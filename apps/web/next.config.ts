import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { NextConfig } from "next";

const workspaceRoot = join(dirname(fileURLToPath(import.meta.url)), "../..");

const config: NextConfig = {
  // @corral/core exports TypeScript source.
  transpilePackages: ["@corral/core"],
  // The agent connections use ws on the server; keep it out of the bundle.
  serverExternalPackages: ["ws"],
  poweredByHeader: false,
  reactStrictMode: true,
  turbopack: { root: workspaceRoot },
  outputFileTracingRoot: workspaceRoot,
};

export default config;
