// Where the agent's token lives: a file of its own, so that the CLI, which reads the token, does
// not load auth.ts's crypto with it.
import { join } from "node:path";

export const TOKEN_FILE = "agent.token";

export function tokenPath(lxcpath: string): string {
  return join(lxcpath, TOKEN_FILE);
}
