// What the API needs of the agent, declared here so that the routers depend on this interface
// and not on the composition root (src/agent.ts implements it). Each part is the narrowest slice
// of a lower layer the routers call.
import type { AgentInfo, ContainerDetail, ContainerSummary, RestartPolicy, StateEvent } from "@corral/core";
import type { EventBus } from "../bus.ts";
import type { CreateRequest, CreateResult } from "../containers/create.ts";
import type { CreateJobs } from "../containers/create-jobs.ts";
import type { Runtime } from "../runtime/runtime.ts";
import type { Store } from "../store/store.ts";
import type { Sampler } from "../metrics/sampler.ts";
import type { AgentMetrics } from "../metrics/prometheus.ts";
import type { AlertEngine } from "../alerts/engine.ts";

/** The verbs the API calls on the runtime (a container's lifecycle, its console). */
export type RuntimeVerbs = Pick<Runtime,
  "start" | "stop" | "killNow" | "abort" | "reboot" | "freeze" | "unfreeze" |
  "writeConsole" | "consoleHistory" | "consoleSince" | "consoleCursor" | "onConsole">;

export interface AgentService {
  readonly runtime: RuntimeVerbs;
  /** the timeline and the audit log */
  readonly store: Pick<Store, "storeId" | "lastSeq" | "events" | "audit" | "settleAudit" | "auditLog">;
  /** stored events, as they are published */
  readonly bus: Pick<EventBus, "subscribe">;
  /** resource samples: the recent window, the stored history and each tick as it is taken */
  readonly sampler: Pick<Sampler, "range" | "ticksAfter" | "onTick">;
  /** the alerts: listed, acknowledged, and each as it is raised */
  readonly alerts: Pick<AlertEngine, "list" | "since" | "acknowledge" | "onAlert">;
  /** creates that build in the background (the debian template) */
  readonly creates: Pick<CreateJobs, "progress">;
  /** the exposition text of GET /metrics */
  readonly metrics: Pick<AgentMetrics, "text" | "contentType">;
  /** what must run before the store closes at shutdown (the API's pending refusal summaries) */
  readonly beforeStoreCloses: Array<() => void>;
  list(): ContainerSummary[];
  summary(name: string): ContainerSummary;
  detail(name: string): ContainerDetail;
  create(req: CreateRequest, by: { actor: string; address: string }): CreateResult & { building: boolean };
  checkConfig(name: string, text: string): string[];
  delete(name: string): void;
  setRestartPolicy(name: string, policy: RestartPolicy): void;
  info(): AgentInfo;
  events(q: { container?: string; after?: number; before?: number; limit?: number }): StateEvent[];
}
