#!/usr/bin/env node
// The corral command. `pnpm corral <command> ...` from the repository's root.
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { anchorIncludes } from "@corral/core";
import { createContainer, createContainerAsync, type CreateRequest } from "../containers/create.ts";
import { LxcPath } from "../containers/lxcpath.ts";
import { DEFAULT_LISTEN, env } from "../env.ts";
import { runAgent } from "./agent-command.ts";
import { flag, has, parseArgs, UsageError, type ParsedArgs } from "./args.ts";
import { connect, resolveTarget } from "./client.ts";
import * as remote from "./remote.ts";
import { runForeground } from "./run.ts";

/** What each command takes; --lxcpath and --agent go everywhere. */
const COMMANDS: Record<string, { booleans?: string[]; values?: string[]; positionals?: number }> = {
  create: { values: ["template", "config", "release", "root-password", "ssh-key"], positionals: 1 },
  run: { booleans: ["rm", "verbose"], values: ["name", "template", "config"], positionals: 1 },
  agent: { values: ["listen"] },
  ls: { booleans: ["json"] },
  info: { booleans: ["json"], positionals: 1 },
  start: { positionals: 1 },
  stop: { booleans: ["kill"], values: ["timeout"], positionals: 1 },
  abort: { positionals: 1 },
  reboot: { positionals: 1 },
  freeze: { positionals: 1 },
  unfreeze: { positionals: 1 },
  delete: { positionals: 1 },
  events: { booleans: ["json"], values: ["since", "name"] },
  console: { positionals: 1 },
};

function argsOf(command: string | undefined, words: readonly string[]): ParsedArgs {
  const spec = COMMANDS[command ?? ""] ?? {};
  return parseArgs(words, { booleans: spec.booleans ?? [], values: ["lxcpath", "agent", ...(spec.values ?? [])], positionals: spec.positionals ?? 0 });
}

const USAGE = `usage: corral <command> [options]

On this host, no agent needed:
  create NAME [--template host|busybox|debian] [--config FILE]    write <lxcpath>/NAME/config (LXC format)
         debian: [--release bookworm] [--root-password PW] [--ssh-key FILE]   (built once, then cached)
  run [NAME] [--rm] [--template T] [--config FILE] [--name N] [--verbose] [-- CMD ARGS...]
                                         run a container in the foreground, like lxc-start -F
  agent [--listen ${DEFAULT_LISTEN}]     run the agent (tRPC at /trpc, HTTP and WebSocket)

Through an agent (--agent URL or CORRAL_AGENT; token from CORRAL_TOKEN or <lxcpath>/agent.token):
  ls [--json]                 info NAME [--json]
  start NAME [-- CMD...]      stop NAME [--timeout S] [--kill]
  abort|reboot|freeze|unfreeze|delete NAME
  events [--json] [--since CURSOR]       every state change, live (like lxc-monitor)
  console NAME                           attach to the console (Ctrl-a q detaches)

Everywhere:
  --lxcpath DIR   the container store (default /var/lib/corral, or CORRAL_LXCPATH)`;

function lxcpathOf(args: ParsedArgs): string {
  return flag(args, "lxcpath") ?? env.lxcpath;
}

function needName(args: ParsedArgs, command: string): string {
  const name = args.positionals[0];
  if (name === undefined) throw new UsageError(`${command} needs a container NAME`);
  return name;
}

function agentConnection(args: ParsedArgs) {
  return connect(resolveTarget(flag(args, "agent") ?? env.agent, lxcpathOf(args), env.token));
}

/** The container NAME, checked before any agent is reached, and the connection. */
function withName(args: ParsedArgs, command: string): [ReturnType<typeof agentConnection>, string] {
  const name = needName(args, command);
  return [agentConnection(args), name];
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === "help" || command === "--help") {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined ? 2 : 0;
  }
  if (!(command in COMMANDS)) throw new UsageError(`unknown command "${command}"`);
  const args = argsOf(command, rest);
  switch (command) {
    case "create": {
      const name = needName(args, command);
      const configFile = flag(args, "config");
      const sshKeyFile = flag(args, "ssh-key");
      const req: CreateRequest = {
        name,
        template: flag(args, "template") ?? (configFile ? undefined : "host"),
        config: configFile ? readConfigArgument(configFile) : undefined,
        release: flag(args, "release"),
        rootPassword: flag(args, "root-password"),
        sshKey: sshKeyFile ? readFileSync(sshKeyFile, "utf8") : undefined,
      };
      if (flag(args, "agent") ?? env.agent) return remote.create(agentConnection(args), req);
      const lxcpath = new LxcPath(lxcpathOf(args));
      const result = req.template === "debian"
        ? await createContainerAsync(lxcpath, req, (line) => process.stdout.write(`${line}\n`))
        : createContainer(lxcpath, req);
      for (const w of result.warnings) process.stderr.write(`warning: ${w}\n`);
      if (req.template !== "debian") process.stdout.write(`created ${result.name} (${result.configPath})\n`);
      return 0;
    }
    case "run": {
      const configFile = flag(args, "config");
      return runForeground({
        lxcpath: lxcpathOf(args),
        name: flag(args, "name") ?? args.positionals[0],
        template: flag(args, "template"),
        config: configFile === undefined ? undefined : readConfigArgument(configFile),
        remove: has(args, "rm"),
        verbose: has(args, "verbose"),
        command: args.rest,
      });
    }
    case "agent":
      return runAgent(lxcpathOf(args), flag(args, "listen") ?? DEFAULT_LISTEN);
    case "ls":
      return remote.ls(agentConnection(args), has(args, "json"));
    case "info":
      return remote.info(...withName(args, command), has(args, "json"));
    case "start": case "stop": case "abort": case "reboot": case "freeze": case "unfreeze": case "delete": {
      const timeout = flag(args, "timeout");
      if (timeout !== undefined && !/^\d+(\.\d+)?$/.test(timeout)) throw new UsageError(`--timeout wants seconds, got "${timeout}"`);
      const [conn, name] = withName(args, command);
      return remote.verb(conn, command, name, {
        timeout: timeout === undefined ? undefined : Number(timeout),
        kill: has(args, "kill"),
        command: args.rest,
      });
    }
    case "events":
      return remote.events(agentConnection(args), has(args, "json"), flag(args, "since"), flag(args, "name"));
    case "console":
      return remote.consoleAttach(...withName(args, command));
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`corral: ${e instanceof Error ? e.message : String(e)}\n`);
    if (e instanceof UsageError) process.stderr.write(`${USAGE}\n`);
    process.exit(e instanceof UsageError ? 2 : 1);
  },
);

/**
 * --config FILE: its text, with relative lxc.include paths anchored at FILE's directory, where
 * they point, since the text is stored as <lxcpath>/NAME/config (and may go to an agent elsewhere).
 */
function readConfigArgument(file: string): string {
  return anchorIncludes(readFileSync(file, "utf8"), dirname(resolve(file)));
}
