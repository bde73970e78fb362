// The commands that run containers or the agent in this process: create (without an agent), run
// and agent. main.ts imports this module only for them; the bundle makes it a file of its own
// (dist/corral-local.mjs, see bin/bundle.mjs), so that the commands that talk to an agent never
// load the runtime, the store or the native bindings.
export { agentTrust, printFingerprint, runAgent } from "./agent-command.ts";
export { createLocal } from "./create-local.ts";
export { runForeground } from "./run.ts";
