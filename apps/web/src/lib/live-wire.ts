// The browser's one live connection to the dashboard's server (GET /api/live, Server-Sent Events):
// its topics, how a topic and its cursor are written in the stream's URL, and the messages it
// carries. Pure: read by the server route (src/server/live.ts) and the browser (src/client/live.ts).
//
// A topic is one agent's live feed of one kind:
//   events/AGENT          the agent's state events (cursor "storeId:seq") and its alerts
//   samples/AGENT         the agent's resource samples, a tick every 2 s (cursor: the last tick's ms)
//   console/AGENT/NAME    a container's console output (cursor: the agent's console cursor)
// The browser keeps each topic's cursor; whenever the stream is (re)opened, the URL carries every
// topic with its cursor, and the server subscribes each from there, so nothing is lost or repeated.
import type { Alert, SampleTick, StreamItem } from "@corral/core";

export const LIVE_KINDS = ["events", "samples", "console"] as const;
export type LiveKind = (typeof LIVE_KINDS)[number];

export interface LiveTopic {
  kind: LiveKind;
  agent: string;
  /** the container, for console topics */
  name?: string;
}

/** Agent and container names: the core's name rule, which has no "/" or "@" in it. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** Cursors: "storeId:seq", digits, or the agent's console cursors; nothing that needs escaping. */
const CURSOR = /^[A-Za-z0-9:._-]{0,128}$/;
/** Topics one stream may carry: every agent's events and samples and a few consoles, with room. */
export const MAX_TOPICS = 500;

export function topicKey(t: LiveTopic): string {
  return t.kind === "console" ? `console/${t.agent}/${t.name ?? ""}` : `${t.kind}/${t.agent}`;
}

export const eventsTopic = (agent: string) => `events/${agent}`;
export const samplesTopic = (agent: string) => `samples/${agent}`;
export const consoleTopic = (agent: string, name: string) => `console/${agent}/${name}`;

/** A topic key read back, or why it is not one. */
export function parseTopic(key: string): LiveTopic | string {
  const [kind, agent, name, ...rest] = key.split("/");
  if (!(LIVE_KINDS as readonly string[]).includes(kind ?? "")) return `"${key}": the kind must be one of ${LIVE_KINDS.join(", ")}`;
  if (!agent || !NAME.test(agent)) return `"${key}": "${agent ?? ""}" is not an agent name`;
  if (kind === "console") {
    if (!name || !NAME.test(name) || rest.length > 0) return `"${key}": a console topic is console/AGENT/CONTAINER`;
    return { kind: "console", agent, name };
  }
  if (name !== undefined) return `"${key}": ${kind}/AGENT has no more parts`;
  return { kind: kind as LiveKind, agent };
}

/** One topic with its cursor, as the stream's URL carries it: "TOPIC@CURSOR" (an empty cursor: from now). */
export interface Subscription {
  topic: string;
  cursor: string | null;
}

export function formatSubscription(s: Subscription): string {
  return `${s.topic}@${s.cursor ?? ""}`;
}

/** The `s` parameters of a stream's URL read back; a bad one is an error naming it, and nothing is subscribed. */
export function parseSubscriptions(values: readonly string[]): { subs: Array<Subscription & { parsed: LiveTopic }> } | { error: string } {
  if (values.length > MAX_TOPICS) return { error: `at most ${MAX_TOPICS} topics on one stream` };
  const subs: Array<Subscription & { parsed: LiveTopic }> = [];
  const seen = new Set<string>();
  for (const v of values) {
    const at = v.lastIndexOf("@");
    const topic = at < 0 ? v : v.slice(0, at);
    const cursor = at < 0 ? "" : v.slice(at + 1);
    const parsed = parseTopic(topic);
    if (typeof parsed === "string") return { error: parsed };
    if (!CURSOR.test(cursor)) return { error: `"${topic}": the cursor "${cursor.slice(0, 40)}" is not one` };
    if (seen.has(topic)) continue;
    seen.add(topic);
    subs.push({ topic, cursor: cursor || null, parsed });
  }
  return { subs };
}

/** What one topic's feed says about its agent connection. */
export type LiveState = "connecting" | "live" | "reconnecting" | "error";

/** The stream's messages ("m" SSE events), each for one topic. */
export type LiveMessage =
  | { topic: string; type: "status"; live: boolean; state: LiveState; message?: string }
  /** events topics: a stored event or a resync order, with its "storeId:seq" cursor */
  | { topic: string; type: "item"; id: string; item: StreamItem }
  /** events topics: the agent's alert feed (re)started; what a gap missed is in alerts.list */
  | { topic: string; type: "alerts-live" }
  | { topic: string; type: "alert"; alert: Alert }
  | { topic: string; type: "alerts-error"; message: string }
  /** samples topics */
  | { topic: string; type: "tick"; id: string; tick: SampleTick }
  /** console topics: `reset` starts over with the whole ring buffer */
  | { topic: string; type: "console"; id: string; reset: boolean; text: string };

/** The first SSE event of a stream ("hello"): its id, for adding and removing topics with POST /api/live/ID. */
export interface LiveHello {
  stream: string;
}

/** Why the server ended a stream for good ("ended"): the session is over, the browser signs in again. */
export interface LiveEnded {
  reason: "signed-out";
  message: string;
}

/** POST /api/live/ID: topics to add (from their cursors) and to drop, on the server that holds the stream. */
export interface LiveChange {
  add?: Subscription[];
  remove?: string[];
}
