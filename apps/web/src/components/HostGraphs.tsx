"use client";
// The Timeline page's host summary: every agent's host-wide CPU and memory (the sum over its
// running containers), one line per agent, live (the agent's last 10 minutes, then each tick of
// its samples topic on the page's one stream) or over the last hour or day (metrics.range without
// a container: the host's stored minutes). Each graph's caption says the newest figures in words.
import { useEffect, useMemo, useState } from "react";
import type { Sample } from "@corral/core";
import { call, CallError } from "@/client/api";
import { expected } from "@/lib/errors";
import { useNow } from "@/client/hooks";
import { useMetrics } from "@/client/metrics";
import { alignHosts, bytes, formatValue, lastValue, mergeSeries, METRIC_SPANS, type MetricSpan } from "@/lib/metrics-series";
import { MetricChart } from "./MetricChart";

/** How often a span's stored part is loaded again (the live ticks fill in between). */
const RELOAD_MS = 60_000;

/** Each agent's stored host samples of the span, reloaded every minute; an agent that cannot answer has none. */
function useStoredHost(agents: readonly string[], spanMs: number): { stored: Map<string, Sample[]>; loadedAt: number } {
  const [state, setState] = useState<{ stored: Map<string, Sample[]>; loadedAt: number }>({ stored: new Map(), loadedAt: 0 });
  const key = agents.join("\n");
  useEffect(() => {
    let off = false;
    const load = async () => {
      const to = Date.now();
      const pairs = await Promise.all(key.split("\n").filter(Boolean).map(async (agent): Promise<[string, Sample[]]> => {
        try {
          return [agent, (await call(agent, "metrics.range", { from: to - spanMs, to: to + 1000 })).samples];
        } catch (e) {
          expected(e, [CallError], "loading a host's samples"); // unreachable: its line stays empty
          return [agent, []];
        }
      }));
      if (!off) setState({ stored: new Map(pairs), loadedAt: to });
    };
    void load();
    const timer = setInterval(() => void load(), RELOAD_MS);
    return () => {
      off = true;
      clearInterval(timer);
    };
  }, [key, spanMs]);
  return state;
}

export function HostGraphs({ agents }: { agents: readonly string[] }) {
  const [span, setSpan] = useState<MetricSpan>("live");
  const spanMs = METRIC_SPANS.find((s) => s.id === span)!.ms;
  const metrics = useMetrics(agents);
  const { stored, loadedAt } = useStoredHost(agents, spanMs);
  const now = useNow(2000);
  const from = now - spanMs;
  const series = useMemo(
    () => agents.map((a) => mergeSeries(stored.get(a) ?? [], metrics.host(a).filter((s) => s.t > loadedAt || span === "live"), from)),
    // metrics.version: the live ticks moved
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [agents, stored, loadedAt, span, from, metrics.version],
  );
  const cpuWords = agents.map((a, i) => `${a} ${formatValue(lastValue(series[i]!, "cpu"), "%")}`).join(", ");
  const memWords = agents.map((a, i) => {
    const m = lastValue(series[i]!, "mem");
    return `${a} ${m === null ? "-" : bytes(m)}`;
  }).join(", ");
  const points = series.reduce((n, s) => n + s.length, 0);
  const total = (field: "cpu" | "mem") => {
    const values = series.map((s) => lastValue(s, field)).filter((v) => v !== null);
    return values.length ? values.reduce((a, b) => a + b, 0) : null;
  };

  return (
    <section className="host-graphs card pad" aria-labelledby="host-graphs-title" data-testid="host-graphs" data-points={points}>
      <div className="metrics-head">
        <h2 id="host-graphs-title">Hosts: CPU and memory of their containers</h2>
        <div role="group" aria-label="time span of the host graphs" className="btn-group">
          {METRIC_SPANS.map((s) => (
            <button key={s.id} aria-pressed={span === s.id} className={`btn small ${span === s.id ? "on" : ""}`} onClick={() => setSpan(s.id)} data-testid={`host-span-${s.id}`}>
              {s.label}
            </button>
          ))}
        </div>
      </div>
      <div className="metric-grid">
        <MetricChart id="host-cpu" title="CPU" unit="%" labels={agents} data={alignHosts(series, "cpu")} from={from} to={now} marks={[]} last={total("cpu")} note={cpuWords} spanGaps />
        <MetricChart id="host-mem" title="Memory" unit="bytes" labels={agents} data={alignHosts(series, "mem")} from={from} to={now} marks={[]} last={total("mem")} note={memWords} spanGaps />
      </div>
    </section>
  );
}
