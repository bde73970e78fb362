// The words for an agent that cannot be used (packages/core agent-problems.ts), loaded only when a
// call fails: the bundle keeps them in a file of their own (bin/bundle.mjs), out of every
// command's way.
export { agentProblem, tokenRefused, versionMismatch } from "@corral/core";
