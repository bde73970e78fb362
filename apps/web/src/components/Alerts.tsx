"use client";
// The alerts in the top bar: a bell with the count not yet acknowledged (every agent's), which
// opens the list to read and acknowledge them and to turn browser notifications on; and the toasts
// of alerts that arrive while the page is open, in a live region (role=status) so that a screen
// reader says them too.
import { useEffect, useId, useRef, useState, useSyncExternalStore } from "react";
import { alertKindWords } from "@corral/core";
import { alertKey, alertsStore, type AgentAlert, type AlertsStore } from "@/client/alerts";
import { dateTime } from "@/lib/format";

function useAlerts(): AlertsStore {
  const store = alertsStore();
  useSyncExternalStore(store.subscribe, store.getVersion, () => 0);
  return store;
}

export function AlertBell() {
  const store = useAlerts();
  const [open, setOpen] = useState(false);
  const panelId = useId();
  const button = useRef<HTMLButtonElement>(null);
  const wrap = useRef<HTMLDivElement>(null);
  const count = store.unacknowledged();

  useEffect(() => {
    if (!open) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== "Escape") return;
      setOpen(false);
      button.current?.focus();
    };
    // a click elsewhere on the page closes the list, as a menu closes
    const onPointer = (e: PointerEvent) => {
      if (e.target instanceof Node && !wrap.current?.contains(e.target)) setOpen(false);
    };
    document.addEventListener("keydown", onKey);
    document.addEventListener("pointerdown", onPointer);
    return () => {
      document.removeEventListener("keydown", onKey);
      document.removeEventListener("pointerdown", onPointer);
    };
  }, [open]);

  return (
    <div className="bell-wrap" ref={wrap}>
      <button
        ref={button}
        type="button"
        className="bell"
        aria-expanded={open}
        aria-controls={panelId}
        aria-label={`Alerts: ${count} not acknowledged`}
        data-testid="alert-bell"
        onClick={() => setOpen((o) => !o)}
      >
        <span aria-hidden>🔔</span>
        <span className={`bell-count${count > 0 ? " some" : ""}`} data-testid="alert-count">{count}</span>
      </button>
      {open && <AlertPanel id={panelId} store={store} />}
    </div>
  );
}

function AlertPanel({ id, store }: { id: string; store: AlertsStore }) {
  const alerts = store.list();
  const [problem, setProblem] = useState<string>();
  const notifySupported = typeof Notification !== "undefined";
  return (
    <section id={id} className="alert-panel" aria-labelledby={`${id}-title`} data-testid="alert-panel">
      <div className="alert-panel-head">
        <h2 id={`${id}-title`}>Alerts</h2>
        <label className="check">
          <input
            type="checkbox"
            checked={store.notifications}
            disabled={!notifySupported}
            data-testid="alert-notify"
            onChange={(e) => void store.setNotifications(e.target.checked).then((on) => setProblem(e.target.checked && !on ? "The browser did not allow notifications." : undefined))}
          />
          Browser notifications
        </label>
      </div>
      {problem && <p className="notice warn" role="alert">{problem}</p>}
      {[...store.errors].map(([agent, message]) => <p key={agent} className="notice error">Alerts of “{agent}”: {message}</p>)}
      {alerts.length === 0 ? (
        <p className="muted pad">No alerts.</p>
      ) : (
        <ul className="alert-list">
          {alerts.map((a) => <AlertRow key={alertKey(a)} alert={a} store={store} onProblem={setProblem} />)}
        </ul>
      )}
    </section>
  );
}

function AlertRow({ alert, store, onProblem }: { alert: AgentAlert; store: AlertsStore; onProblem: (m: string) => void }) {
  const [busy, setBusy] = useState(false);
  const acked = alert.acknowledgedAt !== null;
  return (
    <li className={`alert-row ${alert.severity}${acked ? " acked" : ""}`} data-testid={`alert-${alert.agent}-${alert.id}`} data-kind={alert.kind}>
      <div className="alert-text">
        <span className={`tag ${alert.severity === "critical" ? "error" : "refused"}`}>{alertKindWords(alert.kind)}</span>
        <span className="alert-message">{alert.message}</span>
        <span className="muted small">{alert.agent} · {dateTime(alert.at)}{acked ? ` · acknowledged by ${alert.acknowledgedBy ?? "?"}` : ""}</span>
      </div>
      {!acked && (
        <button
          type="button"
          className="btn small"
          disabled={busy}
          data-testid="alert-ack"
          aria-label={`Acknowledge: ${alert.message}`}
          onClick={() => {
            setBusy(true);
            store.acknowledge(alert.agent, alert.id).catch((e: unknown) => onProblem(e instanceof Error ? e.message : String(e))).finally(() => setBusy(false));
          }}
        >
          Acknowledge
        </button>
      )}
    </li>
  );
}

/** The toasts: always in the page (an empty live region), so that each new one is announced. */
export function AlertToasts() {
  const store = useAlerts();
  return (
    <div className="toasts" role="status" aria-live="polite" aria-label="new alerts" data-testid="alert-toasts">
      {store.toasts.map((a) => (
        <div key={alertKey(a)} className={`toast ${a.severity}`} data-testid="alert-toast" data-kind={a.kind}>
          <div className="toast-text">
            <strong>{a.container}: {alertKindWords(a.kind)}</strong>
            <span>{a.message}</span>
          </div>
          <button type="button" className="btn ghost small" aria-label={`Dismiss: ${a.message}`} onClick={() => store.dismiss(alertKey(a))}>✕</button>
        </div>
      ))}
    </div>
  );
}
