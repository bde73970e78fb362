// The agent's API, composed. The dashboard imports `AppRouter` as a type only.
import { z } from "zod";
import { publicProcedure, router } from "./trpc.ts";
import { containersRouter } from "./routers/containers.ts";
import { eventsRouter } from "./routers/events.ts";
import { consoleRouter } from "./routers/console.ts";
import { metricsRouter } from "./routers/metrics.ts";
import { alertsRouter } from "./routers/alerts.ts";

export const appRouter = router({
  agent: router({
    info: publicProcedure.query(({ ctx }) => ctx.agent.info()),
  }),
  containers: containersRouter,
  events: eventsRouter,
  console: consoleRouter,
  metrics: metricsRouter,
  alerts: alertsRouter,
  audit: router({
    list: publicProcedure
      .input(z.object({ limit: z.number().int().min(1).max(5000).default(200), name: z.string().optional() }).optional())
      .query(({ ctx, input }) => ctx.agent.store.auditLog(input?.limit ?? 200, input?.name)),
  }),
});

export type AppRouter = typeof appRouter;
