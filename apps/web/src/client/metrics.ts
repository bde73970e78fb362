"use client";
// The browser's live resource samples: one EventSource per agent on /api/agents/:agent/metrics,
// opened when a component first asks for that agent's samples, keeping each container's last
// 5 minutes (the sparklines, the live graph's newest points) and the host's. Graphs of longer
// spans load metrics.range and add these ticks to it.
import { useEffect, useSyncExternalStore } from "react";
import type { Sample, SampleTick } from "@corral/core";
import { keepLast } from "@/lib/metrics-series";
import { Versioned } from "./versioned";

/** 5 minutes at 2 s. */
const KEEP = 150;
const KEEP_MS = 5 * 60_000;

interface AgentSamples {
  containers: Map<string, Sample[]>;
  host: Sample[];
  lastTick: number;
  live: boolean;
  message?: string;
  source: EventSource;
}

class MetricsStore extends Versioned {
  private readonly agents = new Map<string, AgentSamples>();
  private readonly users = new Map<string, number>();


  /** Samples of `agent` are wanted: open its stream (once), until the last user lets go. */
  use(agent: string): () => void {
    this.users.set(agent, (this.users.get(agent) ?? 0) + 1);
    if (!this.agents.has(agent)) this.open(agent);
    return () => {
      const n = (this.users.get(agent) ?? 1) - 1;
      this.users.set(agent, n);
      if (n > 0) return;
      // a tab switch unmounts and mounts again: close only if nobody came back meanwhile
      setTimeout(() => {
        if ((this.users.get(agent) ?? 0) > 0) return;
        this.agents.get(agent)?.source.close();
        this.agents.delete(agent);
      }, 5000);
    };
  }

  private open(agent: string): void {
    const source = new EventSource(`/api/agents/${encodeURIComponent(agent)}/metrics?since=${Date.now() - KEEP_MS}`);
    const view: AgentSamples = { containers: new Map(), host: [], lastTick: 0, live: false, source };
    this.agents.set(agent, view);
    source.addEventListener("status", (m) => {
      const s = JSON.parse((m as MessageEvent<string>).data) as { live: boolean; message?: string };
      view.live = s.live;
      view.message = s.message;
      this.changed();
    });
    source.addEventListener("tick", (m) => {
      const tick = JSON.parse((m as MessageEvent<string>).data) as SampleTick;
      if (tick.t <= view.lastTick) return;
      view.lastTick = tick.t;
      view.host = keepLast([...view.host, tick.host], KEEP);
      for (const [name, s] of Object.entries(tick.containers)) {
        view.containers.set(name, keepLast([...(view.containers.get(name) ?? []), s], KEEP));
      }
      // containers not in the tick have stopped: their points stay until they are older than KEEP_MS
      for (const [name, list] of view.containers) {
        if (!(name in tick.containers) && (list.at(-1)?.t ?? 0) < tick.t - KEEP_MS) view.containers.delete(name);
      }
      this.changed();
    });
  }

  container(agent: string, name: string): Sample[] {
    return this.agents.get(agent)?.containers.get(name) ?? [];
  }

  host(agent: string): Sample[] {
    return this.agents.get(agent)?.host ?? [];
  }

  status(agent: string): { live: boolean; message?: string } {
    const a = this.agents.get(agent);
    return { live: a?.live ?? false, message: a?.message };
  }
}

let store: MetricsStore | undefined;

function metricsStore(): MetricsStore {
  store ??= new MetricsStore();
  return store;
}

/** The live samples of these agents; the component re-renders with every tick. */
export function useMetrics(agents: readonly string[]): MetricsStore {
  const s = metricsStore();
  const key = agents.join("\n");
  useEffect(() => {
    const releases = key.split("\n").filter(Boolean).map((a) => s.use(a));
    return () => releases.forEach((r) => r());
  }, [s, key]);
  useSyncExternalStore(s.subscribe, s.getVersion, () => 0);
  return s;
}

export type { MetricsStore };
