// How a catch in the dashboard says what it expected: an error of a named class (a TypeError from
// a fetch the network refused, a SyntaxError from a body that is not JSON) goes quietly; any
// other is logged (the browser's console, or the dashboard server's log) before the catch goes on.
type ErrorClass = abstract new (...args: never[]) => Error;

export function expected(e: unknown, named: readonly ErrorClass[], where: string): void {
  if (named.some((n) => e instanceof n)) return;
  console.warn(`unexpected error ${where}:`, e);
}
