#!/usr/bin/env node
// The corral command. `pnpm corral <command> ...` from the repository's root.
import { createContainer } from "../runtime/create.ts";
import { LxcPath } from "../runtime/lxcpath.ts";
import { env } from "../env.ts";
import { flag, has, parseArgs, UsageError, type ParsedArgs } from "./args.ts";
import { runForeground } from "./run.ts";
import { readFileSync } from "node:fs";

const BOOLEANS = new Set(["rm", "verbose", "json", "kill", "help", "follow"]);

const USAGE = `usage: corral <command> [options]

  create NAME [--template host|busybox] [--config FILE]   write <lxcpath>/NAME/config
  run [NAME] [--rm] [--template T] [--name N] [--verbose] [-- CMD ARGS...]
                                                    run a container in the foreground (like lxc-start -F)

  --lxcpath DIR   the container store (default /var/lib/corral, or CORRAL_LXCPATH)`;

function lxcpathOf(args: ParsedArgs): string {
  return flag(args, "lxcpath") ?? env.lxcpath;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const args = parseArgs(rest, BOOLEANS);
  switch (command) {
    case "create": {
      const name = args.positionals[0];
      if (name === undefined) throw new UsageError("create needs a NAME");
      const configFile = flag(args, "config");
      const result = createContainer(new LxcPath(lxcpathOf(args)), {
        name,
        template: flag(args, "template") ?? (configFile ? undefined : "host"),
        config: configFile ? readFileSync(configFile, "utf8") : undefined,
      });
      for (const w of result.warnings) process.stderr.write(`warning: ${w}\n`);
      process.stdout.write(`created ${result.name} (${result.configPath})\n`);
      return 0;
    }
    case "run":
      return runForeground({
        lxcpath: lxcpathOf(args),
        name: flag(args, "name") ?? args.positionals[0],
        template: flag(args, "template"),
        remove: has(args, "rm"),
        verbose: has(args, "verbose"),
        command: args.rest,
      });
    case undefined:
    case "help":
    case "--help":
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: Error) => {
    process.stderr.write(`corral: ${e.message}\n`);
    if (e instanceof UsageError) process.stderr.write(`${USAGE}\n`);
    process.exit(e instanceof UsageError ? 2 : 1);
  },
);
