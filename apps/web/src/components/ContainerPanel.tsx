"use client";
// The right column: the selected container, its actions (enabled only where its state allows,
// refusals in words beside them), the stop countdown, and the tabs Timeline, Console, Config, Audit.
import dynamic from "next/dynamic";
import { useEffect, useMemo, useState } from "react";
import { actionRefusal, type Action, type ContainerSummary, type StateEvent } from "@corral/core";
import type { DashboardStore } from "@/client/store";
import { call, CallError } from "@/client/api";
import { useNow } from "@/client/hooks";
import type { AuditEntry, OutputOf } from "@/lib/procedures";
import { causeText, clock, dateTime, describeEvent, duration, exitText, uptime } from "@/lib/format";
import { PHASE_COLOR, PHASE_ORDER, STATE_COLOR } from "@/lib/states";
import { StateChip } from "./StateChip";
import { TimelineCanvas, type Lane } from "./TimelineCanvas";

const ConsoleView = dynamic(() => import("./ConsoleView").then((m) => m.ConsoleView), {
  ssr: false,
  loading: () => <div className="muted pad">Loading the console…</div>,
});

type Tab = "timeline" | "console" | "config" | "audit";

export function ContainerPanel({ store, agent, name, onDeleted }: { store: DashboardStore; agent: string; name: string; onDeleted: () => void }) {
  const view = store.agent(agent);
  const c = view?.containers.find((x) => x.name === name);
  const [tab, setTab] = useState<Tab>("timeline");
  const now = useNow(1000);

  if (!view || !c) {
    return (
      <section className="detail-pane empty-pane">
        <p className="muted">{view?.containersError ?? `No container "${name}" on ${agent}.`}</p>
      </section>
    );
  }
  const greyed = !view.status.up;
  const events = view.byContainer.get(name) ?? [];

  return (
    <section className={`detail-pane ${greyed ? "greyed" : ""}`} data-testid="detail" data-container={name}>
      <div className="detail-head">
        <div className="title">
          <StateChip state={c.state} greyed={greyed} testId="detail-state" />
          <h2 data-testid="detail-name">{name}</h2>
          <span className="muted">on {agent}</span>
        </div>
        <dl className="facts">
          <div><dt>Uptime</dt><dd>{uptime(c.startedAt, now, c.state)}</dd></div>
          <div><dt>PID</dt><dd data-testid="detail-pid">{c.pid ?? "-"}</dd></div>
          <div><dt>IP</dt><dd className="mono">{c.ips.join(", ") || "-"}</dd></div>
          <div><dt>Last exit</dt><dd>{c.lastExit ? `${exitText(c.lastExit.status, c.lastExit.code)} at ${clock(c.lastExit.at, false)}` : "-"}</dd></div>
          <div><dt>Command</dt><dd className="mono clip" title={c.command?.join(" ")}>{c.command?.join(" ") ?? "-"}</dd></div>
        </dl>
      </div>
      {greyed && <div className="notice warn">Agent “{agent}” is unreachable: this is the last known state, and actions wait until it is back.</div>}
      <Actions
        agent={agent}
        c={c}
        disabled={greyed}
        onDeleted={() => {
          store.forgetContainer(agent, name);
          onDeleted();
        }}
      />
      <Countdown store={store} agent={agent} c={c} />
      <StartFailure events={events} />
      <div className="tabs" role="tablist">
        {(["timeline", "console", "config", "audit"] as Tab[]).map((t) => (
          <button key={t} role="tab" aria-selected={tab === t} className={tab === t ? "active" : ""} onClick={() => setTab(t)} data-testid={`tab-${t}`}>
            {t[0]!.toUpperCase() + t.slice(1)}
          </button>
        ))}
      </div>
      <div className="tab-body">
        {tab === "timeline" && <ContainerTimeline store={store} agent={agent} name={name} greyed={greyed} live={view.stream === "live"} events={events} />}
        {tab === "console" && <ConsoleView key={`${agent}/${name}`} agent={agent} name={name} running={c.state !== "STOPPED"} />}
        {tab === "config" && <ConfigTab agent={agent} name={name} />}
        {tab === "audit" && <AuditTab agent={agent} name={name} version={events.length} />}
      </div>
    </section>
  );
}

const ACTION_LABEL: Partial<Record<Action, string>> = { start: "Start", stop: "Stop", abort: "Abort", reboot: "Reboot", freeze: "Freeze", unfreeze: "Unfreeze", delete: "Delete" };

