// events.onEvent over WebSocket, served by the agent itself rather than by tRPC's ws adapter.
// tRPC hands each item of a subscription through an async iterator raced against the
// subscription's abort signal, copies the response three times over (transformTRPCResponse) and
// encodes it: with ten subscribers and a thousand containers starting and stopping, that was some
// 0.8 s of the agent's CPU for 40,000 deliveries, on the core the starts need. Here a live event
// goes from the publish to each subscriber's socket in one synchronous call, as the same bytes
// tRPC would have sent (its messages: started, data with the tracked cursor, stopped, errors with
// the router's error shape).
//
// The lane takes only what it serves whole: a well-formed message subscribing to events.onEvent,
// and the stop of a subscription it serves. Everything else goes on to tRPC's handler untouched;
// of a batch (wsLink sends the calls of one tick as one), tRPC gets the rest as a batch.
import { getTRPCErrorShape, TRPCError } from "@trpc/server";
import { WebSocket } from "ws";
import { formatCursor } from "@corral/core";
import { SlowSubscriber, type Subscription } from "../bus.ts";
import { unexpected } from "../errors.ts";
import { appRouter } from "./root.ts";
import { LiveFilter, onEventInput, replay, type CursorItem, type OnEventInput } from "./routers/events.ts";
import { toTRPCError, type Context } from "./trpc.ts";
import { agentEncoder } from "./ws-encoder.ts";

const PATH = "events.onEvent";

type Id = number | string;

interface Subscribe {
  id: Id;
  jsonrpc?: "2.0";
  method: "subscription" | "subscription.stop";
  params?: { path: string; input?: unknown; lastEventId?: string };
}

/** A message as tRPC's parseTRPCMessage accepts it, subscribing or stopping; else undefined. */
function asSubscribe(msg: unknown): Subscribe | undefined {
  if (typeof msg !== "object" || msg === null || Array.isArray(msg)) return undefined;
  const { id, jsonrpc, method, params } = msg as Record<string, unknown>;
  if ((typeof id !== "number" && typeof id !== "string") || (jsonrpc !== undefined && jsonrpc !== "2.0")) return undefined;
  if (method === "subscription.stop") return { id, jsonrpc, method };
  if (method !== "subscription" || typeof params !== "object" || params === null) return undefined;
  const { path, lastEventId } = params as Record<string, unknown>;
  if (path !== PATH || (lastEventId !== undefined && typeof lastEventId !== "string")) return undefined;
  return msg as Subscribe;
}

/** tRPC's merge of a message's lastEventId into its input. */
function inputOf(params: NonNullable<Subscribe["params"]>): unknown {
  const { input, lastEventId } = params;
  if (lastEventId === undefined) return input;
  if (typeof input === "object" && input !== null && !Array.isArray(input)) return { ...input, lastEventId };
  return input ?? { lastEventId };
}

export class EventLane {
  /** the subscriptions served here, by the client's id */
  private readonly streams = new Map<Id, AbortController>();

  private constructor(
    private readonly ws: WebSocket,
    private readonly ctx: Context,
    private readonly onError: (error: TRPCError) => void,
    /** hands a message on to tRPC's handler */
    private readonly forward: (data: Buffer) => void,
  ) {}

  /**
   * Put the lane in front of tRPC on `ws`: its messages are seen here first (before any listener
   * tRPC adds), and its close ends the lane's subscriptions.
   */
  static attach(ws: WebSocket, ctx: Context, onError: (error: TRPCError) => void): EventLane {
    const emit = ws.emit.bind(ws) as (event: string | symbol, ...args: unknown[]) => boolean;
    const lane = new EventLane(ws, ctx, onError, (data) => emit("message", data, false));
    ws.emit = ((event: string | symbol, ...args: unknown[]) => {
      if (event === "message" && lane.take(args[0], args[1] === true)) return true;
      if (event === "close") lane.stopAll();
      return emit(event, ...args);
    }) as WebSocket["emit"];
    return lane;
  }

  /** Serves what of `data` is the lane's, and hands the rest of a batch on; false leaves it all to tRPC. */
  take(data: unknown, isBinary: boolean): boolean {
    if (isBinary || !Buffer.isBuffer(data)) return false;
    // most messages are not the lane's: told apart before any parse
    if (!data.includes(PATH) && !(this.streams.size > 0 && data.includes("subscription.stop"))) return false;
    let parsed: unknown;
    try {
      parsed = JSON.parse(data.toString("utf8"));
    } catch (e) {
      // not JSON, or nested too deeply to parse: tRPC answers with its parse error
      if (e instanceof SyntaxError || e instanceof RangeError) return false;
      throw e;
    }
    const messages: unknown[] = Array.isArray(parsed) ? parsed : [parsed];
    const mine = messages.map((m) => this.mine(m));
    if (mine.every((m) => m === undefined)) return false;
    const rest = messages.filter((_, i) => mine[i] === undefined);
    if (rest.length > 0) this.forward(Buffer.from(JSON.stringify(rest)));
    for (const msg of mine) if (msg) this.handle(msg);
    return true;
  }

