"use client";
// The browser's live resource samples: an agent's samples topic on the page's one live stream
// (client/live.ts), subscribed when a component first asks for that agent's samples, keeping each
// container's last 5 minutes (the sparklines, the live graph's newest points) and the host's.
// Graphs of longer spans load metrics.range and add these ticks to it.
import { useEffect, useSyncExternalStore } from "react";
import type { Sample, SampleTick } from "@corral/core";
import { keepLast } from "@/lib/metrics-series";
import { samplesTopic, type LiveMessage } from "@/lib/live-wire";
import { liveConnection } from "./live";
import { Versioned } from "./versioned";

/** 5 minutes at 2 s. */
const KEEP = 150;
const KEEP_MS = 5 * 60_000;
/** No samples: one array, so that a memoised list row without samples sees the same props each render. */
const NONE: Sample[] = [];

interface AgentSamples {
  containers: Map<string, Sample[]>;
  host: Sample[];
  lastTick: number;
  live: boolean;
  message?: string;
  stop: () => void;
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
        this.agents.get(agent)?.stop();
        this.agents.delete(agent);
      }, 5000);
    };
  }

  private open(agent: string): void {
    const view: AgentSamples = { containers: new Map(), host: [], lastTick: 0, live: false, stop: () => undefined };
    this.agents.set(agent, view);
    view.stop = liveConnection().subscribe(samplesTopic(agent), {
      // the ticks after the last one held; the first time, the agent's window of the last 5 minutes
      cursor: () => String(view.lastTick || Date.now() - KEEP_MS),
      onMessage: (m) => this.onLive(view, m),
      onDisconnected: (message) => {
        view.live = false;
        view.message = message;
        this.changed();
      },
    });
  }

  private onLive(view: AgentSamples, m: LiveMessage): void {
    if (m.type === "status") {
      view.live = m.live;
      view.message = m.message;
      this.changed();
    }
    if (m.type === "tick") this.onTick(view, m.tick);
  }

  private onTick(view: AgentSamples, tick: SampleTick): void {
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
  }

  container(agent: string, name: string): Sample[] {
    return this.agents.get(agent)?.containers.get(name) ?? NONE;
  }

  host(agent: string): Sample[] {
    return this.agents.get(agent)?.host ?? NONE;
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
