// The pieces every lxc.* key handler is made of: value parsers that throw a ConfigError naming
// the key, file and line, and the handlers for keys corral ignores or cannot honour.
import { parseCapability } from "./capabilities.ts";
import { ConfigError, type ParseContext, type Where } from "./lxc-config-context.ts";
import { parseSignal } from "./signals.ts";

export type Handler = (ctx: ParseContext, value: string, where: Where) => void;

// ---- value parsers ---------------------------------------------------------------------------

export function unsigned(value: string, where: Where): number {
  if (!/^\d{1,10}$/.test(value)) throw new ConfigError(where, `expected a non-negative integer, got ${JSON.stringify(value)}`);
  return Number(value);
}

export function integer(value: string, where: Where): number {
  if (!/^-?\d{1,10}$/.test(value)) throw new ConfigError(where, `expected an integer, got ${JSON.stringify(value)}`);
  return Number(value);
}

export function boolean01(value: string, where: Where): boolean {
  if (value === "0") return false;
  if (value === "1") return true;
  throw new ConfigError(where, `expected 0 or 1, got ${JSON.stringify(value)}`);
}

export function signal(value: string, where: Where): number {
  const n = parseSignal(value);
  if (n === undefined) throw new ConfigError(where, `${JSON.stringify(value)} is not a signal name or number`);
  return n;
}

/** Linux's PATH_MAX, counting the terminating NUL. */
const PATH_MAX = 4096;

/**
 * A path corral opens or enters as it is written (a rootfs, a log file, a seccomp profile, the
 * init's directory): it must be absolute, since relative to what would be the agent's guess.
 */
export function absolutePath(value: string, where: Where): string {
  if (!value.startsWith("/")) throw new ConfigError(where, `${JSON.stringify(value)} is not an absolute path (it must start with "/")`);
  if (value.length >= PATH_MAX || value.includes("\0")) throw new ConfigError(where, `${JSON.stringify(value.slice(0, 80))} is not a usable path (NUL, or ${PATH_MAX} bytes or more)`);
  return value;
}

export function capabilities(value: string, where: Where): string[] {
  return value.split(/\s+/).map((token) => {
    const name = parseCapability(token);
    if (name === undefined) throw new ConfigError(where, `${JSON.stringify(token)} is not a capability name (see capabilities(7), lower case, no "cap_")`);
    return name;
  });
}

export function appendUnique(list: string[], items: string[]): void {
  for (const item of items) if (!list.includes(item)) list.push(item);
}

// ---- ignored and unsupported keys ---------------------------------------------------------------

/** Ignored: doing nothing here leaves the container no less confined than the key asked. */
export function ignored(why: string): Handler {
  return (ctx, value, where) => {
    ctx.forget(where.key);
    if (value !== "") ctx.warn(where, `ignored: ${why}`);
  };
}

/** Unsupported: corral cannot provide what the key asks, so the container must not start. */
export function unsupported(why: string, isHarmless: (value: string) => boolean = () => false): Handler {
  return (ctx, value, where) => {
    ctx.forget(where.key);
    if (value !== "" && !isHarmless(value)) ctx.refuse(where, `not supported: ${why}`);
  };
}
