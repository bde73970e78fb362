// GET /metrics: the agent's figures in Prometheus's text format, through prom-client (a kept
// client library, not hand formatting). Per container: its state, starts and start durations
// by phase (from the stored events), and for a running one its CPU seconds, memory (the cgroup's,
// its limit, its processes' resident memory), pids and OOM kills, read from its cgroups when
// scraped; for the agent: the events stored, the live subscribers, and prom-client's own process
// and Node.js figures.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { STATE_NAMES, type StateEvent, type StateName } from "@corral/core";
import type { Usage } from "./usage.ts";

export interface MetricsSource {
  /** every container with its state, and what a running one uses */
  containers(): Array<{ name: string; state: StateName; usage?: Usage }>;
  lastSeq(): number;
  subscribers(): number;
}

/** Start durations are milliseconds to a few hundred: buckets in seconds from 1 ms to 10 s. */
const START_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];

export class AgentMetrics {
  readonly registry = new Registry();
  private readonly starts: Counter<"container">;
  private readonly startSeconds: Histogram<"phase">;
  /** the containers as read for the scrape in hand: every per-container series comes from it */
  private snapshot: ReturnType<MetricsSource["containers"]> = [];

  constructor(private readonly source: MetricsSource) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: "corral_agent_" });
    // gauges prom-client names with a counter's suffix, which promtool rightly refuses
    for (const name of ["nodejs_active_handles_total", "nodejs_active_requests_total", "nodejs_active_resources_total"]) this.registry.removeSingleMetric(`corral_agent_${name}`);
    this.starts = new Counter({ name: "corral_container_starts_total", help: "Starts that reached RUNNING, since the agent started.", labelNames: ["container"], registers });
    this.startSeconds = new Histogram({ name: "corral_container_start_seconds", help: "Time from a start's first step to the init's exec, by phase (total: all of them).", labelNames: ["phase"], buckets: START_BUCKETS, registers });
    const scrape = () => this.snapshot;
    new Gauge({
      name: "corral_container_state", help: "1 for the state the container is in (LXC's state names).", labelNames: ["container", "state"], registers,
      collect() {
        this.reset();
        for (const c of scrape()) for (const s of STATE_NAMES) this.set({ container: c.name, state: s }, c.state === s ? 1 : 0);
      },
    });
    const perRunning = (name: string, help: string, value: (u: Usage) => number | undefined) => new Gauge({
      name, help, labelNames: ["container"], registers,
      collect() {
        this.reset();
        for (const c of scrape()) {
          const v = c.usage && value(c.usage);
          if (v !== undefined) this.set({ container: c.name }, v);
        }
      },
    });
    perRunning("corral_container_memory_bytes", "Memory the container's memory cgroup counts (page cache included); only for a container in a memory cgroup.", (u) => u.memBytes);
    perRunning("corral_container_memory_limit_bytes", "The container's memory limit; absent when it has none.", (u) => u.memLimit ?? undefined);
    perRunning("corral_container_memory_rss_bytes", "Resident memory of the container's processes, summed.", (u) => u.rssBytes);
    perRunning("corral_container_pids", "Processes in the container.", (u) => u.pids ?? u.procs);
    // Counters the kernel keeps: each scrape sets them to the kernel's figure for the current run.
    const kernelCounter = (name: string, help: string, value: (u: Usage) => number | undefined) => new Counter({
      name, help, labelNames: ["container"], registers,
      collect() {
        this.reset();
        for (const c of scrape()) {
          const v = c.usage && value(c.usage);
          if (v !== undefined) this.inc({ container: c.name }, v);
        }
      },
    });
    kernelCounter("corral_container_cpu_seconds_total", "CPU time the container's processes used in its current run.", (u) => u.cpuUsec === undefined ? undefined : u.cpuUsec / 1e6);
    kernelCounter("corral_container_oom_kills_total", "Processes the OOM killer killed in the container's cgroup in its current run.", (u) => u.oomKills);
    kernelCounter("corral_container_io_read_bytes_total", "Bytes the container read from block devices in its current run.", (u) => u.ioRead);
    kernelCounter("corral_container_io_write_bytes_total", "Bytes the container wrote to block devices in its current run.", (u) => u.ioWrite);
    kernelCounter("corral_container_network_receive_bytes_total", "Bytes the container received on its veths in its current run.", (u) => u.netRx);
    kernelCounter("corral_container_network_transmit_bytes_total", "Bytes the container sent on its veths in its current run.", (u) => u.netTx);
    new Counter({
      name: "corral_events_total", help: "State changes stored (the store's last sequence number).", registers,
      collect() {
        this.reset();
        this.inc(source.lastSeq());
      },
    });
    new Gauge({ name: "corral_event_subscribers", help: "Live subscribers of the event stream.", registers, collect() { this.set(source.subscribers()); } });
  }

  /** A stored state change: a RUNNING counts a start, with its phases. */
  onState(event: StateEvent): void {
    if (event.state !== "RUNNING" || !event.detail.phases) return;
    this.starts.inc({ container: event.container });
    let total = 0;
    for (const p of event.detail.phases) {
      this.startSeconds.observe({ phase: p.name }, p.ms / 1000);
      total += p.ms;
    }
    this.startSeconds.observe({ phase: "total" }, total / 1000);
  }

  /** The exposition text: the containers are read once, then every series is filled from that. */
  text(): Promise<string> {
    this.snapshot = this.source.containers();
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
