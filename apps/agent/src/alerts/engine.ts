// The agent's alerts: the pure rules (core's AlertRules) fed every stored state event and every
// sample tick; each alert they raise is stored (store/alerts.ts), then handed to the live
// listeners (alerts.onAlert) and to the webhooks. A store that cannot be written loses the alert
// from the list, not from the log, the listeners or the webhooks.
import { AlertRules, type Alert, type AlertDraft, type MemoryRule, type SampleTick, type StateEvent } from "@corral/core";
import type { Logger } from "../log.ts";
import type { AlertLog } from "../store/alerts.ts";
import { isStorageError } from "../store/store.ts";
import type { Webhooks } from "./webhooks.ts";

export class AlertEngine {
  private readonly rules: AlertRules;
  private readonly listeners = new Set<(alert: Alert) => void>();

  constructor(
    private readonly alerts: AlertLog,
    private readonly webhooks: Webhooks | undefined,
    private readonly log: Logger,
    memory?: MemoryRule,
  ) {
    this.rules = new AlertRules(memory);
  }

  /** A state event, once stored. */
  onState(event: StateEvent): void {
    for (const draft of this.rules.onEvent(event)) this.raise(draft);
  }

  /** A tick of samples. */
  onTick(tick: SampleTick): void {
    for (const draft of this.rules.onTick(tick)) this.raise(draft);
  }

  /** Each alert as it is raised (and stored); returns the way to stop listening. */
  onAlert(listener: (alert: Alert) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  list(q: { unacknowledged?: boolean; limit?: number; before?: number }): { alerts: Alert[]; unacknowledged: number } {
    return { alerts: this.alerts.list(q), unacknowledged: this.alerts.unacknowledgedCount() };
  }

  /** The stored alerts after `id`, oldest first: what a subscriber back after a gap missed. */
  since(id: number, limit = 1000): Alert[] {
    return this.alerts.list({ after: id, limit }).reverse();
  }

  acknowledge(id: number, by: string): Alert | undefined {
    const alert = this.alerts.acknowledge(id, by);
    if (alert) this.log.info("alert acknowledged", { alert: id, by });
    return alert;
  }

  private raise(draft: AlertDraft): void {
    let alert: Alert;
    try {
      alert = this.alerts.add(draft);
    } catch (e) {
      if (!isStorageError(e)) throw e;
      this.log.error("an alert could not be stored", { kind: draft.kind, container: draft.container, error: e instanceof Error ? e.message : String(e) });
      alert = { ...draft, id: 0, acknowledgedAt: null, acknowledgedBy: null };
    }
    this.log.info("alert", { id: alert.id, kind: alert.kind, container: alert.container, message: alert.message });
    for (const listener of this.listeners) listener(alert);
    this.webhooks?.deliver(alert);
  }

  close(): void {
    this.webhooks?.close();
    this.listeners.clear();
  }
}