  /** `m` if the lane serves it: a subscription to events.onEvent, or the stop of one of its own. */
  private mine(m: unknown): Subscribe | undefined {
    const msg = asSubscribe(m);
    return msg?.method === "subscription.stop" && !this.streams.has(msg.id) ? undefined : msg;
  }

  private handle(msg: Subscribe): void {
    if (msg.method === "subscription.stop") {
      this.streams.get(msg.id)?.abort();
      return;
    }
    // the agent never falls over on a request: what serve() could not answer is logged
    this.serve(msg).catch((e: unknown) => unexpected("serving an events.onEvent subscription", e));
  }

  private stopAll(): void {
    for (const stream of this.streams.values()) stream.abort();
  }

  /** One subscription, from "started" to "stopped", as tRPC's adapter runs it. */
  private async serve(msg: Subscribe): Promise<void> {
    if (this.streams.has(msg.id)) {
      this.fail(msg, new TRPCError({ code: "BAD_REQUEST", message: `Duplicate id ${msg.id}` }), undefined);
      return;
    }
    const stop = new AbortController();
    this.streams.set(msg.id, stop);
    const rawInput = inputOf(msg.params!);
    let sub: Subscription | undefined;
    let started = false;
    try {
      const input = onEventInput.parse(rawInput);
      // subscribed before the replay reads the store: nothing published meanwhile is lost
      sub = this.ctx.agent.bus.subscribe();
      this.send({ id: msg.id, jsonrpc: msg.jsonrpc, result: { type: "started" } });
      started = true;
      const stored = replay(this.ctx, input, stop.signal);
      let step = await stored.next();
      while (!step.done && !stop.signal.aborted) {
        this.data(msg, step.value);
        step = await stored.next();
      }
      if (step.done && step.value !== undefined && !stop.signal.aborted) await this.live(msg, sub, step.value, input, stop.signal);
    } catch (e) {
      this.fail(msg, toTRPCError(e), rawInput);
    } finally {
      sub?.close();
      this.streams.delete(msg.id);
    }
    // as tRPC: a subscription refused before it started (bad input) gets its error alone
    if (started) this.send({ id: msg.id, jsonrpc: msg.jsonrpc, result: { type: "stopped" } });
  }

  /** The live part: each event written as it is published, until a stop, a close or a resync. */
  private async live(msg: Subscribe, sub: Subscription, last: number, input: OnEventInput, stopped: AbortSignal): Promise<void> {
    const filter = new LiveFilter(last, input, this.ctx);
    let failure: Error | undefined;
    await new Promise<void>((ended) => {
      const end = () => {
        sub.close();
        ended();
      };
      stopped.addEventListener("abort", end, { once: true });
      try {
        sub.deliverTo((e) => {
          try {
            if (!filter.offer(e, (c) => this.data(msg, c))) end();
          } catch (err) {
            failure = err as Error;
            end();
          }
        });
      } catch (e) {
        // the queue overflowed during the replay
        if (e instanceof SlowSubscriber) this.data(msg, filter.overflowed(e));
        else failure = e as Error;
        end();
      }
    });
    if (failure !== undefined) throw failure;
  }

  private data(msg: Subscribe, c: CursorItem): void {
    const cursor = formatCursor(this.ctx.agent.store.storeId, c.seq);
    this.send({ id: msg.id, jsonrpc: msg.jsonrpc, result: { type: "data", data: { id: cursor, data: c.item }, id: cursor } });
  }

  private fail(msg: Subscribe, error: TRPCError, input: unknown): void {
    if (error.code === "INTERNAL_SERVER_ERROR") this.onError(error);
    const shape = getTRPCErrorShape({ config: appRouter._def._config, error, type: "subscription", path: PATH, input, ctx: this.ctx });
    this.send({ id: msg.id, jsonrpc: msg.jsonrpc, error: shape });
  }

  /** As tRPC's respond: nothing once the socket is closing. */
  private send(message: unknown): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(agentEncoder.encode(message));
  }
}
