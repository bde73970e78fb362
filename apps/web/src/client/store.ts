// The browser's picture of every agent: its containers, its events (the timeline) and the live
// stream that keeps both current. One store for the whole page; React reads it through
// useSyncExternalStore, the timeline canvas reads it directly.
import { allowedActions, type ContainerSummary, type StateEvent, type StreamItem } from "@corral/core";
import type { AgentStatus } from "@/lib/types";
import { call, CallError } from "./api";
import { expected } from "@/lib/errors";
import { alertsStore } from "./alerts";
import { liveConnection } from "./live";
import { eventsTopic, type LiveMessage, type LiveState } from "@/lib/live-wire";
import { Versioned } from "./versioned";

/** How much history the dashboard loads per agent. */
export const EVENT_WINDOW = 50_000;
/** The least time between two list refreshes of one agent that its events ask for. */
const REFRESH_EVERY_MS = 1000;

export interface AgentView {
  name: string;
  status: AgentStatus;
  /** sorted by name; a summary is replaced, never changed in place (the list's rows are memoised on it) */
  containers: ContainerSummary[];
  /** each container's index in `containers`, so that an event finds its summary without a scan */
  containerAt: Map<string, number>;
  /** why the container list could not be loaded, if it could not */
  containersError?: string;
  /** every loaded event, in seq order */
  events: StateEvent[];
  /** events per container, in seq order */
  byContainer: Map<string, StateEvent[]>;
  storeId?: string;
  lastSeq: number;
  /** the agent's events topic on the page's live stream */
  stream: LiveState;
  streamMessage?: string;
  loaded: boolean;
}


export class DashboardStore extends Versioned {
  agents: AgentView[] = [];
  /** The newest list request per agent: an older answer arriving after it is stale (it could show a container deleted meanwhile). */
  private readonly listRequests = new Map<string, number>();
  configError?: string;
  /** bumps when events change, for the canvas */
  eventsVersion = 0;
  /** per agent, how to stop its events topic */
  private streams = new Map<string, () => void>();
  private refreshTimers = new Map<string, ReturnType<typeof setTimeout>>();
  /** when each agent's list was last asked for after an event */
  private refreshedAt = new Map<string, number>();
  /** per agent, the events the stream delivered while an events.list was in flight */
  private arriving = new Map<string, Set<StateEvent[]>>();
  /** agents whose stream has been live at least once */
  private wasLive = new Set<string>();
  /** agents whose history is being reloaded after they came back */
  private reloading = new Set<string>();
  private statusTimer: ReturnType<typeof setInterval> | undefined;
  private started = false;

  protected override changed(events = false): void {
    if (events) this.eventsVersion++;
    super.changed();
  }

  agent(name: string): AgentView | undefined {
    return this.agents.find((a) => a.name === name);
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.refreshAgents();
    for (const a of this.agents) void this.loadAgent(a.name);
    this.statusTimer = setInterval(() => void this.poll(), 5000);
  }

  /**
   * Every few seconds: which agents answer, and each live agent's list. The stream carries state
   * changes only; a container created or deleted by another client (the CLI, another browser) shows
   * up with the next list.
   */
  private async poll(): Promise<void> {
    await this.refreshAgents();
    for (const a of this.agents) if (a.loaded && a.status.up) void this.loadContainers(a.name);
  }

  stop(): void {
    clearInterval(this.statusTimer);
    for (const stop of this.streams.values()) stop();
    this.streams.clear();
    this.started = false;
  }

  async refreshAgents(): Promise<void> {
    let body: { agents: AgentStatus[]; error?: string };
    try {
      const res = await fetch("/api/agents", { cache: "no-store" });
      if (res.status === 401) {
        window.location.href = "/login";
        return;
      }
      body = (await res.json()) as typeof body;
    } catch (e) {
      expected(e, [TypeError, SyntaxError], "listing the agents");
      return; // the dashboard server itself is away; the streams show "reconnecting"
    }
    this.configError = body.error;
    for (const status of body.agents) {
      let view = this.agent(status.name);
      if (!view) {
        view = { name: status.name, status, containers: [], containerAt: new Map(), events: [], byContainer: new Map(), lastSeq: 0, stream: "connecting", loaded: false };
        this.agents.push(view);
      } else {
        const cameBack = !view.status.up && status.up;
        view.status = status;
        if (cameBack) this.cameBack(view);
      }
    }
    this.changed();
  }

