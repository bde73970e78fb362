// The long-lived agent: one Runtime for one lxcpath, the store that remembers every state change,
// and everything that hears of a change once it is stored: the live bus (WebSocket subscribers),
// LXC's monitor FIFO and the LXC command sockets' state clients.
import { hostname } from "node:os";
import { join } from "node:path";
import {
  allowedActions, API_VERSION, ConfigError, isUnprivileged, mapToHost, stopOf, type ContainerDetail, type RestartPolicy, type ContainerSummary, type EventCause,
  type StateEvent,
} from "@corral/core";
import { EventBus } from "./bus.ts";
import type { AgentService } from "./api/service.ts";
import { LxcBroadcast, runtimeCommandTarget } from "./lxc/broadcast.ts";
import { beginCreate, createContainer, deleteContainer, removeAbandonedCreates, type CreateRequest, type CreateResult } from "./containers/create.ts";
import { CreateJobs } from "./containers/create-jobs.ts";
import { ConfigFileRefused, ContainerNotFound, describeIssue, LxcPath } from "./containers/lxcpath.ts";
import { Refusal, Runtime, type StateChange } from "./runtime/runtime.ts";
import { env } from "./env.ts";
import { jsonLogger, type Logger } from "./log.ts";
export { jsonLogger, type Logger } from "./log.ts";
import { salvageStore } from "./store/salvage.ts";
import { Store, StoreCorrupt } from "./store/store.ts";
import type { Syscalls } from "./sys/syscalls.ts";
import type { Host } from "./host/host.ts";
import { expected, logUnexpectedTo } from "./errors.ts";
import { Sampler } from "./metrics/sampler.ts";
import { AgentMetrics } from "./metrics/prometheus.ts";
import { RestartKeeper } from "./restarts.ts";
import { readUsage } from "./metrics/usage.ts";
import { AlertEngine } from "./alerts/engine.ts";
import { loadWebhooks, Webhooks } from "./alerts/webhooks.ts";

export const VERSION = "0.1.0";

/**
 * The store, checked as it opens: a corrupt one stops the agent (StoreCorrupt says the way out),
 * unless CORRAL_SALVAGE_STORE=1 asks to set it aside and go on with what still reads.
 */
function openStore(path: string, log: Logger): Store {
  const retention = { maxAgeMs: env.auditMaxAgeDays * 24 * 3600 * 1000, maxBytes: env.auditMaxMiB * 1024 * 1024 };
  try {
    return new Store(path, { retention });
  } catch (e) {
    if (!(e instanceof StoreCorrupt) || !env.salvageStore) throw e;
    log.error("the store is corrupt: salvaging it (CORRAL_SALVAGE_STORE=1)", { path, problem: e.problem });
    const report = salvageStore(path);
    log.info("store salvaged into a new store; clients will resync", { ...report });
    return new Store(path, { retention });
  }
}

export class Agent implements AgentService {
  readonly lxcpath: LxcPath;
  readonly store: Store;
  readonly bus = new EventBus();
  readonly runtime: Runtime;
  readonly startedAt = Date.now();
  /** creates that build in the background (the debian template), with their progress */
  readonly creates = new CreateJobs();
  /** run once before the store closes at shutdown (the API's last audit rows) */
  readonly beforeStoreCloses: Array<() => void> = [];
  /** resource samples of the running containers (src/metrics), every 2 s once booted unless CORRAL_SAMPLING=0 */
  readonly sampler: Sampler;
  private readonly lxc: LxcBroadcast;
  /** GET /metrics (metrics/prometheus.ts) */
  readonly metrics: AgentMetrics;
  /** restart policies and flapping (restarts.ts) */
  readonly restarts: RestartKeeper;
  /** alerts raised from the stored events and the samples (src/alerts), delivered to webhooks */
  readonly alerts: AlertEngine;
  /** Each container's last STOPPED event: its last exit or failed start, across agent restarts. */
  private readonly lastStops: Map<string, StateEvent>;