function Actions({ agent, c, disabled, onDeleted }: { agent: string; c: ContainerSummary; disabled: boolean; onDeleted: () => void }) {
  const [busy, setBusy] = useState<Action | null>(null);
  const [error, setError] = useState<{ action: Action; message: string; refused: boolean } | null>(null);
  const [timeout, setTimeoutS] = useState(10);

  useEffect(() => setError(null), [c.name]);

  const run = async (action: Action) => {
    if (action === "delete" && !window.confirm(`Delete ${c.name} and its rootfs directory?`)) return;
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
    <div className="actions">
      {button("start", "primary")}
      <span className="stop-group">
        {button("stop", "warnb")}
        <label className="timeout" title="seconds from the halt signal to the kill">
          <input
            type="number"
            min={0}
            max={3600}
            value={timeout}
            onChange={(e) => setTimeoutS(Math.max(0, Math.min(3600, Number(e.target.value) || 0)))}
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
    </div>
  );
}

type StopDetail = { signal?: string; killAt?: number; timeoutMs?: number; note?: string };

/** A requested stop: the halt signal was sent at t; the kill comes at t + timeout, unless "kill now". */
function Countdown({ store, agent, c }: { store: DashboardStore; agent: string; c: ContainerSummary }) {
  const now = useNow(100);
  const [error, setError] = useState<string | null>(null);
  const last = store.lastEvent(agent, c.name);
  if (c.state !== "STOPPING" || !last || last.state !== "STOPPING") return null;
  const d = last.detail as StopDetail;
  if (d.killAt === undefined) return null;
  const total = Math.max(1, d.killAt - last.at);
  const left = Math.max(0, d.killAt - now);
  const frac = Math.min(1, (now - last.at) / total);
  return (
    <div className="countdown" data-testid="countdown">
      <div className="countdown-text">
        <strong>{d.signal ?? "Halt signal"}</strong> sent at {clock(last.at)} by {causeText(last)}.{" "}
        {left > 0 ? (
          <>
            Kill in <strong data-testid="countdown-left">{(left / 1000).toFixed(1)} s</strong>
          </>
        ) : (
          <>Killing…</>
        )}
        {d.note && <span className="muted"> · {d.note}</span>}
      </div>
      <div className="bar"><div style={{ width: `${frac * 100}%` }} /></div>
      <button
        className="btn danger small"
        data-testid="kill-now"
        onClick={() => void (async () => {
          setError(null);
          try {
            await call(agent, "containers.killNow", { name: c.name });
          } catch (e) {
            setError((e as Error).message);
          }
        })()}
      >
        Kill now
      </button>
      {error && <span className="action-error" data-testid="kill-now-error">{error}</span>}
    </div>
  );
}

/** The last start, if it failed: which step, and why. */
function StartFailure({ events }: { events: StateEvent[] }) {
  let i = events.length - 1;
  while (i >= 0 && events[i]!.state !== "STARTING") i--;
  if (i < 0) return null;
  const failed = events.slice(i).find((e) => e.state === "ABORTING" && e.detail.error);
  if (!failed?.detail.error) return null;
  const err = failed.detail.error;
  return (
    <div className="failure" data-testid="start-failure">
      <div>
        <strong>Start failed at step “{err.step}”</strong> at {clock(failed.at)}: {err.message}
        {err.syscall && <span className="muted"> ({err.syscall}{err.errno !== undefined ? `, errno ${err.errno}` : ""})</span>}
      </div>
      <Steps failedStep={err.step} />
    </div>
  );
}

function Steps({ failedStep, phases }: { failedStep?: string; phases?: { name: string; ms: number }[] }) {
  // a successful start lists the phases it timed; a failed one the usual steps, the failed one marked
  const names: string[] = phases ? phases.map((p) => p.name) : [...PHASE_ORDER];
  if (failedStep && !names.includes(failedStep)) names.push(failedStep);
  return (
    <ol className="steps">
      {names.map((n) => {
        const p = phases?.find((x) => x.name === n);
        const failed = n === failedStep;
        return (
          <li key={n} className={failed ? "failed" : p ? "done" : "idle"} data-testid={failed ? "failed-step" : undefined} data-step={n}>
            <span className="step-dot" style={p ? { background: PHASE_COLOR[n] ?? STATE_COLOR.STARTING } : undefined} />
            {n}
            {p && <span className="muted"> {duration(p.ms)}</span>}
            {failed && <span> ✕ failed</span>}
          </li>
        );
      })}
    </ol>
  );
}

