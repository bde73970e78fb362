// events.*: the stored timeline, paged, and the live stream that resumes from a cursor. The
// stream's parts (replay, live filter) are shared with the WebSocket lane (api/event-lane.ts),
// which serves events.onEvent over WebSocket without tRPC's per-item machinery.
import { tracked } from "@trpc/server";
import { z } from "zod";
import { formatCursor, parseCursor, type StateEvent, type StreamItem } from "@corral/core";
import { jsonLogger } from "../../log.ts";
import { SlowSubscriber } from "../../bus.ts";
import { publicProcedure, router, type Context } from "../trpc.ts";

/** Events replayed between two turns of the event loop: a replay never holds the loop for long. */
export const REPLAY_PAGE = 500;
/**
 * Bytes a subscriber may leave unread in its connection's buffer. A replay waits for it to drain
 * (up to REPLAY_STALL_MS); a live subscriber past it is cut off with a resync after what it got.
 */
export const MAX_SUBSCRIBER_BACKLOG = 1024 * 1024;
const REPLAY_STALL_MS = 30_000;

export const onEventInput = z.object({ container: z.string().optional(), lastEventId: z.string().nullish() }).optional();
export type OnEventInput = z.infer<typeof onEventInput>;

/** An item of the stream and the seq its cursor names. */
export interface CursorItem {
  seq: number;
  item: StreamItem;
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Waits until the caller has read its backlog down below the cap; false if it does not in time. */
async function drained(backlog: (() => number) | undefined, signal: AbortSignal | undefined, onWait: (backlog: number) => void): Promise<boolean> {
  if (!backlog || backlog() <= MAX_SUBSCRIBER_BACKLOG / 2) return true;
  onWait(backlog());
  const until = Date.now() + REPLAY_STALL_MS;
  while (backlog() > MAX_SUBSCRIBER_BACKLOG / 2) {
    if (signal?.aborted) return true;
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

const resync = (storeId: string, seq: number, reason: string): CursorItem => ({ seq, item: { kind: "resync", reason, storeId, lastSeq: seq } });

/**
 * The stored part of a subscription: what the store holds after the caller's cursor, in pages,
 * each in a turn of the loop of its own and no faster than the caller reads. Returns the last seq
 * it covered, from which the live part goes on; or undefined after a resync, which ends the stream.
 */
export async function* replay(ctx: Context, input: OnEventInput, signal: AbortSignal | undefined): AsyncGenerator<CursorItem, number | undefined> {
  const store = ctx.agent.store;
  let last = store.lastSeq();
  if (!input?.lastEventId) return last;
  const cursor = parseCursor(input.lastEventId);
  if (!cursor || cursor.storeId !== store.storeId || cursor.seq > last) {
    yield resync(store.storeId, last, "the cursor is from another store");
    return last;
  }
  last = cursor.seq;
  let waited = false;
  const onWait = (backlog: number) => {
    if (!waited) jsonLogger.info("a replay waits for its subscriber to read", { address: ctx.address, backlog, seq: last });
    waited = true;
  };
  for (;;) {
    const page = store.events({ after: last, limit: REPLAY_PAGE });
    for (const e of page) {
      last = e.seq;
      if (wanted(input, e)) yield { seq: e.seq, item: { kind: "event", event: e } };
    }
    if (page.length < REPLAY_PAGE || signal?.aborted) return last;
    await nextTurn();
    if (!(await drained(ctx.backlog, signal, onWait))) {
      jsonLogger.info("a replay's subscriber did not read: resync", { address: ctx.address, seq: last });
      yield resync(store.storeId, last, "the subscriber did not read its replay");
      return undefined;
    }
  }
}

function wanted(input: OnEventInput, e: StateEvent): boolean {
  return input?.container === undefined || input.container === e.container;
}

/**
 * The live part of a subscription, after `last`: each published event once, for the containers
 * asked for, and a resync once the caller's unread backlog passes MAX_SUBSCRIBER_BACKLOG.
 */
export class LiveFilter {
  constructor(private last: number, private readonly input: OnEventInput, private readonly ctx: Context) {}

  /** What `e` adds to the stream, through `send`; false once the stream has ended (a resync went). */
  offer(e: StateEvent, send: (c: CursorItem) => void): boolean {
    if (e.seq <= this.last) return true;
    this.last = e.seq;
    if (wanted(this.input, e)) send({ seq: e.seq, item: { kind: "event", event: e } });
    if ((this.ctx.backlog?.() ?? 0) <= MAX_SUBSCRIBER_BACKLOG) return true;
    send(resync(this.ctx.agent.store.storeId, this.last, "subscriber fell too far behind (its unread backlog passed the limit); resync from the last cursor"));
    return false;
  }

  /** The resync of a subscriber whose queue overflowed (SlowSubscriber). */
  overflowed(e: SlowSubscriber): CursorItem {
    return resync(this.ctx.agent.store.storeId, this.last, e.message);
  }
}

export const eventsRouter = router({
  list: publicProcedure
    .input(z.object({
      container: z.string().optional(),
      after: z.number().int().min(0).optional(),
      before: z.number().int().min(0).optional(),
      limit: z.number().int().min(1).max(100_000).default(1000),
    }))
    .query(({ ctx, input }) => ({ storeId: ctx.agent.store.storeId, events: ctx.agent.events(input) })),

  /**
   * Subscribe first, then replay what the store holds after the cursor, then go live: nothing
   * between the replay and the live part can be lost, and duplicates are skipped by seq. Over
   * WebSocket the lane serves it (api/event-lane.ts); this is the same stream for the others.
   */
  onEvent: publicProcedure
    .input(onEventInput)
    .subscription(async function* ({ ctx, input, signal }) {
      const storeId = ctx.agent.store.storeId;
      const sub = ctx.agent.bus.subscribe();
      signal?.addEventListener("abort", () => sub.close());
      const item = (c: CursorItem) => tracked(formatCursor(storeId, c.seq), c.item);
      try {
        const stored = replay(ctx, input, signal);
        let step = await stored.next();
        for (; !step.done; step = await stored.next()) yield item(step.value);
        if (step.value === undefined) return;
        const live = new LiveFilter(step.value, input, ctx);
        const out: CursorItem[] = [];
        try {
          for (;;) {
            const e = sub.take();
            if (e === undefined) {
              if (sub.closed) return;
              await sub.arrival();
              continue;
            }
            const going = live.offer(e, (c) => out.push(c));
            for (const c of out.splice(0)) yield item(c);
            if (!going) return;
          }
        } catch (e) {
          if (!(e instanceof SlowSubscriber)) throw e;
          yield item(live.overflowed(e));
        }
      } finally {
        sub.close();
      }
    }),
});
