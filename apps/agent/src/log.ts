// The agent's log: JSON lines on stdout, one per record.
export interface Logger {
  info(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/** JSON lines on stdout, one per log record. */
export const jsonLogger: Logger = {
  info: (msg, fields) => process.stdout.write(`${JSON.stringify({ at: new Date().toISOString(), level: "info", msg, ...fields })}\n`),
  error: (msg, fields) => process.stdout.write(`${JSON.stringify({ at: new Date().toISOString(), level: "error", msg, ...fields })}\n`),
};