  private async loadAgent(name: string): Promise<void> {
    await Promise.all([this.loadContainers(name), this.loadEvents(name)]);
    this.openStream(name);
  }

  /**
   * An agent answers again. If its history never loaded (it was down when the page opened), load
   * it now and reopen the stream from there; else the list is enough, the stream resumes by itself.
   */
  private cameBack(view: AgentView): void {
    if (view.loaded) {
      void this.loadContainers(view.name);
      return;
    }
    if (this.reloading.has(view.name)) return;
    this.reloading.add(view.name);
    void Promise.all([this.loadEvents(view.name), this.loadContainers(view.name)])
      .then(() => {
        if (view.loaded && this.started) this.openStream(view.name);
      })
      .finally(() => this.reloading.delete(view.name));
  }

  async loadContainers(name: string): Promise<void> {
    const view = this.agent(name);
    if (!view) return;
    const request = (this.listRequests.get(name) ?? 0) + 1;
    this.listRequests.set(name, request);
    const seenSeq = view.lastSeq;
    try {
      const list = await call(name, "containers.list");
      if (this.listRequests.get(name) !== request) return;
      // an event the stream brought while the list was in flight may be newer than the list
      const fresh = list.map((c) => {
        const e = view.byContainer.get(c.name)?.at(-1);
        return e && e.seq > seenSeq ? withEvent(c, e) : c;
      });
      setContainers(view, fresh.sort((a, b) => byName.compare(a.name, b.name)));
      view.containersError = undefined;
    } catch (e) {
      if (this.listRequests.get(name) !== request) return;
      view.containersError = (e as Error).message;
      if (e instanceof CallError && e.code === "AGENT_UNREACHABLE") view.status = { ...view.status, up: false, message: e.message };
    }
    this.changed();
  }

  /**
   * A container this page deleted: off the list at once (nothing on the stream says so), and the
   * list reloaded; the reload also makes any list answer still in flight from before stale.
   */
  forgetContainer(agent: string, name: string): void {
    const view = this.agent(agent);
    if (!view) return;
    setContainers(view, view.containers.filter((c) => c.name !== name));
    this.changed();
    void this.loadContainers(agent);
  }

  /**
   * The newest EVENT_WINDOW events, replacing what was loaded. Events the stream delivers while the
   * page is in flight are kept: those after the page's last seq are appended to it.
   */
  async loadEvents(name: string): Promise<void> {
    const view = this.agent(name);
    if (!view) return;
    const arrived: StateEvent[] = [];
    let buffers = this.arriving.get(name);
    if (!buffers) this.arriving.set(name, (buffers = new Set()));
    buffers.add(arrived);
    try {
      const page = await call(name, "events.list", { before: Number.MAX_SAFE_INTEGER, limit: EVENT_WINDOW });
      view.storeId = page.storeId;
      let last = page.events.at(-1)?.seq ?? 0;
      const events = page.events.slice();
      for (const e of arrived) {
        if (e.seq <= last) continue; // in the page already, or delivered twice
        events.push(e);
        last = e.seq;
      }
      this.setEvents(view, events);
      view.loaded = true;
    } catch (e) {
      view.streamMessage = (e as Error).message;
    } finally {
      buffers.delete(arrived);
    }
    this.changed(true);
  }

  private setEvents(view: AgentView, events: StateEvent[]): void {
    view.events = events;
    view.byContainer = new Map();
    for (const e of events) this.index(view, e);
    view.lastSeq = events.at(-1)?.seq ?? 0;
  }

  private index(view: AgentView, e: StateEvent): void {
    let lane = view.byContainer.get(e.container);
    if (!lane) view.byContainer.set(e.container, (lane = []));
    lane.push(e);
  }

  private cursor(view: AgentView): string | undefined {
    return view.storeId ? `${view.storeId}:${view.lastSeq}` : undefined;
  }

  /**
   * The agent's live events (and alerts), a topic of the page's one live stream (client/live.ts),
   * resumed from this view's cursor whenever that stream (re)opens: first from what events.list
   * gave, then from the last event delivered.
   */
  private openStream(name: string): void {
    this.streams.get(name)?.();
    const view = this.agent(name);
    if (!view) return;
    this.streams.set(name, liveConnection().subscribe(eventsTopic(name), {
      cursor: () => this.cursor(view) ?? null,
      onMessage: (m) => this.onLive(view, m),
      onDisconnected: (message) => {
        view.stream = "reconnecting";
        view.streamMessage = message;
        this.changed();
      },
    }));
  }

