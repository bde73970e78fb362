// The browser's alerts, from every agent: the newest of each agent's list, the count not yet
// acknowledged, the toasts of those that arrived while the page was open, and the optional browser
// notification. Fed by the event stream (client/store.ts hands over its "alert" and "alerts-live"
// items); read by the bell and the toasts through useSyncExternalStore. Browser only.
import type { AlertItem } from "@/lib/procedures";
import { alertKindWords } from "@corral/core";
import { call } from "./api";
import { Versioned } from "./versioned";

/** Alerts kept per agent in the bell's list. */
export const ALERTS_SHOWN = 50;
/** Toasts shown at once; older ones go first. */
export const MAX_TOASTS = 3;
/** How long a toast stays unless the operator closes it. */
export const TOAST_MS = 20_000;

const NOTIFY_KEY = "corral.alertNotifications";

export interface AgentAlert extends AlertItem {
  agent: string;
}

export const alertKey = (a: { agent: string; id: number }) => `${a.agent}:${a.id}`;

export class AlertsStore extends Versioned {
  /** per agent, newest first */
  private readonly byAgent = new Map<string, AgentAlert[]>();
  private readonly counts = new Map<string, number>();
  toasts: AgentAlert[] = [];
  /** why an agent's alerts could not be read, if they could not */
  errors = new Map<string, string>();
  notifications = false;
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();

  constructor() {
    super();
    this.notifications = readNotifyPref() && typeof Notification !== "undefined" && Notification.permission === "granted";
  }


  /** Every agent's alerts, newest first. */
  list(): AgentAlert[] {
    return [...this.byAgent.values()].flat().sort((a, b) => b.at - a.at || b.id - a.id);
  }

  unacknowledged(): number {
    let n = 0;
    for (const c of this.counts.values()) n += c;
    return n;
  }

  /** The agent's alert feed (re)started: its list is read again (what a gap missed is in it). */
  async reload(agent: string): Promise<void> {
    try {
      const page = await call(agent, "alerts.list", { limit: ALERTS_SHOWN });
      this.byAgent.set(agent, page.alerts.map((a) => ({ ...a, agent })));
      this.counts.set(agent, page.unacknowledged);
      this.errors.delete(agent);
    } catch (e) {
      this.errors.set(agent, (e as Error).message);
    }
    this.changed();
  }

  /** An alert raised just now. */
  arrived(agent: string, alert: AlertItem): void {
    const list = this.byAgent.get(agent) ?? [];
    if (alert.id !== 0 && list.some((a) => a.id === alert.id)) return; // the list read after it already had it
    const item = { ...alert, agent };
    this.byAgent.set(agent, [item, ...list].slice(0, ALERTS_SHOWN));
    if (alert.acknowledgedAt === null) this.counts.set(agent, (this.counts.get(agent) ?? 0) + 1);
    this.toast(item);
    if (this.notifications && typeof Notification !== "undefined" && Notification.permission === "granted") {
      new Notification(`corral: ${alert.container} ${alertKindWords(alert.kind)}`, { body: alert.message, tag: alertKey(item) });
    }
    this.changed();
  }

  private toast(item: AgentAlert): void {
    this.toasts = [...this.toasts, item].slice(-MAX_TOASTS);
    const key = alertKey(item);
    this.timers.set(key, setTimeout(() => this.dismiss(key), TOAST_MS));
  }

  dismiss(key: string): void {
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
    this.toasts = this.toasts.filter((t) => alertKey(t) !== key);
    this.changed();
  }

  /** Acknowledges one alert on its agent; throws the agent's refusal. */
  async acknowledge(agent: string, id: number): Promise<void> {
    const acked = await call(agent, "alerts.acknowledge", { id });
    const list = this.byAgent.get(agent) ?? [];
    const was = list.find((a) => a.id === id);
    this.byAgent.set(agent, list.map((a) => (a.id === id ? { ...acked, agent } : a)));
    if (!was || was.acknowledgedAt === null) this.counts.set(agent, Math.max(0, (this.counts.get(agent) ?? 0) - 1));
    this.dismiss(alertKey({ agent, id }));
  }

  /** Turns the browser notifications on (asking the browser's permission) or off; answers whether they are on. */
  async setNotifications(on: boolean): Promise<boolean> {
    if (on && typeof Notification !== "undefined") {
      const permission = Notification.permission === "granted" ? "granted" : await Notification.requestPermission();
      this.notifications = permission === "granted";
    } else {
      this.notifications = false;
    }
    writeNotifyPref(this.notifications);
    this.changed();
    return this.notifications;
  }
}

function readNotifyPref(): boolean {
  if (typeof window === "undefined") return false; // rendered on the server
  try {
    return window.localStorage.getItem(NOTIFY_KEY) === "on";
  } catch (e) {
    if (e instanceof DOMException) return false; // storage disabled
    throw e;
  }
}

function writeNotifyPref(on: boolean): void {
  try {
    window.localStorage.setItem(NOTIFY_KEY, on ? "on" : "off");
  } catch (e) {
    if (!(e instanceof DOMException)) throw e; // storage disabled or full: not remembered
  }
}

let singleton: AlertsStore | undefined;
export function alertsStore(): AlertsStore {
  singleton ??= new AlertsStore();
  return singleton;
}
