// What each corral command takes, in one table: the argument parser, the usage and the bash
// completion (completion.ts) all read it. Which commands need the agent's code is said here too:
// main.ts loads that code only for them, so that the commands that talk to an agent start fast.
import { DEFAULT_LISTEN } from "../env.ts";
import { parseArgs, type ParsedArgs } from "./args.ts";

export interface CommandSpec {
  booleans?: string[];
  values?: string[];
  positionals?: number;
  /** what a positional is, for completion: a container of the agent's, or nothing to offer */
  positional?: "container";
  /** values an option takes, for completion; "file" completes file names */
  choices?: Record<string, readonly string[] | "file">;
}

/** Options every command takes. */
export const GLOBAL_VALUES = ["lxcpath", "agent"] as const;

export const COMMANDS: Readonly<Record<string, CommandSpec>> = {
  create: {
    booleans: ["unprivileged"], values: ["template", "config", "release", "root-password", "ssh-key"], positionals: 1,
    choices: { template: ["host", "busybox", "debian"], config: "file", "ssh-key": "file", release: ["bookworm", "trixie"] },
  },
  run: {
    booleans: ["rm", "verbose"], values: ["name", "template", "config"], positionals: 1, positional: "container",
    choices: { template: ["host", "busybox", "debian"], config: "file" },
  },
  agent: { booleans: ["tls", "insecure-plain-http", "fingerprint"], values: ["listen", "tls-cert", "tls-key", "name"], positionals: 3, choices: { "tls-cert": "file", "tls-key": "file" } },
  remote: { booleans: ["accept-certificate", "json", "names"], values: ["token"], positionals: 3 },
  ls: { booleans: ["json", "names"] },
  info: { booleans: ["json"], positionals: 1, positional: "container" },
  start: { positionals: 1, positional: "container" },
  stop: { booleans: ["kill"], values: ["timeout"], positionals: 1, positional: "container" },
  abort: { positionals: 1, positional: "container" },
  reboot: { positionals: 1, positional: "container" },
  freeze: { positionals: 1, positional: "container" },
  unfreeze: { positionals: 1, positional: "container" },
  delete: { positionals: 1, positional: "container" },
  "restart-policy": { values: ["max", "backoff"], positionals: 2, positional: "container" },
  events: { booleans: ["json"], values: ["since", "name"], choices: { name: [] } },
  console: { positionals: 1, positional: "container" },
  completion: { positionals: 1, choices: {} },
};

export function argsOf(command: string | undefined, words: readonly string[]): ParsedArgs {
  const spec = COMMANDS[command ?? ""] ?? {};
  return parseArgs(words, { booleans: spec.booleans ?? [], values: [...GLOBAL_VALUES, ...(spec.values ?? [])], positionals: spec.positionals ?? 0 });
}

export const USAGE = `usage: corral <command> [options]

On this host, no agent needed:
  create NAME [--template host|busybox|debian] [--config FILE] [--unprivileged]
                                         write <lxcpath>/NAME/config (LXC format); --unprivileged:
                                         root inside is host uid 100000 (lxc.idmap, rootfs chowned)
         debian: [--release bookworm] [--root-password PW] [--ssh-key FILE]   (built once, then cached)
  run [NAME] [--rm] [--template T] [--config FILE] [--name N] [--verbose] [-- CMD ARGS...]
                                         run a container in the foreground, like lxc-start -F
  agent [--listen ${DEFAULT_LISTEN}]     run the agent (tRPC at /trpc, HTTP and WebSocket); beyond
         loopback HTTPS and WSS only, with its certificate from the lxcpath (made on first start)
         [--tls-cert FILE --tls-key FILE] [--tls] (HTTPS on loopback too) [--insecure-plain-http]
  agent --fingerprint                    print the agent's certificate fingerprint (SHA-256)
  agent trust add FILE [--name N] | trust list | trust remove NAME|FINGERPRINT
                                         client certificates that need no token (mutual TLS)
  completion bash                        print the bash completion script (setup installs it)

Remotes (agents elsewhere, their certificates pinned; kept in ~/.config/corral/remotes.json):
  remote add NAME URL [--token T] [--accept-certificate]   (without a token: this client's certificate)
  remote list [--json|--names]           remote remove NAME

Through an agent (--agent NAME|URL or CORRAL_AGENT; a remote's token, else CORRAL_TOKEN or <lxcpath>/agent.token):
  ls [--json|--names]         info NAME [--json]
  start NAME [-- CMD...]      stop NAME [--timeout S] [--kill]
  abort|reboot|freeze|unfreeze|delete NAME
  restart-policy NAME never|on-failure|always [--max N] [--backoff S]
                                         restart after a stop (on-failure: N in a row, waits doubling)
  events [--json] [--since CURSOR]       every state change, live (like lxc-monitor)
  console NAME                           attach to the console (Ctrl-a q detaches)

Everywhere:
  --lxcpath DIR   the container store (default /var/lib/corral, or CORRAL_LXCPATH)`;