  private onLive(view: AgentView, m: LiveMessage): void {
    if (m.type === "status") this.onStatus(view, m);
    if (m.type === "item" && m.item.kind === "resync") void this.resync(view.name, m.item);
    if (m.type === "item" && m.item.kind === "event") this.onEvent(view, m.item.event);
    // the agent's alerts ride the same topic (client/alerts.ts keeps them)
    if (m.type === "alerts-live") void alertsStore().reload(view.name);
    if (m.type === "alert") alertsStore().arrived(view.name, m.alert);
  }

  private onStatus(view: AgentView, s: Extract<LiveMessage, { type: "status" }>): void {
    // every (re)subscription says "connecting" first; once the agent's stream was live, that is a reconnection
    view.stream = s.state === "connecting" && this.wasLive.has(view.name) ? "reconnecting" : s.state;
    if (s.live) this.wasLive.add(view.name);
    view.streamMessage = s.message;
    if (s.live && (!view.status.up || !view.loaded)) {
      view.status = { ...view.status, up: true, message: undefined };
      this.cameBack(view);
    }
    if (!s.live && s.state !== "connecting") view.status = { ...view.status, up: false, message: s.message };
    this.changed();
  }

  private async resync(name: string, item: Extract<StreamItem, { kind: "resync" }>): Promise<void> {
    const view = this.agent(name);
    if (!view) return;
    if (view.storeId !== item.storeId) view.lastSeq = 0;
    await Promise.all([this.loadEvents(name), this.loadContainers(name)]);
  }

  private onEvent(view: AgentView, e: StateEvent): void {
    if (e.seq <= view.lastSeq) return; // already have it (replay overlap)
    view.events.push(e);
    view.lastSeq = e.seq;
    this.index(view, e);
    for (const arrived of this.arriving.get(view.name) ?? []) arrived.push(e);
    if (view.events.length > EVENT_WINDOW * 1.2) this.setEvents(view, view.events.slice(-EVENT_WINDOW));
    // the state is known now; pid, uptime and the rest come with the list shortly after
    const at = view.containerAt.get(e.container);
    if (at !== undefined) view.containers[at] = withEvent(view.containers[at]!, e);
    this.scheduleRefresh(view.name, at !== undefined ? 250 : 0);
    this.changed(true);
  }

  /**
   * The list again, `ms` after an event, and no sooner than REFRESH_EVERY_MS after the last one
   * this way: an agent busy with a few events a second would otherwise be listed (and the whole
   * list rendered) four times a second, ten agents forty.
   */
  private scheduleRefresh(name: string, ms: number): void {
    if (this.refreshTimers.has(name)) return;
    const wait = Math.max(ms, (this.refreshedAt.get(name) ?? 0) + REFRESH_EVERY_MS - Date.now());
    this.refreshTimers.set(name, setTimeout(() => {
      this.refreshTimers.delete(name);
      this.refreshedAt.set(name, Date.now());
      void this.loadContainers(name);
    }, wait));
  }

  /** The latest event of a container, if loaded. */
  lastEvent(agent: string, container: string): StateEvent | undefined {
    return this.agent(agent)?.byContainer.get(container)?.at(-1);
  }

  /** Whether every agent's stream is live. */
  allLive(): boolean {
    return this.agents.every((a) => a.stream === "live");
  }
}

/** Names in the list's order (one collator: localeCompare makes one per call, a thousand times per list). */
const byName = new Intl.Collator();

function setContainers(view: AgentView, containers: ContainerSummary[]): void {
  view.containers = containers;
  view.containerAt = new Map(containers.map((c, i) => [c.name, i]));
}

/** A container's summary after a state event: its state, and its pid when it starts or stops. */
function withEvent(summary: ContainerSummary, e: StateEvent): ContainerSummary {
  const c = { ...summary, state: e.state, actions: allowedActions(e.state) };
  if (e.state === "RUNNING" && typeof e.detail.pid === "number") {
    c.pid = e.detail.pid;
    c.startedAt = e.at;
  }
  if (e.state === "STOPPED") {
    c.pid = undefined;
    c.startedAt = undefined;
  }
  return c;
}

let singleton: DashboardStore | undefined;
export function dashboardStore(): DashboardStore {
  singleton ??= new DashboardStore();
  return singleton;
}
