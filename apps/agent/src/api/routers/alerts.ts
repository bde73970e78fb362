// alerts.*: the alerts the agent raised (src/alerts): listed newest first with the count not yet
// acknowledged, acknowledged one by one, and live: each alert as it is raised, tracked by its id,
// so that a subscriber back with lastEventId first gets the stored alerts it missed.
import { tracked, TRPCError } from "@trpc/server";
import { z } from "zod";
import type { Alert } from "@corral/core";
import { mutationProcedure, publicProcedure, router } from "../trpc.ts";

/** Alerts queued for a subscriber that reads slowly; past this it is cut off and resumes from the store. */
const MAX_QUEUED_ALERTS = 1000;

const id = z.number().int().min(1);

export const alertsRouter = router({
  list: publicProcedure
    .input(z.object({ unacknowledged: z.boolean().optional(), limit: z.number().int().min(1).max(1000).default(100), before: id.optional() }).optional())
    .query(({ ctx, input }) => ctx.agent.alerts.list({ unacknowledged: input?.unacknowledged, limit: input?.limit ?? 100, before: input?.before })),

  // audited, as every mutation: who acknowledged what
  acknowledge: mutationProcedure
    .input(z.object({ id }))
    .mutation(({ ctx, input }) => {
      const alert = ctx.agent.alerts.acknowledge(input.id, ctx.actor);
      if (!alert) throw new TRPCError({ code: "NOT_FOUND", message: `no alert ${input.id}` });
      return alert;
    }),

  onAlert: publicProcedure
    .input(z.object({ lastEventId: z.string().regex(/^\d{1,16}$/).nullish() }).optional())
    .subscription(async function* ({ ctx, input, signal }) {
      const queue: Alert[] = [];
      let wake: (() => void) | undefined;
      const state = { overflowed: false };
      const off = ctx.agent.alerts.onAlert((alert) => {
        if (queue.length >= MAX_QUEUED_ALERTS) state.overflowed = true;
        else queue.push(alert);
        wake?.();
      });
      signal?.addEventListener("abort", () => wake?.());
      try {
        let last = input?.lastEventId ? Number(input.lastEventId) : undefined;
        if (last !== undefined) {
          // in the same turn as the listener above: an alert is either replayed or queued
          for (const alert of ctx.agent.alerts.since(last)) {
            last = alert.id;
            yield tracked(String(alert.id), alert);
          }
        }
        while (!signal?.aborted) {
          if (state.overflowed) throw new TRPCError({ code: "TOO_MANY_REQUESTS", message: "subscriber fell too far behind; resubscribe with lastEventId" });
          const alert = queue.shift();
          if (alert === undefined) {
            await new Promise<void>((r) => (wake = r));
            continue;
          }
          // an alert the store could not keep has id 0: delivered live, not resumable
          if (alert.id === 0 || last === undefined || alert.id > last) {
            if (alert.id !== 0) last = alert.id;
            yield tracked(String(alert.id), alert);
          }
        }
      } finally {
        off();
      }
    }),
});
