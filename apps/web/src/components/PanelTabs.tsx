"use client";
// The bodies of a container's tabs: its timeline (the canvas, and the same events as a table),
// its config and its audit log. The console is ConsoleView.
import { useEffect, useMemo, useState } from "react";
import type { StateEvent } from "@corral/core";
import type { DashboardStore } from "@/client/store";
import { call } from "@/client/api";
import type { AuditEntry, OutputOf } from "@/lib/procedures";
import { clock, dateTime } from "@/lib/format";
import type { TimeRange } from "@/lib/view-url";
import { EventDetail, EventTable, Steps } from "./EventViews";
import { TimelineCanvas, type Lane } from "./TimelineCanvas";

export function ContainerTimeline({
  store,
  agent,
  name,
  greyed,
  live,
  events,
  range,
  onRangeChange,
}: {
  store: DashboardStore;
  agent: string;
  name: string;
  greyed: boolean;
  live: boolean;
  events: StateEvent[];
  range?: TimeRange;
  onRangeChange?: (r: TimeRange) => void;
}) {
  const lanes = useMemo<Lane[]>(() => [{ id: `${agent}/${name}`, agent, container: name, label: name, greyed }], [agent, name, greyed]);
  const [picked, setPicked] = useState<StateEvent | null>(null);
  const lastRunning = [...events].reverse().find((e) => e.state === "RUNNING" && e.detail.phases);
  // show this container's recent history: from its first event, at least 20 s, at most an hour
  const [span] = useState(() => {
    const first = events[0]?.at;
    return first ? Math.min(3_600_000, Math.max(20_000, (Date.now() - first) * 1.15)) : 60_000;
  });
  return (
    <div className="ctimeline">
      <TimelineCanvas
        store={store}
        lanes={lanes}
        height={90}
        laneHeight={44}
        live={live}
        initialSpan={span}
        initialRange={range}
        onRangeChange={onRangeChange}
        onPick={(_, e) => setPicked(e)}
        testId="container-timeline"
        hint={false}
        describedBy="container-events-caption"
      />
      {picked && <EventDetail e={picked} onClose={() => setPicked(null)} />}
      {lastRunning && (
        <div className="phases">
          <span className="muted">Last start ({clock(lastRunning.at)}):</span> <Steps phases={lastRunning.detail.phases} />
        </div>
      )}
      <p id="container-events-caption" className="sr-only">The events of {name}, newest first, are in the table below the timeline.</p>
      <EventTable events={events} caption={`Events of ${name}, newest first`} onPick={setPicked} />
    </div>
  );
}

export function ConfigTab({ agent, name }: { agent: string; name: string }) {
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
      {/* focusable: it scrolls, and a keyboard must be able to scroll it */}
      <pre className="code" data-testid="config-text" tabIndex={0} aria-label={`config of ${name}`}>
        {detail.configText.split("\n").map((line, i) => (
          <div key={i} className="code-line">
            <span className="ln" aria-hidden>{i + 1}</span>
            {line}
          </div>
        ))}
      </pre>
    </div>
  );
}

export function AuditTab({ agent, name, version }: { agent: string; name: string; version: number }) {
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
      <caption className="sr-only">Audited actions on {name}, newest first</caption>
      <thead>
        <tr><th scope="col">Time</th><th scope="col">Who</th><th scope="col">What</th><th scope="col">Result</th><th scope="col">Detail</th></tr>
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
