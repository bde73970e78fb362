// A small argument parser for the corral command: flags (--x value, --x=value, boolean --x),
// positionals, and everything after "--" kept as the container's command.

export interface ParsedArgs {
  positionals: string[];
  flags: Map<string, string | true>;
  /** the words after "--" */
  rest: string[];
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/**
 * By name, not class: the commands in local.ts are bundled apart from main.ts's (bin/bundle.mjs),
 * each with a copy of this class.
 */
export function isUsageError(e: unknown): boolean {
  return e instanceof Error && e.name === "UsageError";
}

/** The options a command takes: those that stand alone, and those that take a value. */
export interface OptionSpec {
  booleans: readonly string[];
  values: readonly string[];
  /** how many positionals it takes at most */
  positionals: number;
}

/** Parse a command's words; an option it does not take, or a missing value, is a UsageError. */
export function parseArgs(argv: readonly string[], spec: OptionSpec): ParsedArgs {
  const out: ParsedArgs = { positionals: [], flags: new Map(), rest: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      out.rest = argv.slice(i + 1);
      break;
    }
    if (a.startsWith("--") && a.length > 2) {
      const eq = a.indexOf("=");
      const name = a.slice(2, eq > 0 ? eq : undefined);
      if (spec.booleans.includes(name)) {
        if (eq > 0) throw new UsageError(`--${name} takes no value`);
        out.flags.set(name, true);
      } else if (spec.values.includes(name)) {
        const value = eq > 0 ? a.slice(eq + 1) : argv[++i];
        if (value === undefined || (eq < 0 && value === "--")) throw new UsageError(`--${name} needs a value`);
        out.flags.set(name, value);
      } else {
        throw new UsageError(`unknown option --${name}`);
      }
    } else {
      if (out.positionals.length >= spec.positionals) throw new UsageError(`unexpected argument "${a}"`);
      out.positionals.push(a);
    }
  }
  return out;
}

export function flag(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags.get(name);
  return typeof v === "string" ? v : undefined;
}

export function has(args: ParsedArgs, name: string): boolean {
  return args.flags.has(name);
}
