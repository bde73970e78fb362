#!/usr/bin/env node
// The corral command (setup links /usr/local/bin/corral here): runs the bundle, rebuilding it
// first if a source changed since (bundle.mjs; CORRAL_BUNDLE_CHECK=0 skips that look).
import { BUNDLE, bundle, bundleIsStale } from "./bundle.mjs";

if (process.env.CORRAL_BUNDLE_CHECK !== "0" && bundleIsStale()) await bundle();
await import(BUNDLE);
