// What this browser remembers across reloads that is not part of a shareable view: the stop
// timeout last chosen (a shared link should not change someone else's). Browser only.
import { parseStopTimeout } from "@/lib/view-url";

const STOP_TIMEOUT_KEY = "corral.stopTimeout";
export const DEFAULT_STOP_TIMEOUT = 10;

export function storedStopTimeout(): number {
  try {
    return parseStopTimeout(window.localStorage.getItem(STOP_TIMEOUT_KEY)) ?? DEFAULT_STOP_TIMEOUT;
  } catch (e) {
    if (e instanceof DOMException) return DEFAULT_STOP_TIMEOUT; // storage disabled
    throw e;
  }
}

export function storeStopTimeout(seconds: number): void {
  try {
    window.localStorage.setItem(STOP_TIMEOUT_KEY, String(seconds));
  } catch (e) {
    if (!(e instanceof DOMException)) throw e; // storage disabled or full: not remembered
  }
}
