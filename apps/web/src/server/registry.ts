// The agent registry: which agents this dashboard shows, with their URLs, tokens and pinned
// certificates. One file (env.ts agentsSource) that every dashboard server reads, so that several
// behind a load balancer show the same hosts; it is read again whenever it changes (a stat per
// look), and written whole, beside and renamed in, 0600 in a 0700 directory: it holds tokens.
// Never sent to the browser. Server only.
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { agentsSource, formatAgents, localAgent, parseAgents, type AgentConfig } from "./env.ts";

export interface RegistryState {
  agents: AgentConfig[];
  /** a registry that cannot be read: said instead of the agents */
  error?: string;
  /** where it comes from; "env" cannot be changed from the dashboard */
  source: "env" | "file";
  /** what the file was when read (undefined: no file) */
  stamp?: string;
}

function stampOf(path: string): string | undefined {
  try {
    const st = statSync(path);
    return `${st.mtimeMs}:${st.size}:${st.ino}`;
  } catch (e) {
    // no file yet; anything else is the registry's error, said where the agents would be
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
}

/** The registry as it is now; `previous` is kept when the file has not changed since. */
export function readRegistry(previous?: RegistryState): RegistryState {
  const source = agentsSource();
  if (source.kind === "env") {
    if (previous?.source === "env") return previous;
    try {
      return { agents: parseAgents(source.json, "CORRAL_WEB_AGENTS"), source: "env" };
    } catch (e) {
      return { agents: [], error: (e as Error).message, source: "env" };
    }
  }
  let stamp: string | undefined;
  try {
    stamp = stampOf(source.path);
  } catch (e) {
    return { agents: [], error: `${source.path}: ${(e as Error).message}`, source: "file" };
  }
  if (previous && previous.source === "file" && previous.stamp === stamp) return previous;
  // until the file exists, the local agent
  if (stamp === undefined) return { agents: [localAgent()], source: "file" };
  try {
    return { agents: parseAgents(readFileSync(source.path, "utf8"), source.path), source: "file", stamp };
  } catch (e) {
    return { agents: [], error: (e as Error).message, source: "file", stamp };
  }
}

export class RegistryRefusal extends Error {
  constructor(message: string, readonly status = 400) {
    super(message);
    this.name = "RegistryRefusal";
  }
}

/**
 * Change the registry: read it fresh, apply `change` (which throws a RegistryRefusal to refuse),
 * write it. Two servers changing it at the same instant: the later write wins.
 */
export function changeRegistry(change: (agents: AgentConfig[]) => AgentConfig[]): AgentConfig[] {
  const source = agentsSource();
  if (source.kind === "env") throw new RegistryRefusal("The agents are set by CORRAL_WEB_AGENTS on the dashboard's server: change them there (or unset it to keep them in the registry file, which this dialog writes).", 409);
  const now = readRegistry();
  if (now.error) throw new RegistryRefusal(`The agent registry cannot be read: ${now.error}`, 409);
  const next = change(now.agents);
  const tmp = `${source.path}.${process.pid}.tmp`;
  try {
    mkdirSync(dirname(source.path), { recursive: true, mode: 0o700 });
    writeFileSync(tmp, formatAgents(next), { mode: 0o600 });
    renameSync(tmp, source.path);
  } catch (e) {
    // a directory the dashboard's user cannot write, a full disk: said, and nothing changed
    rmSync(tmp, { force: true });
    throw new RegistryRefusal(`The agent registry cannot be written (${source.path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}). Set CORRAL_WEB_AGENTS_FILE to a file the dashboard's server may write.`, 507);
  }
  return next;
}
