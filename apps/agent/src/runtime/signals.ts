// What the runtime reads about signals and exits. Runs on the host.
import { readFileSync } from "node:fs";
import { decodeWaitStatus, signalName } from "@corral/core";

/**
 * Does `pid` have a handler for `signal`? (SigCgt in /proc/PID/status.) A PID namespace's init
 * never receives a signal it does not handle, so there is no point in waiting for it to act on one.
 */
export function catchesSignal(pid: number, signal: number): boolean {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const m = /^SigCgt:\s*([0-9a-f]+)$/m.exec(status);
    if (!m) return false;
    return ((BigInt(`0x${m[1]}`) >> BigInt(signal - 1)) & 1n) === 1n;
  } catch {
    return false;
  }
}

/** "exited with code 7", "killed by SIGKILL": the cause of an init's own end. */
export function exitWords(status: number): string {
  const d = decodeWaitStatus(status);
  if ("exited" in d) return `exited with code ${d.code}`;
  if ("signaled" in d) return `killed by ${signalName(d.signal)}`;
  return "ended";
}
