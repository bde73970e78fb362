import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const E2E_DIR = join(dirname(fileURLToPath(import.meta.url)), "..");
export const ROOT = join(E2E_DIR, "..");
export const WEB_DIR = join(ROOT, "apps", "web");
export const ARTIFACTS = join(E2E_DIR, "artifacts");