function ContainerTimeline({ store, agent, name, greyed, live, events }: { store: DashboardStore; agent: string; name: string; greyed: boolean; live: boolean; events: StateEvent[] }) {
  const lanes = useMemo<Lane[]>(() => [{ id: `${agent}/${name}`, agent, container: name, label: name, greyed }], [agent, name, greyed]);
  const [picked, setPicked] = useState<StateEvent | null>(null);
  const lastRunning = [...events].reverse().find((e) => e.state === "RUNNING" && e.detail.phases);
  const shown = events.slice(-300).reverse();
  // show this container's recent history: from its first event, at least 20 s, at most an hour
  const [span] = useState(() => {
    const first = events[0]?.at;
    return first ? Math.min(3_600_000, Math.max(20_000, (Date.now() - first) * 1.15)) : 60_000;
  });
  return (
    <div className="ctimeline">
      <TimelineCanvas store={store} lanes={lanes} height={90} laneHeight={44} live={live} initialSpan={span} onPick={(_, e) => setPicked(e)} testId="container-timeline" hint={false} />
      {picked && <EventDetail e={picked} onClose={() => setPicked(null)} />}
      {lastRunning && (
        <div className="phases">
          <span className="muted">Last start ({clock(lastRunning.at)}):</span> <Steps phases={lastRunning.detail.phases} />
        </div>
      )}
      <table className="events" data-testid="event-list" data-count={events.length}>
        <thead>
          <tr><th>Time</th><th>State</th><th>What happened</th><th>Cause</th></tr>
        </thead>
        <tbody>
          {shown.map((e) => {
            const { summary, details } = describeEvent(e);
            return (
              <tr key={e.seq} data-testid="event-row" data-seq={e.seq} data-state={e.state} onClick={() => setPicked(e)}>
                <td className="mono nowrap">{clock(e.at)}</td>
                <td><StateChip state={e.state} testId="event-state" /></td>
                <td>
                  {summary}
                  {details.slice(1).map((d) => (
                    <div key={d} className="muted small">{d}</div>
                  ))}
                </td>
                <td className="nowrap">{causeText(e)}</td>
              </tr>
            );
          })}
          {events.length === 0 && (
            <tr><td colSpan={4} className="muted empty">Nothing has happened to this container yet.</td></tr>
          )}
        </tbody>
      </table>
      {events.length > shown.length && <p className="muted small">Showing the last {shown.length} of {events.length} events.</p>}
    </div>
  );
}

export function EventDetail({ e, onClose, title }: { e: StateEvent; onClose: () => void; title?: string }) {
  const { summary, details } = describeEvent(e);
  return (
    <div className="event-detail" data-testid="event-detail">
      <div className="tooltip-head">
        <StateChip state={e.state} testId="event-detail-state" />
        {title && <strong>{title}</strong>}
        <span className="muted">{dateTime(e.at)} · #{e.seq}</span>
        <button className="link" onClick={onClose} aria-label="close">✕</button>
      </div>
      <div>{summary}</div>
      {details.map((d) => (
        <div key={d} className="muted small">{d}</div>
      ))}
    </div>
  );
}

function ConfigTab({ agent, name }: { agent: string; name: string }) {
  const [detail, setDetail] = useState<OutputOf<"containers.get"> | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let off = false;
    call(agent, "containers.get", { name }).then(
      (d) => !off && setDetail(d),
      (e: unknown) => !off && setError((e as Error).message),
    );
    return () => {
      off = true;
    };
  }, [agent, name]);
  if (error) return <div className="notice error">{error}</div>;
  if (!detail) return <div className="muted pad">Loading…</div>;
  return (
    <div className="config-tab">
      <dl className="facts wide">
        <div><dt>Config file</dt><dd className="mono">{detail.configPath}</dd></div>
        <div><dt>Rootfs</dt><dd className="mono">{detail.rootfs}</dd></div>
        <div><dt>Hostname</dt><dd className="mono">{detail.hostname}</dd></div>
        <div><dt>Autostart</dt><dd>{detail.autostart ? "yes" : "no"}</dd></div>
      </dl>
      {detail.warnings.length > 0 && (
        <div className="notice warn">
          {detail.warnings.map((w) => (
            <div key={w}>{w}</div>
          ))}
        </div>
      )}
      <pre className="code" data-testid="config-text">
        {detail.configText.split("\n").map((line, i) => (
          <div key={i} className="code-line">
            <span className="ln">{i + 1}</span>
            {line}
          </div>
        ))}
      </pre>
    </div>
  );
}

function AuditTab({ agent, name, version }: { agent: string; name: string; version: number }) {
  const [rows, setRows] = useState<AuditEntry[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let off = false;
    call(agent, "audit.list", { name, limit: 200 }).then(
      (r) => {
        if (off) return;
        setRows(r);
        setError(null);
      },
      (e: unknown) => !off && setError((e as Error).message),
    );
    return () => {
      off = true;
    };
  }, [agent, name, version]);
  if (error) return <div className="notice error">{error}</div>;
  if (!rows) return <div className="muted pad">Loading…</div>;
  return (
    <table className="events" data-testid="audit-list">
      <thead>
        <tr><th>Time</th><th>Who</th><th>What</th><th>Result</th><th>Detail</th></tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.id} data-testid="audit-row">
            <td className="mono nowrap">{dateTime(r.at)}</td>
            <td className="nowrap">{r.actor}<div className="muted small">{r.address}</div></td>
            <td className="mono">{r.action}</td>
            <td><span className={`tag ${r.result}`}>{r.result}</span></td>
            <td className="small clip-2" title={r.detail ?? ""}>{r.detail}</td>
          </tr>
        ))}
        {rows.length === 0 && <tr><td colSpan={5} className="muted empty">No audited action on this container yet.</td></tr>}
      </tbody>
    </table>
  );
}
