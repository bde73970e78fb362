// How a catch says what it expected. Where an error is part of how things go (a process that
// exited before our signal: ESRCH; a file that is not there: ENOENT; a config that does not
// parse) the catch names it and goes on; any other error is logged as unexpected before the
// catch goes on with its fallback, so that nothing is swallowed unseen.
import type { Logger } from "./log.ts";

/** An error named by its code (a Node or syscall errno name, an SQLite code) or by its class. */
export type NamedError = string | (abstract new (...args: never[]) => Error);

/** The code of a Node, syscall or SQLite error ("ENOENT", "SQLITE_CORRUPT"), if it has one. */
export function errorCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null | undefined)?.code;
  return typeof code === "string" ? code : undefined;
}

export function isNamed(e: unknown, named: readonly NamedError[]): boolean {
  const code = errorCode(e);
  return named.some((n) => (typeof n === "string" ? code === n : e instanceof n));
}

/** Goes on quietly for one of the named errors; logs any other as unexpected `where`. */
export function expected(e: unknown, named: readonly NamedError[], where: string): void {
  if (!isNamed(e, named)) unexpected(where, e);
}

const stderrLogger: Logger = {
  info: (msg, fields) => process.stderr.write(`${JSON.stringify({ at: new Date().toISOString(), level: "info", msg, ...fields })}\n`),
  error: (msg, fields) => process.stderr.write(`${JSON.stringify({ at: new Date().toISOString(), level: "error", msg, ...fields })}\n`),
};
let log: Logger = stderrLogger;

/** Where unexpected errors are logged: the agent's own log once it runs; stderr until then. */
export function logUnexpectedTo(logger: Logger): void {
  log = logger;
}

/** An error nobody named: logged with where it happened; the caller goes on with its fallback. */
export function unexpected(where: string, e: unknown): void {
  log.error(`unexpected error ${where}`, { error: e instanceof Error ? e.message : String(e), ...(errorCode(e) ? { code: errorCode(e) } : {}) });
}
