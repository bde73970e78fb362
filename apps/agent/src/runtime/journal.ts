// lxc_set_state: every state change goes to a synchronous sink that stores it before anyone else
// hears of it. When the store cannot take a change (a full disk), what has happened still happens:
// the state moves on and the change waits, in order and with its own time, until the store can.
import { preciseNow, type EventCause, type EventDetail, type StateName } from "@corral/core";
import type { Instance } from "./instance.ts";

export interface StateChange {
  container: string;
  state: StateName;
  cause: EventCause;
  detail: EventDetail;
  /** when it happened (ms since the epoch), for a change the store could take only later */
  at?: number;
}

/**
 * Must persist the change before it returns: nothing is published that is not stored. It throws
 * when the store cannot take it (a full disk).
 */
export type StateSink = (change: StateChange) => void;

/** A request refused because the store cannot record its first change (a full disk): nothing changed. */
export class NotStored extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NotStored";
  }
}

/** How often changes the store could not take are offered to it again. */
const STORE_RETRY_MS = 1000;

export class StateJournal {
  /** Changes that happened while the store could not take them, oldest first. */
  private readonly unstored: StateChange[] = [];
  private retry: NodeJS.Timeout | undefined;
  private lastError = "";
  private flushing = false;

  constructor(private readonly sink: StateSink) {}

  /**
   * A change that has happened (a start went through, an init exited, a stop began): the state
   * moves on whatever the store says, so a storage error never leaves a container in a state
   * that only a restart clears; the change is stored, then published, as soon as the store can.
   */
  record(inst: Instance, state: StateName, cause: EventCause, detail: EventDetail = {}): void {
    inst.state = state;
    this.unstored.push({ container: inst.name, state, cause, detail, at: preciseNow() });
    this.flush();
  }

  /**
   * The first change of a request that adds work (a start, a freeze): stored first, or the
   * request is refused with NotStored and nothing changes.
   */
  request(inst: Instance, state: StateName, cause: EventCause, detail: EventDetail = {}): void {
    if (this.unstored.length > 0 && !this.flush()) throw new NotStored(`${inst.name}: the store cannot record changes (${this.lastError}); try again once it can`);
    try {
      this.sink({ container: inst.name, state, cause, detail });
    } catch (e) {
      throw new NotStored(`${inst.name}: ${state} could not be recorded (${(e as Error).message}); nothing was done`);
    }
    inst.state = state;
  }

  close(): void {
    clearTimeout(this.retry);
  }

  /**
   * Offer the waiting changes to the store, in order; true once none waits. Not reentrant: a
   * change recorded while the sink runs (a listener acting on the change it is told of) joins the
   * queue, and the loop already running stores it after the one in hand, never twice.
   */
  private flush(): boolean {
    if (this.flushing) return false;
    this.flushing = true;
    try {
      while (this.unstored.length > 0) {
        try {
          this.sink(this.unstored[0]!);
        } catch (e) {
          this.lastError = (e as Error).message;
          this.retry ??= setTimeout(() => {
            this.retry = undefined;
            this.flush();
          }, STORE_RETRY_MS);
          return false;
        }
        this.unstored.shift();
      }
      return true;
    } finally {
      this.flushing = false;
    }
  }
}
