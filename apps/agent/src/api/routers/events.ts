// events.*: the stored timeline, paged, and the live stream that resumes from a cursor.
import { tracked } from "@trpc/server";
import { z } from "zod";
import { formatCursor, parseCursor, type StreamItem } from "@corral/core";
import { SlowSubscriber } from "../bus.ts";
import { publicProcedure, router } from "../trpc.ts";

const REPLAY_PAGE = 5000;

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
            for (;;) {
              const page = store.events({ after: last, limit: REPLAY_PAGE });
              for (const e of page) {
                last = e.seq;
                if (wanted(e.container)) yield item(e.seq, { kind: "event", event: e });
              }
              if (page.length < REPLAY_PAGE) break;
            }
          }
        }
        try {
          for await (const e of sub) {
            if (e.seq <= last) continue;
            last = e.seq;
            if (wanted(e.container)) yield item(e.seq, { kind: "event", event: e });
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
