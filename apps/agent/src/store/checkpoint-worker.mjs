// @ts-check
// The store's checkpointer thread (store/checkpointer.ts starts it): its own connection to the
// store, copying the WAL's pages into the database every interval with PASSIVE checkpoints, which
// never wait for the agent's writes nor make them wait. A checkpoint that fails (a full disk) is
// told to the agent and tried again at the next interval: the WAL keeps every page meanwhile. It
// stops when told to, closing its connection first. Plain JavaScript: a worker thread of Node 20 does not get the TypeScript
// loader the agent's sources run under in development and tests.
import Database from "better-sqlite3";
import { parentPort, workerData } from "node:worker_threads";

/** @type {{ path: string, intervalMs: number }} */
const { path, intervalMs } = workerData;
const port = /** @type {import("node:worker_threads").MessagePort} */ (parentPort);
// The agent made the file; a checkpointer never creates one.
const db = new Database(path, { fileMustExist: true });

// With nothing to copy, a checkpoint reads the WAL index and does no I/O.
function checkpoint() {
  try {
    db.pragma("wal_checkpoint(PASSIVE)");
  } catch (e) {
    const error = /** @type {Error & { code?: string }} */ (e);
    port.postMessage({ failed: error.message, code: error.code });
  }
}

const timer = setInterval(checkpoint, intervalMs);
port.on("message", (message) => {
  if (message !== "stop") return;
  clearInterval(timer);
  db.close();
  port.close();
});