  constructor(sys: Syscalls, host: Host, lxcpathDir: string, private readonly log: Logger = jsonLogger) {
    logUnexpectedTo(log);
    this.lxcpath = new LxcPath(lxcpathDir);
    this.lxcpath.ensure();
    this.store = openStore(join(this.lxcpath.root, "corral.db"), log);
    this.store.checkpointInBackground();
    this.lastStops = this.store.latestByContainer("STOPPED");
    this.runtime = new Runtime(sys, host, this.lxcpath, (c) => this.onState(c));
    this.lxc = new LxcBroadcast(sys, this.lxcpath.root, runtimeCommandTarget(() => this.runtime));
    this.restarts = new RestartKeeper(this.lxcpath, (name, cause) => this.runtime.start(name, { cause, command: this.runtime.status(name).command }));
    this.sampler = new Sampler(host.files, () => this.runtime.sampleTargets(), this.store.samples, log);
    this.metrics = new AgentMetrics({
      containers: () => {
        const running = new Map(this.runtime.sampleTargets().map((t) => [t.name, t]));
        return this.lxcpath.list().map((name) => {
          const t = running.get(name);
          return { name, state: this.runtime.state(name), ...(t ? { usage: readUsage(host.files, t.cgroup, t.veths) } : {}) };
        });
      },
      lastSeq: () => this.store.lastSeq(),
      subscribers: () => this.bus.size,
    });
    const hooks = loadWebhooks(env.webhooks, join(this.lxcpath.root, "webhooks.json"));
    if (hooks.length > 0) log.info("alerts go to webhooks", { webhooks: hooks.map((h) => h.url) });
    this.alerts = new AlertEngine(this.store.alerts, hooks.length > 0 ? new Webhooks(hooks, hostname(), log) : undefined, log,
      { share: env.alertMemoryShare, forMs: env.alertMemorySeconds * 1000 });
    this.sampler.onTick((tick) => this.alerts.onTick(tick));
  }

  /** lxc_set_state: store, then tell everyone. */
  private onState(change: StateChange): void {
    const startedAt = this.runtime.status(change.container).startedAt;
    const restartLater = this.restarts.onChange(change, startedAt === undefined ? 0 : Date.now() - startedAt);
    const event = this.store.appendEvent(change.container, change.state, change.cause, change.detail, change.at);
    if (event.state === "STOPPED") this.lastStops.set(event.container, event);
    this.metrics.onState(event);
    this.lxc.onState(change);
    this.bus.publish(event);
    // after the event itself: a subscriber hears of the STOPPED before the alert it raises
    this.alerts.onState(event);
    this.log.info("state", { container: change.container, state: change.state, seq: event.seq, cause: change.cause });
    restartLater?.();
  }

  /** After a restart: clean what the last run left, then lxc.start.auto in order with delays. */
  async boot(): Promise<void> {
    for (const name of await removeAbandonedCreates(this.lxcpath)) this.log.info("removed a create cut short by the previous agent", { container: name });
    await this.recoverFromTimeline();
    if (env.sampling) this.sampler.start();
    void this.autostart();
  }

  /** Containers whose last stored state is not STOPPED were running when the last agent died. */
  private async recoverFromTimeline(): Promise<void> {
    for (const [name, last] of this.store.latestByContainer()) {
      if (last.state === "STOPPED") continue;
      // RUNNING names the cgroup made; STARTING (a start that did not finish) the one planned
      const recorded = this.store.events({ container: name, before: last.seq + 1, limit: 20 }).reverse().find((e) => e.detail.cgroup);
      const detail = recorded?.detail ?? {};
      await this.runtime.recoverLeftover(name, {
        cgroup: typeof detail.cgroup === "string" ? detail.cgroup : undefined,
        cgroupMade: recorded?.state !== "STARTING",
        veths: Array.isArray(detail.veths) ? (detail.veths as string[]) : undefined,
        pid: detail.pid,
      }, { actor: "agent", request: "restart recovery" });
      this.log.info("recovered a container that died with the previous agent", { container: name, lastState: last.state });
    }
  }

  private async autostart(): Promise<void> {
    const auto = this.lxcpath.list()
      .map((name) => ({ name, start: this.safeLoad(name)?.start }))
      .filter((c) => c.start?.auto)
      .sort((a, b) => (a.start!.order - b.start!.order) || a.name.localeCompare(b.name));
    for (const c of auto) {
      try {
        await this.runtime.start(c.name, { cause: { actor: "agent", request: "autostart (lxc.start.auto)" } });
      } catch (e) {
        this.log.error("autostart failed", { container: c.name, error: (e as Error).message });
      }
      if (c.start!.delay > 0) await new Promise((r) => setTimeout(r, c.start!.delay * 1000));
    }
  }

  private safeLoad(name: string) {
    try {
      return this.lxcpath.load(name).config;
    } catch (e) {
      // a config that does not parse (or was deleted meanwhile) is shown without its details
      expected(e, [ConfigError, ContainerNotFound, "ENOENT"], `loading ${name}'s config`);
      return undefined;
    }
  }

  summary(name: string): ContainerSummary {
    const s = this.runtime.status(name);
    // a running container's own config (read once, at its start), as LXC answers for one
    const config = this.runtime.runningConfig(name) ?? this.safeLoad(name);
    return {
      name,
      state: s.state,
      pid: s.pid,
      startedAt: s.startedAt,
      ips: (config?.net ?? []).flatMap((n) => [...n.ipv4Addresses, ...n.ipv6Addresses].map((a) => a.split("/")[0]!)),
      ...this.lastStop(name),
      restart: this.restarts.status(name),
      command: s.command,
      cgroup: s.cgroup,
      autostart: config?.start.auto ?? false,
      privileged: config && !isUnprivileged(config),
      rootUid: config && isUnprivileged(config) ? mapToHost(config.idmap, "u", 0) : undefined,
      actions: allowedActions(s.state),
    };
  }

