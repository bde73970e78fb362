// metrics.*: resource samples (src/metrics). A range of one container's series or the host's, and
// the live ticks: the recent window after the caller's cursor, then each tick as it is taken.
import { tracked } from "@trpc/server";
import { z } from "zod";
import { HISTORY_KEEP_MS, NAME_RE, type SampleTick } from "@corral/core";
import { HOST } from "../../metrics/sampler.ts";
import { publicProcedure, router } from "../trpc.ts";

/** Ticks queued for a subscriber that reads slowly; past this the oldest are dropped (the next range query fills the gap). */
const MAX_QUEUED_TICKS = 30;

const time = z.number().int().min(0);

function only(tick: SampleTick, container: string | undefined): SampleTick {
  if (container === undefined) return tick;
  const s = tick.containers[container];
  return { ...tick, containers: s ? { [container]: s } : {} };
}

export const metricsRouter = router({
  /**
   * One container's samples (or, without `container`, the host's: the sum over its running
   * containers, with the host's memory as the limit) over [from, to): 2 s points from the last
   * 10 minutes, 1-minute points from the store before that (kept 24 h), at most 1,500 points.
   */
  range: publicProcedure
    .input(z.object({ container: z.string().regex(NAME_RE).optional(), from: time, to: time })
      .refine((q) => q.to > q.from, { message: "to must be after from", path: ["to"] })
      .refine((q) => q.to - q.from <= 2 * HISTORY_KEEP_MS, { message: "at most 48 hours at a time", path: ["from"] }))
    .query(({ ctx, input }) => ({ container: input.container ?? null, ...ctx.agent.sampler.range(input.container ?? HOST, input.from, input.to) })),

  /**
   * Every tick (all running containers and the host, or one container and the host), with its time
   * in ms as the tracked id: a subscriber back with lastEventId (or `since`, ms) first gets the
   * ticks of the recent window after it.
   */
  onSample: publicProcedure
    .input(z.object({ container: z.string().regex(NAME_RE).optional(), since: time.optional(), lastEventId: z.string().regex(/^\d{1,16}$/).nullish() }))
    .subscription(async function* ({ ctx, input, signal }) {
      const queue: SampleTick[] = [];
      let wake: (() => void) | undefined;
      const off = ctx.agent.sampler.onTick((tick) => {
        queue.push(only(tick, input.container));
        if (queue.length > MAX_QUEUED_TICKS) queue.shift();
        wake?.();
      });
      signal?.addEventListener("abort", () => wake?.());
      try {
        const after = input.lastEventId ? Number(input.lastEventId) : input.since;
        let last = -1;
        if (after !== undefined) {
          // in the same turn as the listener above: a tick is either replayed or queued, never both or neither
          for (const tick of ctx.agent.sampler.ticksAfter(after, input.container)) {
            last = tick.t;
            yield tracked(String(tick.t), tick);
          }
        }
        while (!signal?.aborted) {
          const tick = queue.shift();
          if (tick === undefined) {
            await new Promise<void>((r) => (wake = r));
            continue;
          }
          if (tick.t > last) yield tracked(String(tick.t), tick);
        }
      } finally {
        off();
      }
    }),
});
