// What the runtime reads about signals and exits. Runs on the host.
import { decodeWaitStatus, parseSignalMasks, signalName, type SignalMasks } from "@corral/core";
import type { HostFiles } from "../host/host.ts";
import { expected } from "../errors.ts";

/** The signal masks of `pid` (none at all when there is no such process). */
export function signalMasks(files: HostFiles, pid: number | undefined): SignalMasks {
  if (pid === undefined) return parseSignalMasks("");
  try {
    return parseSignalMasks(files.readText(`/proc/${pid}/status`));
  } catch (e) {
    expected(e, ["ENOENT", "ESRCH"], `reading the signal masks of ${pid}`);
    return parseSignalMasks("");
  }
}

/** "exited with code 7", "killed by SIGKILL": the cause of an init's own end. */
export function exitWords(status: number): string {
  const d = decodeWaitStatus(status);
  if ("exited" in d) return `exited with code ${d.code}`;
  if ("signaled" in d) return `killed by ${signalName(d.signal)}`;
  return "ended";
}
