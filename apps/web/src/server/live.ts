// One browser's live stream (GET /api/live): every topic it asked for, each subscribed on its
// agent's connection (src/server/agents.ts: one WebSocket per agent, shared by every browser this
// server serves; tRPC multiplexes the subscriptions on it), and written to the browser's one
// Server-Sent Events response. The agent replays each subscription from the browser's cursor, so
// a stream opened again (a dropped connection, another dashboard server) loses and repeats nothing.
// Streams are kept by id in this process, so POST /api/live/ID can add and drop topics. Server only.
import { randomBytes } from "node:crypto";
import type { Alert, ConsoleOutput, SampleTick, StreamItem } from "@corral/core";
import type { LiveMessage, LiveState, LiveTopic, Subscription } from "../lib/live-wire.ts";
import { describeAgentError, getAgent, type AgentConnection } from "./agents.ts";
import type { SseWriter } from "./sse.ts";

interface Unsubscribable {
  unsubscribe(): void;
}

type Send = (m: LiveMessage) => void;
/** A topic's subscription ended (the agent completed it, or refused it): subscribe again after `ms`. */
type Ended = (ms: number) => void;

/** Waits before a topic whose subscription ended is subscribed again: after an end, after an error. */
const AGAIN_AFTER_END_MS = 1000;
const AGAIN_AFTER_ERROR_MS = 2000;

interface TopicSub {
  handles: Unsubscribable[];
  retry?: ReturnType<typeof setTimeout>;
}

export class LiveStream {
  readonly id = randomBytes(16).toString("base64url");
  private readonly subs = new Map<string, TopicSub>();

  /** `sid`: the session that opened it, the only one that may change its topics */
  constructor(private readonly out: SseWriter, readonly sid: string) {}

  /**
   * Subscribes a topic from its cursor (again, if it was already: the browser's cursor wins). A
   * subscription the agent ends (a slow reader cut off after a resync, a console whose container
   * went) or refuses is made again shortly from the last cursor sent, as the browser's own
   * reconnection would have.
   */
  add(sub: Subscription & { parsed: LiveTopic }): void {
    this.remove(sub.topic);
    const agent = getAgent(sub.parsed.agent);
    if (!agent) {
      this.out.send("m", { topic: sub.topic, type: "status", live: false, state: "error", message: `No agent named "${sub.parsed.agent}" is configured.` } satisfies LiveMessage);
      return;
    }
    let cursor = sub.cursor;
    const send: Send = (m) => {
      if ("id" in m) cursor = m.id;
      this.out.send("m", m);
    };
    const entry: TopicSub = { handles: [] };
    const ended: Ended = (ms) => {
      if (this.subs.get(sub.topic) !== entry || entry.retry) return;
      entry.retry = setTimeout(() => {
        if (this.subs.get(sub.topic) === entry && !this.out.closed) this.add({ ...sub, cursor });
      }, ms);
    };
    const open = { events: subscribeEvents, samples: subscribeSamples, console: subscribeConsole }[sub.parsed.kind];
    this.subs.set(sub.topic, entry);
    entry.handles = open(agent, sub.topic, sub.cursor, send, ended, sub.parsed.name ?? "");
  }

  remove(topic: string): void {
    const entry = this.subs.get(topic);
    if (!entry) return;
    clearTimeout(entry.retry);
    for (const s of entry.handles) s.unsubscribe();
    this.subs.delete(topic);
  }

  get topics(): number {
    return this.subs.size;
  }

  close(): void {
    for (const topic of [...this.subs.keys()]) this.remove(topic);
  }
}

/** What every subscription reports of its agent connection, in the topic's status messages, and its end. */
function statusReporter(agent: AgentConnection, topic: string, send: Send, ended: Ended) {
  let startedOnce = false;
  const status = (state: LiveState, message?: string) => send({ topic, type: "status", live: state === "live", state, message });
  return {
    onStarted: () => {
      startedOnce = true;
      status("live");
    },
    onConnectionStateChange: (s: { state: string; error: unknown }) => {
      if (s.state !== "connecting") return;
      const why = s.error ? describeAgentError(agent.config, s.error).message : `Connecting to agent "${agent.config.name}"...`;
      status(startedOnce ? "reconnecting" : "connecting", why);
    },
    onError: (e: unknown) => {
      status("error", describeAgentError(agent.config, e).message);
      ended(AGAIN_AFTER_ERROR_MS);
    },
    onComplete: () => ended(AGAIN_AFTER_END_MS),
  };
}

/**
 * The agent's events from the cursor, then live; a resync item makes the browser reload the
 * timeline. Its alerts ride the same topic: "alerts-live" each time the alert feed (re)starts, on
 * which the browser reads alerts.list again, so nothing raised during a gap is missed.
 */
function subscribeEvents(agent: AgentConnection, topic: string, cursor: string | null, send: Send, ended: Ended): Unsubscribable[] {
  const report = statusReporter(agent, topic, send, ended);
  send({ topic, type: "status", live: false, state: "connecting" });
  const events = agent.streams().events.onEvent.subscribe({ lastEventId: cursor }, {
    ...report,
    onData: ({ id, data }: { id: string; data: StreamItem }) => {
      send({ topic, type: "item", id, item: data });
      if (data.kind === "resync") send({ topic, type: "status", live: true, state: "live" });
    },
  });
  const alerts = agent.streams().alerts.onAlert.subscribe(undefined, {
    onStarted: () => send({ topic, type: "alerts-live" }),
    onData: ({ data }: { id: string; data: Alert }) => send({ topic, type: "alert", alert: data }),
    onError: (e: unknown) => send({ topic, type: "alerts-error", message: describeAgentError(agent.config, e).message }),
  });
  return [events, alerts];
}

/** Every tick of the agent's sampler after the cursor (ms): the agent replays its recent window first. */
function subscribeSamples(agent: AgentConnection, topic: string, cursor: string | null, send: Send, ended: Ended): Unsubscribable[] {
  const lastEventId = cursor && /^\d{1,16}$/.test(cursor) ? cursor : null;
  return [agent.streams().metrics.onSample.subscribe({ lastEventId }, {
    ...statusReporter(agent, topic, send, ended),
    onData: ({ id, data }: { id: string; data: SampleTick }) => send({ topic, type: "tick", id, tick: data }),
  })];
}

/** A container's console: the ring buffer (reset) or what the cursor missed, then live output. */
function subscribeConsole(agent: AgentConnection, topic: string, cursor: string | null, send: Send, ended: Ended, name: string): Unsubscribable[] {
  return [agent.streams().console.onOutput.subscribe({ name, lastEventId: cursor }, {
    ...statusReporter(agent, topic, send, ended),
    onData: ({ id, data }: { id: string; data: ConsoleOutput }) => send({ topic, type: "console", id, reset: data.reset, text: data.text }),
  })];
}

// The streams this process serves, by id (on globalThis: Next's route bundles share it).
const STREAMS = Symbol.for("corral.web.liveStreams");

export function liveStreams(): Map<string, LiveStream> {
  const g = globalThis as unknown as Record<symbol, Map<string, LiveStream> | undefined>;
  return (g[STREAMS] ??= new Map<string, LiveStream>());
}