  /** How the last run ended: its exit status, or the step a failed start stopped at. */
  private lastStop(name: string): Pick<ContainerSummary, "lastExit" | "lastError" | "lastStop"> {
    const last = this.lastStops.get(name);
    if (!last) return {};
    const { exitStatus, exitCode, error } = last.detail;
    return {
      lastExit: exitStatus === undefined ? undefined : { status: exitStatus, code: exitCode ?? 0, at: last.at },
      lastError: error ? `${error.step}: ${error.message}` : undefined,
      lastStop: stopOf(last.detail),
    };
  }

  list(): ContainerSummary[] {
    return this.lxcpath.list().map((name) => this.summary(name));
  }

  detail(name: string): ContainerDetail {
    if (!this.lxcpath.exists(name)) throw new Refusal(`no container named "${name}"`, "NOT_FOUND");
    const summary = this.summary(name);
    let configText = "";
    let warnings: string[] = [];
    try {
      configText = this.lxcpath.readConfigText(name);
    } catch (e) {
      if (!(e instanceof ConfigFileRefused)) throw e;
      warnings = [e.message];
    }
    let rootfs = join(this.lxcpath.dir(name), "rootfs");
    let host = name;
    try {
      const loaded = this.lxcpath.load(name);
      warnings = [...loaded.warnings, ...loaded.unsupported].map(describeIssue);
      rootfs = this.lxcpath.rootfs(name, loaded.config);
      host = loaded.config.utsname ?? name;
    } catch (e) {
      warnings = [...warnings, (e as Error).message];
    }
    return { ...summary, configPath: this.lxcpath.configPath(name), configText, warnings, rootfs, hostname: host };
  }

  /**
   * Create a container. A template that builds for a while (debian) is checked and its name
   * reserved now, then built in the background: `building` is true, and creates.progress(name)
   * follows it; its outcome is audited when it ends. The others are made before this returns.
   */
  create(req: CreateRequest, by: { actor: string; address: string } = { actor: "agent", address: "" }): CreateResult & { building: boolean } {
    if (req.template !== "debian") return { ...createContainer(this.lxcpath, req), building: false };
    const pending = beginCreate(this.lxcpath, req);
    this.log.info("create started", { container: req.name, template: req.template, release: req.release });
    this.creates.start(req.name, (progress) => pending.run(progress), (error) => {
      try {
        this.store.audit({
          actor: by.actor, address: by.address, action: "containers.create (built)", target: req.name,
          result: error ? "error" : "ok", detail: error ? error.message : `${req.template} ${req.release ?? ""}`.trim(),
        });
      } catch (e) {
        this.log.error("the outcome of a create could not be audited", { container: req.name, error: (e as Error).message });
      }
      if (error) this.log.error("create failed", { container: req.name, error: error.message });
      else this.log.info("created", { container: req.name });
    });
    return { name: pending.name, configPath: pending.configPath, warnings: pending.warnings, building: true };
  }

  /** Parse config text as if it were NAME's config; throws the parser's ConfigError (with its line). */
  checkConfig(name: string, text: string): string[] {
    const parsed = this.lxcpath.parseAs(name, text);
    return [...parsed.warnings, ...parsed.unsupported].map((w) => `line ${w.line}: ${w.key}: ${w.message}`);
  }

  delete(name: string): void {
    deleteContainer(this.lxcpath, name, this.runtime.state(name));
    this.lastStops.delete(name);
    this.restarts.forget(name);
  }

  setRestartPolicy(name: string, policy: RestartPolicy): void {
    if (!this.lxcpath.exists(name)) throw new Refusal(`no container named "${name}"`, "NOT_FOUND");
    this.restarts.setPolicy(name, policy);
  }

  info() {
    return { hostname: hostname(), version: VERSION, api: API_VERSION, lxcpath: this.lxcpath.root, storeId: this.store.storeId, startedAt: this.startedAt, lastSeq: this.store.lastSeq() };
  }

  events(q: { container?: string; after?: number; before?: number; limit?: number }): StateEvent[] {
    return this.store.events(q);
  }

  /** Stop every running container (agent shutdown), as LXC's monitors die with their containers. */
  async shutdown(cause: EventCause): Promise<void> {
    await Promise.all(this.list().filter((c) => c.state !== "STOPPED").map((c) => this.runtime.abort(c.name, cause).catch(() => undefined)));
    this.restarts.close();
    this.sampler.stop();
    this.alerts.close();
    this.lxc.close();
    this.runtime.close();
    for (const hook of this.beforeStoreCloses.splice(0)) hook();
    this.store.close();
  }
}
