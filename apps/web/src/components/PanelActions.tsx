"use client";
// A container's action buttons (enabled only where its state allows, refusals in words beside
// them; abort and delete ask first), and the countdown of a stop or a reboot in progress (the
// halt or reboot signal sent at t, the kill at t + timeout, "kill now", which asks first too).
import { useEffect, useState } from "react";
import { actionRefusal, type Action, type ContainerSummary } from "@corral/core";
import type { DashboardStore } from "@/client/store";
import { call, CallError } from "@/client/api";
import { useNow } from "@/client/hooks";
import { countdownOf } from "@/lib/countdown";
import { causeText, clock } from "@/lib/format";
import { DEFAULT_STOP_TIMEOUT, storedStopTimeout, storeStopTimeout } from "@/client/prefs";
import { parseStopTimeout } from "@/lib/view-url";
import { useConfirm } from "./ConfirmDialog";

const ACTION_LABEL: Record<Action, string> = { start: "Start", stop: "Stop", abort: "Abort", reboot: "Reboot", freeze: "Freeze", unfreeze: "Unfreeze", delete: "Delete" };

/** What asks before it acts, and what it says it will do. */
const CONSEQUENCE: Partial<Record<Action, string>> = {
  abort: "Every process of the container gets SIGKILL at once, with no chance to shut down cleanly.",
  delete: "The container's config and its rootfs directory are removed. This cannot be undone.",
};

export function Actions({ agent, c, disabled, onDeleted }: { agent: string; c: ContainerSummary; disabled: boolean; onDeleted: () => void }) {
  const [busy, setBusy] = useState<Action | null>(null);
  const [error, setError] = useState<{ action: Action; message: string; refused: boolean } | null>(null);
  const [timeout, setTimeoutS] = useState(DEFAULT_STOP_TIMEOUT);
  const [dialog, confirm] = useConfirm();

  useEffect(() => setError(null), [c.name]);
  // after hydration: the server does not know this browser's choice
  useEffect(() => setTimeoutS(storedStopTimeout()), []);
  const chooseTimeout = (text: string) => {
    const s = parseStopTimeout(text) ?? 0;
    setTimeoutS(s);
    storeStopTimeout(s);
  };

  const run = async (action: Action) => {
    const consequence = CONSEQUENCE[action];
    if (consequence && !(await confirm({ action: ACTION_LABEL[action], names: [c.name], consequence }))) return;
    setBusy(action);
    setError(null);
    try {
      const name = c.name;
      switch (action) {
        case "start": await call(agent, "containers.start", { name }); break;
        case "stop": await call(agent, "containers.stop", { name, timeout, wait: false }); break;
        case "abort": await call(agent, "containers.abort", { name }); break;
        case "reboot": await call(agent, "containers.reboot", { name }); break;
        case "freeze": await call(agent, "containers.freeze", { name }); break;
        case "unfreeze": await call(agent, "containers.unfreeze", { name }); break;
        case "delete": await call(agent, "containers.delete", { name }); onDeleted(); break;
      }
    } catch (e) {
      const code = e instanceof CallError ? e.code : "";
      setError({ action, message: (e as Error).message, refused: ["CONFLICT", "BAD_REQUEST", "NOT_FOUND", "PRECONDITION_FAILED", "FORBIDDEN"].includes(code) });
    } finally {
      setBusy(null);
    }
  };

  const button = (action: Action, cls = "") => {
    const refusal = actionRefusal(action, c.state);
    const allowed = c.actions.includes(action);
    return (
      <button
        key={action}
        className={`btn ${cls}`}
        disabled={disabled || !allowed || busy !== null}
        title={allowed ? undefined : refusal ?? undefined}
        onClick={() => void run(action)}
        data-testid={`action-${action}`}
      >
        {busy === action ? `${ACTION_LABEL[action]}…` : ACTION_LABEL[action]}
      </button>
    );
  };

  return (
    <div className="actions" role="group" aria-label={`actions on ${c.name}`}>
      {button("start", "primary")}
      <span className="stop-group">
        {button("stop", "warnb")}
        <label className="timeout" title="seconds from the halt signal to the kill">
          <input
            type="number"
            min={0}
            max={3600}
            value={timeout}
            onChange={(e) => chooseTimeout(e.target.value)}
            data-testid="stop-timeout"
            aria-label="stop timeout in seconds"
          />
          s
        </label>
      </span>
      {button("abort", "danger")}
      {button("reboot")}
      {c.state === "FROZEN" ? button("unfreeze") : button("freeze")}
      <span className="spacer" />
      {button("delete", "ghost")}
      {error && (
        <div className="action-error" role="alert" data-testid="action-error">
          <strong>{ACTION_LABEL[error.action]} {error.refused ? "refused" : "failed"}:</strong> {error.message}
        </div>
      )}
      {dialog}
    </div>
  );
}

export function Countdown({ store, agent, c }: { store: DashboardStore; agent: string; c: ContainerSummary }) {
  const now = useNow(100);
  const [error, setError] = useState<string | null>(null);
  const [dialog, confirm] = useConfirm();
  const last = store.lastEvent(agent, c.name);
  const cd = countdownOf(c.state, last, now);
  if (!cd || !last) return null;
  const killNow = async () => {
    const consequence = `Every process of the container gets SIGKILL now, without waiting for the ${cd.reboot ? "reboot" : "stop"} to end cleanly.`;
    if (!(await confirm({ action: "Kill now", names: [c.name], consequence }))) return;
    setError(null);
    try {
      await call(agent, "containers.killNow", { name: c.name });
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <div className="countdown" data-testid="countdown" data-kind={cd.reboot ? "reboot" : "stop"}>
      <div className="countdown-text">
        {cd.reboot && <strong>Reboot: </strong>}
        <strong>{cd.signal}</strong> sent at {clock(cd.at)} by {causeText(last)}.{" "}
        {cd.left > 0 ? (
          <>
            Kill in <strong data-testid="countdown-left">{(cd.left / 1000).toFixed(1)} s</strong>
            {cd.reboot && ", then it starts again"}
          </>
        ) : (
          <>Killing…</>
        )}
        {cd.note && <span className="muted"> · {cd.note}</span>}
      </div>
      <div className="bar" aria-hidden><div style={{ width: `${cd.fraction * 100}%` }} /></div>
      <button className="btn danger small" data-testid="kill-now" onClick={() => void killNow()}>
        Kill now
      </button>
      {error && <span className="action-error" data-testid="kill-now-error">{error}</span>}
      {dialog}
    </div>
  );
}
