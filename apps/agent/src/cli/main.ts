#!/usr/bin/env node
// The corral command. `corral <command> ...` (setup links it onto the PATH), or `pnpm corral`.
// The commands that talk to an agent load only the client (this file, args, commands, client,
// remote); create (without an agent), run and agent import local.ts when they run, which the
// bundle keeps in a file of its own (bin/bundle.mjs): `corral ls` does not load the runtime.
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { anchorIncludes } from "@corral/core";
import type { CreateRequest } from "../containers/create.ts";
import { DEFAULT_LISTEN, env } from "../env.ts";
import { flag, has, isUsageError, UsageError, type ParsedArgs } from "./args.ts";
import { connect, resolveTarget, type Connection } from "./client.ts";
import { argsOf, COMMANDS, USAGE } from "./commands.ts";
import * as remote from "./remote.ts";

function lxcpathOf(args: ParsedArgs): string {
  return flag(args, "lxcpath") ?? env.lxcpath;
}

function needName(args: ParsedArgs, command: string): string {
  const name = args.positionals[0];
  if (name === undefined) throw new UsageError(`${command} needs a container NAME`);
  return name;
}

/** --NAME N: a number, or a usage error; undefined when not given. */
function numberFlag(args: ParsedArgs, name: string): number | undefined {
  const text = flag(args, name);
  if (text === undefined) return undefined;
  if (!/^\d+(\.\d+)?$/.test(text)) throw new UsageError(`--${name} wants a number, got "${text}"`);
  return Number(text);
}

function agentConnection(args: ParsedArgs): Connection {
  return connect(resolveTarget(flag(args, "agent") ?? env.agent, lxcpathOf(args), env.token));
}

/** The container NAME, checked before any agent is reached, and the connection. */
function withName(args: ParsedArgs, command: string): [Connection, string] {
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
        unprivileged: has(args, "unprivileged") || undefined,
      };
      if (flag(args, "agent") ?? env.agent) return remote.create(agentConnection(args), req);
      return (await import("./local.ts")).createLocal(lxcpathOf(args), req);
    }
    case "run": {
      const configFile = flag(args, "config");
      const { runForeground } = await import("./local.ts");
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
      return agentCommand(args);
    case "remote":
      return remoteCommand(args);
    case "ls":
      if (has(args, "json") && has(args, "names")) throw new UsageError("ls takes --json or --names, not both");
      return remote.ls(agentConnection(args), has(args, "json") ? "json" : has(args, "names") ? "names" : "table");
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
    case "restart-policy": {
      const [conn, name] = withName(args, command);
      const policy = args.positionals[1];
      if (policy === undefined) throw new UsageError("restart-policy needs a POLICY: never, on-failure or always");
      return remote.restartPolicy(conn, name, policy, numberFlag(args, "max"), numberFlag(args, "backoff"));
    }
    case "events":
      return remote.events(agentConnection(args), has(args, "json"), flag(args, "since"), flag(args, "name"));
    case "console":
      return remote.consoleAttach(...withName(args, command));
    case "completion": {
      if (args.positionals[0] !== "bash") throw new UsageError("completion takes one shell: bash");
      process.stdout.write((await import("./completion.ts")).bashCompletion());
      return 0;
    }
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

/** `corral agent`: run it, or print its fingerprint, or manage the client certificates it trusts. */
async function agentCommand(args: ParsedArgs): Promise<number> {
  const local = await import("./local.ts");
  const tls = { cert: flag(args, "tls-cert"), key: flag(args, "tls-key") };
  const [sub, action, operand] = args.positionals;
  if (sub === "trust") return local.agentTrust(lxcpathOf(args), action, operand, flag(args, "name"));
  if (sub !== undefined) throw new UsageError(`agent takes "trust add|list|remove", not "${sub}"`);
  if (has(args, "fingerprint")) return local.printFingerprint(lxcpathOf(args), tls);
  return local.runAgent(lxcpathOf(args), flag(args, "listen") ?? DEFAULT_LISTEN, { ...tls, force: has(args, "tls"), plainHttp: has(args, "insecure-plain-http") });
}

/** `corral remote add|list|remove`. */
async function remoteCommand(args: ParsedArgs): Promise<number> {
  const [action, name, url] = args.positionals;
  const admin = await import("./remote-admin.ts");
  switch (action) {
    case "add":
      if (name === undefined || url === undefined) throw new UsageError("remote add needs a NAME and a URL");
      return admin.addRemote(name, url, { token: flag(args, "token"), acceptCertificate: has(args, "accept-certificate") });
    case "list":
      if (name !== undefined) throw new UsageError(`unexpected argument "${name}"`);
      if (has(args, "json") && has(args, "names")) throw new UsageError("remote list takes --json or --names, not both");
      return admin.listRemotes(has(args, "json") ? "json" : has(args, "names") ? "names" : "table");
    case "remove":
      if (name === undefined || url !== undefined) throw new UsageError("remote remove takes one NAME");
      return admin.removeRemote(name);
    default:
      throw new UsageError(`remote takes add, list or remove${action === undefined ? "" : `, not "${action}"`}`);
  }
}

// A reader that went away (`corral events | head`): stop quietly, as a Unix tool killed by
// SIGPIPE does (Node ignores SIGPIPE, so the next write fails with EPIPE instead).
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(0);
  throw e;
});

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`corral: ${e instanceof Error ? e.message : String(e)}\n`);
    if (isUsageError(e)) process.stderr.write(`${USAGE}\n`);
    process.exit(isUsageError(e) ? 2 : 1);
  },
);

/**
 * --config FILE: its text, with relative lxc.include paths anchored at FILE's directory, where
 * they point, since the text is stored as <lxcpath>/NAME/config (and may go to an agent elsewhere).
 */
function readConfigArgument(file: string): string {
  return anchorIncludes(readFileSync(file, "utf8"), dirname(resolve(file)));
}
