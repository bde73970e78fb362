// events.*: the stored timeline, paged, and the live stream that resumes from a cursor.
import { tracked } from "@trpc/server";
import { z } from "zod";
import { formatCursor, parseCursor, type StreamItem } from "@corral/core";
import { jsonLogger } from "../../log.ts";
import { SlowSubscriber } from "../../bus.ts";
import { publicProcedure, router } from "../trpc.ts";

/** Events replayed between two turns of the event loop: a replay never holds the loop for long. */
export const REPLAY_PAGE = 500;
/**
 * Bytes a subscriber may leave unread in its connection's buffer. A replay waits for it to drain
 * (up to REPLAY_STALL_MS); a live subscriber past it is cut off with a resync after what it got.
 */
export const MAX_SUBSCRIBER_BACKLOG = 1024 * 1024;
const REPLAY_STALL_MS = 30_000;

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
   * between the replay and the live part can be lost, and duplicates are skipped by seq.
   */
  onEvent: publicProcedure
    .input(z.object({ container: z.string().optional(), lastEventId: z.string().nullish() }).optional())
    .subscription(async function* ({ ctx, input, signal }) {
      const store = ctx.agent.store;
      const sub = ctx.agent.bus.subscribe();
      signal?.addEventListener("abort", () => sub.close());
      const wanted = (c: string) => input?.container === undefined || input.container === c;
      const item = (seq: number, value: StreamItem) => tracked(formatCursor(store.storeId, seq), value);
      try {
        let last = store.lastSeq();
        if (input?.lastEventId) {
          const cursor = parseCursor(input.lastEventId);
          if (!cursor || cursor.storeId !== store.storeId || cursor.seq > last) {
            yield item(last, { kind: "resync", reason: "the cursor is from another store", storeId: store.storeId, lastSeq: last });
          } else {
            last = cursor.seq;
            let waited = false;
            const onWait = (backlog: number) => {
              if (!waited) jsonLogger.info("a replay waits for its subscriber to read", { address: ctx.address, backlog, seq: last });
              waited = true;
            };
            // in pages, each in a turn of the loop of its own, and no faster than the caller reads
            for (;;) {
              const page = store.events({ after: last, limit: REPLAY_PAGE });
              for (const e of page) {
                last = e.seq;
                if (wanted(e.container)) yield item(e.seq, { kind: "event", event: e });
              }
              if (page.length < REPLAY_PAGE || signal?.aborted) break;
              await nextTurn();
              if (!(await drained(ctx.backlog, signal, onWait))) {
                jsonLogger.info("a replay's subscriber did not read: resync", { address: ctx.address, seq: last });
                yield item(last, { kind: "resync", reason: "the subscriber did not read its replay", storeId: store.storeId, lastSeq: last });
                return;
              }
            }
          }
        }
        try {
          for (;;) {
            const e = sub.take();
            if (e === undefined) {
              if (sub.closed) return;
              await sub.arrival();
              continue;
            }
            if (e.seq <= last) continue;
            last = e.seq;
            if (wanted(e.container)) yield item(e.seq, { kind: "event", event: e });
            if ((ctx.backlog?.() ?? 0) > MAX_SUBSCRIBER_BACKLOG) {
              yield item(last, { kind: "resync", reason: "subscriber fell too far behind (its unread backlog passed the limit); resync from the last cursor", storeId: store.storeId, lastSeq: last });
              return;
            }
          }
        } catch (e) {
          if (!(e instanceof SlowSubscriber)) throw e;
          yield item(last, { kind: "resync", reason: e.message, storeId: store.storeId, lastSeq: last });
        }
      } finally {
        sub.close();
      }
    }),
});
