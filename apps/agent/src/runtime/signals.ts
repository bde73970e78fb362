// What the runtime reads about signals and exits. Runs on the host.
import { parseSignalMasks, type SignalMasks } from "@corral/core";
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
