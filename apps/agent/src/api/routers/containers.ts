// containers.*: the container list and the lifecycle verbs.
import { z } from "zod";
import { ConfigError, NAME_RE } from "@corral/core";
import { mutationProcedure, publicProcedure, router } from "../trpc.ts";

const name = z.string().regex(NAME_RE, "a name is 1 to 64 of A-Z a-z 0-9 _ . - and starts with a letter or digit");
const byName = z.object({ name });

export const containersRouter = router({
  list: publicProcedure.query(({ ctx }) => ctx.agent.list()),

  get: publicProcedure.input(byName).query(({ ctx, input }) => ctx.agent.detail(input.name)),

  create: mutationProcedure
    .input(z.object({ name, template: z.enum(["host", "busybox"]).optional(), config: z.string().max(1 << 20).optional() }))
    .mutation(({ ctx, input }) => ctx.agent.create(input)),

  delete: mutationProcedure.input(byName).mutation(({ ctx, input }) => {
    ctx.agent.delete(input.name);
    return { name: input.name };
  }),

  start: mutationProcedure
    .input(z.object({ name, command: z.array(z.string()).max(256).optional() }))
    .mutation(async ({ ctx, input }) => {
      await ctx.agent.runtime.start(input.name, { command: input.command, cause: { actor: ctx.actor, request: "start" } });
      return ctx.agent.summary(input.name);
    }),

  stop: mutationProcedure
    .input(z.object({ name, timeout: z.number().min(0).max(3600).default(10), kill: z.boolean().default(false), wait: z.boolean().default(true) }))
    .mutation(async ({ ctx, input }) => {
      const cause = { actor: ctx.actor, request: input.kill ? "stop --kill" : `stop --timeout ${input.timeout}` };
      const stopped = ctx.agent.runtime.stop(input.name, { cause, timeoutMs: input.kill ? 0 : input.timeout * 1000 });
      if (input.wait) await stopped;
      return ctx.agent.summary(input.name);
    }),

  killNow: mutationProcedure.input(byName).mutation(async ({ ctx, input }) => {
    await ctx.agent.runtime.killNow(input.name, { actor: ctx.actor, request: "kill now" });
    return ctx.agent.summary(input.name);
  }),

  abort: mutationProcedure.input(byName).mutation(async ({ ctx, input }) => {
    await ctx.agent.runtime.abort(input.name, { actor: ctx.actor, request: "abort" });
    return ctx.agent.summary(input.name);
  }),

  reboot: mutationProcedure.input(byName).mutation(({ ctx, input }) => {
    ctx.agent.runtime.reboot(input.name, { actor: ctx.actor, request: "reboot" });
    return ctx.agent.summary(input.name);
  }),

  freeze: mutationProcedure.input(byName).mutation(async ({ ctx, input }) => {
    await ctx.agent.runtime.freeze(input.name, { actor: ctx.actor, request: "freeze" });
    return ctx.agent.summary(input.name);
  }),

  unfreeze: mutationProcedure.input(byName).mutation(({ ctx, input }) => {
    ctx.agent.runtime.unfreeze(input.name, { actor: ctx.actor, request: "unfreeze" });
    return ctx.agent.summary(input.name);
  }),

  /** Check LXC config text without writing anything: the parser's error names the line. */
  checkConfig: publicProcedure.input(z.object({ name, config: z.string().max(1 << 20) })).query(({ ctx, input }) => {
    try {
      return { ok: true as const, warnings: ctx.agent.checkConfig(input.name, input.config) };
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      // The line is in `file`: the pasted text, or a file it includes.
      return { ok: false as const, message: `${e.key}: ${e.reason}`, line: e.line, key: e.key, file: e.file };
    }
  }),
});
