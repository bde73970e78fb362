// Restart policies, kept by the agent beside each container's config (<lxcpath>/NAME/restart.json:
// LXC's tools read the config as it is) and carried out. After each stop, core's decideRestart
// says whether and when to start again; the decision goes into the STOPPED event itself
// (detail.restart, and detail.flapping with detail.restarts once it flaps), and the start comes
// after its backoff, caused by "restart policy". A start or a policy change from an operator
// cancels a pending restart and starts the count again.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import {
  decideRestart, DEFAULT_RESTART_POLICY, NO_HISTORY, stopOf,
  type EventCause, type RestartHistory, type RestartPolicy, type RestartStatus,
} from "@corral/core";
import { expected } from "./errors.ts";
import type { LxcPath } from "./containers/lxcpath.ts";
import { NotStored, Refusal, type StateChange } from "./runtime/runtime.ts";
import { StartError } from "./runtime/spawn.ts";

/** The actor of a start the policy makes. */
export const RESTART_ACTOR = "restart policy";

const POLICY_FILE = "restart.json";

export class RestartKeeper {
  private readonly history = new Map<string, RestartHistory & { flapping: boolean; gaveUp: boolean }>();
  private readonly pending = new Map<string, { timer: NodeJS.Timeout; at: number }>();

  constructor(
    private readonly lxcpath: LxcPath,
    /** starts a container again, with the command of its last run */
    private readonly start: (name: string, cause: EventCause) => Promise<unknown>,
  ) {}

  policyOf(name: string): RestartPolicy {
    const path = this.lxcpath.metaPath(name, POLICY_FILE);
    // most containers have none: asked on every stop and every summary, an ENOENT thrown each time
    // (its stack captured) cost more than the look
    if (!existsSync(path)) return DEFAULT_RESTART_POLICY;
    try {
      const saved = JSON.parse(readFileSync(path, "utf8")) as Partial<RestartPolicy>;
      return { ...DEFAULT_RESTART_POLICY, ...saved };
    } catch (e) {
      expected(e, ["ENOENT", SyntaxError], `reading ${name}'s restart policy`); // none set: never
      return DEFAULT_RESTART_POLICY;
    }
  }

  setPolicy(name: string, policy: RestartPolicy): void {
    writeFileSync(this.lxcpath.metaPath(name, POLICY_FILE), `${JSON.stringify(policy, null, 2)}\n`, { mode: 0o640 });
    this.operatorActed(name);
  }

  status(name: string): RestartStatus {
    const h = this.history.get(name);
    const next = this.pending.get(name);
    return { policy: this.policyOf(name).policy, restarts: h?.restarts ?? 0, flapping: h?.flapping ?? false, gaveUp: h?.gaveUp ?? false, ...(next ? { nextAt: next.at } : {}) };
  }

  /**
   * A change about to be stored. A STOPPED gets the policy's decision in its detail; what is
   * returned schedules the restart, to be called once the change is stored. A STARTING that an
   * operator asked for cancels a pending restart and the count.
   */
  onChange(change: StateChange, ranMs: number): (() => void) | undefined {
    const name = change.container;
    if (change.state === "STARTING" && change.cause.actor !== RESTART_ACTOR && change.detail.reboot !== true) this.operatorActed(name);
    if (change.state !== "STOPPED") return undefined;
    const stop = stopOf(change.detail);
    if (!stop) return undefined;
    const policy = this.policyOf(name);
    const now = Date.now();
    const d = decideRestart(policy, stop, stop.reason === "start-failed" ? 0 : ranMs, this.history.get(name) ?? NO_HISTORY, now);
    this.history.set(name, { ...d.history, flapping: d.flapping, gaveUp: d.gaveUp });
    if (policy.policy !== "never" || d.flapping) {
      change.detail.restart = { policy: policy.policy, restarts: d.history.restarts, ...(d.restart ? { delayMs: d.delayMs } : {}), ...(d.gaveUp ? { gaveUp: true } : {}) };
    }
    if (d.flapping) Object.assign(change.detail, { flapping: true, restarts: d.history.restarts });
    if (!d.restart) return undefined;
    const request = `${policy.policy}: restart ${d.history.restarts}${policy.policy === "on-failure" ? ` of ${policy.maxRestarts}` : ""}`;
    return () => this.schedule(name, d.delayMs, { actor: RESTART_ACTOR, request });
  }

  forget(name: string): void {
    this.cancel(name);
    this.history.delete(name);
  }

  close(): void {
    for (const name of [...this.pending.keys()]) this.cancel(name);
  }

  private schedule(name: string, delayMs: number, cause: EventCause): void {
    this.cancel(name);
    const timer = setTimeout(() => {
      this.pending.delete(name);
      this.start(name, cause).catch((e: unknown) => {
        // a failed start is recorded (and decided on) as any stop is; one already running or
        // deleted meanwhile is refused; anything else is said
        expected(e, [StartError, Refusal, NotStored], `restarting ${name}`);
      });
    }, delayMs);
    timer.unref();
    this.pending.set(name, { timer, at: Date.now() + delayMs });
  }

  private cancel(name: string): void {
    clearTimeout(this.pending.get(name)?.timer);
    this.pending.delete(name);
  }

  /** An operator started the container or changed its policy: no restart pending, the count from 0. */
  private operatorActed(name: string): void {
    this.cancel(name);
    const h = this.history.get(name);
    if (h) this.history.set(name, { ...h, restarts: 0, gaveUp: false });
  }
}
