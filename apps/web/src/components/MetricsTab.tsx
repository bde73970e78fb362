"use client";
// The Metrics tab: a container's CPU, memory against its limit, disk I/O, network and processes,
// live (the agent's last 10 minutes, then each tick) or over the last hour or day (the store's
// minutes), with its state changes drawn on the same time axis. The figures are also in words
// (each graph's caption), and the spans are toggle buttons.
import { useEffect, useMemo, useState } from "react";
import type { Sample, StateEvent } from "@corral/core";
import { call } from "@/client/api";
import { useNow } from "@/client/hooks";
import { useMetrics } from "@/client/metrics";
import { columns, GRAPHS, lastValue, memoryText, mergeSeries, METRIC_SPANS, NOT_MEASURED, stateMarks, type MetricSpan } from "@/lib/metrics-series";
import { MetricChart } from "./MetricChart";

/** How often a span's stored part is loaded again (the live ticks fill in between). */
const RELOAD_MS = 60_000;

export function MetricsTab({ agent, name, events, running }: { agent: string; name: string; events: StateEvent[]; running: boolean }) {
  const [span, setSpan] = useState<MetricSpan>("live");
  const spanMs = METRIC_SPANS.find((s) => s.id === span)!.ms;
  const [stored, setStored] = useState<Sample[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [loadedAt, setLoadedAt] = useState(0);
  const metrics = useMetrics([agent]);
  const live = metrics.container(agent, name);
  const now = useNow(2000);

  useEffect(() => {
    let off = false;
    const load = () => {
      const to = Date.now();
      call(agent, "metrics.range", { container: name, from: to - spanMs, to: to + 1000 }).then(
        (r) => {
          if (off) return;
          setStored(r.samples);
          setError(null);
          setLoadedAt(to);
        },
        (e: unknown) => !off && setError((e as Error).message),
      );
    };
    load();
    const timer = setInterval(load, RELOAD_MS);
    return () => {
      off = true;
      clearInterval(timer);
    };
  }, [agent, name, spanMs]);

  const from = now - spanMs;
  // the 1-minute points of a long span, and the live ticks after the last load
  const samples = useMemo(() => mergeSeries(stored, live.filter((s) => s.t > loadedAt || span === "live"), from), [stored, live, loadedAt, span, from]);
  const marks = useMemo(() => stateMarks(events, from, now), [events, from, now]);
  const newest = samples.at(-1);

  return (
    <div className="metrics-tab" data-testid="metrics-tab" data-span={span}>
      <div className="metrics-head">
        <div role="group" aria-label="time span of the graphs" className="btn-group">
          {METRIC_SPANS.map((s) => (
            <button
              key={s.id}
              aria-pressed={span === s.id}
              className={`btn small ${span === s.id ? "on" : ""}`}
              onClick={() => setSpan(s.id)}
              data-testid={`metrics-span-${s.id}`}
            >
              {s.label}
            </button>
          ))}
        </div>
        <span className="muted small">
          {running ? "sampled every 2 s" : "not running: no new samples"}
          {" · "}vertical lines: state changes
        </span>
      </div>
      {error && <div className="notice error">{error}</div>}
      {samples.length === 0 && !error && <p className="muted pad" data-testid="metrics-empty">No samples in this span yet{running ? ": the first arrive within 4 s." : "."}</p>}
      <div className="metric-grid">
        {GRAPHS.map((g) => {
          const fields = g.series.map((s) => s.field);
          const last = lastValue(samples, fields[0]!);
          const note = g.id === "mem" ? memoryText(newest) : last === null && samples.length > 0 ? NOT_MEASURED[g.id] : undefined;
          return (
            <MetricChart
              key={g.id}
              id={g.id}
              title={g.title}
              unit={g.unit}
              labels={g.series.map((s) => s.label)}
              data={columns(samples, fields)}
              from={from}
              to={now}
              marks={marks}
              last={last}
              note={note}
            />
          );
        })}
      </div>
    </div>
  );
}
