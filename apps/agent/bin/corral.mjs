#!/usr/bin/env node
// The corral command: runs the bundle, rebuilding it first if a source changed since.
import { BUNDLE, bundle, bundleIsStale } from "./bundle.mjs";

if (bundleIsStale()) await bundle();
await import(BUNDLE);
