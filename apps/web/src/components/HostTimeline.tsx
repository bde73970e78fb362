"use client";
// The host-wide timeline: one lane per container of every agent, on a shared time axis. Its text
// alternative is the selected lane's events as a table (pick a lane in the list, or click it on
// the canvas). The filter, the lane and the time range live in the URL (lib/view-url.ts).
import { useEffect, useMemo, useRef, useState } from "react";
import { STATE_NAMES, type StateEvent } from "@corral/core";
import { useDashboard } from "@/client/hooks";
import { STATE_COLOR } from "@/lib/states";
import { plural, refText, replaceQuery, timelineQuery, type TimelineViewState } from "@/lib/view-url";
import { EventDetail, EventTable } from "./EventViews";
import { HostGraphs } from "./HostGraphs";
import { TimelineCanvas, type Lane } from "./TimelineCanvas";

/**
 * What the browser holds of an agent's events, short enough for an attribute: count, first and last
 * seq, and the sum of the seqs. Tests compare it with the agent's own events.list to see that no
 * event is missing or doubled.
 */
function seqDigest(events: readonly StateEvent[]): string {
  let sum = 0;
  for (const e of events) sum += e.seq;
  return `${events.length}:${events[0]?.seq ?? 0}:${events.at(-1)?.seq ?? 0}:${sum}`;
}

export function HostTimeline({ initial }: { initial: TimelineViewState }) {
  const store = useDashboard();
  const [view, setView] = useState<TimelineViewState>(initial);
  const update = (change: Partial<TimelineViewState>) => setView((v) => ({ ...v, ...change }));
  const { filter } = view;
  const [picked, setPicked] = useState<{ lane: Lane; e: StateEvent } | null>(null);
  useEffect(() => replaceQuery(timelineQuery(view)), [view]);
  const box = useRef<HTMLDivElement>(null);
  const [height, setHeight] = useState(500);

  useEffect(() => {
    const fit = () => box.current && setHeight(Math.max(240, window.innerHeight - box.current.getBoundingClientRect().top - 24));
    fit();
    window.addEventListener("resize", fit);
    return () => window.removeEventListener("resize", fit);
  }, []);

  const laneKey = store.agents.map((a) => `${a.name}:${a.status.up}:${[...a.byContainer.keys()].join(",")}:${a.containers.map((c) => c.name).join(",")}`).join("|");
  const lanes = useMemo<Lane[]>(() => {
    const out: Lane[] = [];
    const multi = store.agents.length > 1;
    for (const a of store.agents) {
      const names = new Set([...a.containers.map((c) => c.name), ...a.byContainer.keys()]);
      for (const n of [...names].sort()) {
        if (filter && !n.toLowerCase().includes(filter.toLowerCase())) continue;
        out.push({ id: `${a.name}/${n}`, agent: a.name, container: n, label: multi ? `${a.name} / ${n}` : n, greyed: !a.status.up });
      }
    }
    return out;
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [laneKey, filter]);

  const agentKey = store.agents.map((a) => a.name).join("\n");
  const agentNames = useMemo(() => agentKey.split("\n").filter(Boolean), [agentKey]);
  const total = store.agents.reduce((s, a) => s + a.events.length, 0);
  const lastSeqs = store.agents.map((a) => `${a.name}:${a.lastSeq}`).join(",");
  const seqs = store.agents.map((a) => `${a.name}:${seqDigest(a.events)}`).join(",");
  const live = store.agents.every((a) => a.stream === "live");
  // the lane whose events the table lists: the one chosen, else the first shown
  const chosen = view.lane && refText(view.lane);
  const lane = lanes.find((l) => l.id === chosen) ?? lanes[0];
  const laneEvents = lane ? store.agent(lane.agent)?.byContainer.get(lane.container) ?? [] : [];

  return (
    <div className="page-timeline">
      <div className="page-head">
        <h1>Timeline</h1>
        <span className="muted" data-testid="timeline-stats" data-event-count={total} data-last-seq={lastSeqs} data-seqs={seqs} data-lanes={lanes.length}>
          {plural(lanes.length, "container")} · {plural(total, "event")}
        </span>
        <input className="input" placeholder="Filter lanes by name" aria-label="filter lanes by name" value={filter} onChange={(e) => update({ filter: e.target.value })} data-testid="lane-filter" />
        <div className="legend">
          {STATE_NAMES.map((s) => (
            <span key={s} className="legend-item" data-testid="legend-item">
              <span className="swatch" style={{ background: STATE_COLOR[s] }} />
              {s}
            </span>
          ))}
        </div>
      </div>
      {agentNames.length > 0 && <HostGraphs agents={agentNames} />}
      {picked && <EventDetail e={picked.e} title={picked.lane.label} onClose={() => setPicked(null)} />}
      <div ref={box} className="card">
        {lanes.length === 0 ? (
          <p className="muted pad">No containers yet.</p>
        ) : (
          <TimelineCanvas
            store={store}
            lanes={lanes}
            height={height}
            laneHeight={28}
            live={live}
            initialRange={initial.range}
            onRangeChange={(range) => update({ range })}
            onPick={(l, e) => {
              setPicked({ lane: l, e });
              update({ lane: { agent: l.agent, name: l.container } });
            }}
            testId="host-timeline"
            describedBy="lane-events-title"
            selectedLane={lane?.id}
          />
        )}
      </div>
      {lane && (
        <section className="lane-events" aria-labelledby="lane-events-title">
          <div className="page-head">
            <h2 id="lane-events-title">Events of the selected lane, in words</h2>
            <label className="inline-label">
              Lane
              <select
                className="input"
                value={lane.id}
                onChange={(e) => {
                  const l = lanes.find((x) => x.id === e.target.value);
                  if (l) update({ lane: { agent: l.agent, name: l.container } });
                }}
                data-testid="lane-select"
              >
                {lanes.map((l) => (
                  <option key={l.id} value={l.id}>{l.label}</option>
                ))}
              </select>
            </label>
          </div>
          <EventTable events={laneEvents} caption={`Events of ${lane.label}, newest first`} limit={200} testId="lane-events" rowTestId="lane-event-row" onPick={(e) => setPicked({ lane, e })} />
        </section>
      )}
    </div>
  );
}
