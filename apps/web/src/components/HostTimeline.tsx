"use client";
// The host-wide timeline: one lane per container of every agent, on a shared time axis.
import { useEffect, useMemo, useRef, useState } from "react";
import { STATE_NAMES, type StateEvent } from "@corral/core";
import { useDashboard } from "@/client/hooks";
import { STATE_COLOR } from "@/lib/states";
import { EventDetail } from "./ContainerPanel";
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

export function HostTimeline() {
  const store = useDashboard();
  const [filter, setFilter] = useState("");
  const [picked, setPicked] = useState<{ lane: Lane; e: StateEvent } | null>(null);
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

  const total = store.agents.reduce((s, a) => s + a.events.length, 0);
  const lastSeqs = store.agents.map((a) => `${a.name}:${a.lastSeq}`).join(",");
  const seqs = store.agents.map((a) => `${a.name}:${seqDigest(a.events)}`).join(",");
  const live = store.agents.every((a) => a.stream === "live");

  return (
    <div className="page-timeline">
      <div className="page-head">
        <h1>Timeline</h1>
        <span className="muted" data-testid="timeline-stats" data-event-count={total} data-last-seq={lastSeqs} data-seqs={seqs} data-lanes={lanes.length}>
          {lanes.length} containers · {total.toLocaleString("en")} events
        </span>
        <input className="input" placeholder="Filter lanes by name" value={filter} onChange={(e) => setFilter(e.target.value)} data-testid="lane-filter" />
        <div className="legend">
          {STATE_NAMES.map((s) => (
            <span key={s} className="legend-item">
              <span className="swatch" style={{ background: STATE_COLOR[s] }} />
              {s}
            </span>
          ))}
        </div>
      </div>
      {picked && <EventDetail e={picked.e} title={picked.lane.label} onClose={() => setPicked(null)} />}
      <div ref={box} className="card">
        {lanes.length === 0 ? (
          <p className="muted pad">No containers yet.</p>
        ) : (
          <TimelineCanvas store={store} lanes={lanes} height={height} laneHeight={28} live={live} onPick={(lane, e) => setPicked({ lane, e })} testId="host-timeline" />
        )}
      </div>
    </div>
  );
}
