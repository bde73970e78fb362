// The agent's log: JSON lines on stdout, one per record.
export interface Logger {
  info(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/**
 * Lines written in one turn of the event loop leave in one write: a burst of a thousand starts logs
 * four thousand state changes, and a write each cost the agent some 80 µs. A process that exits
 * writes what is pending first.
 */
let pending: string[] = [];

function flush(): void {
  if (pending.length === 0) return;
  const text = pending.join("");
  pending = [];
  process.stdout.write(text);
}

function line(level: "info" | "error", msg: string, fields?: Record<string, unknown>): void {
  if (pending.length === 0) process.nextTick(flush);
  pending.push(`${JSON.stringify({ at: new Date().toISOString(), level, msg, ...fields })}\n`);
}

process.on("exit", flush);

/** JSON lines on stdout, one per log record. */
export const jsonLogger: Logger = {
  info: (msg, fields) => line("info", msg, fields),
  error: (msg, fields) => line("error", msg, fields),
};
