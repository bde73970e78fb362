// containers.*: the container list and the lifecycle verbs.
import { z } from "zod";
import { ConfigError, DEFAULT_RESTART_POLICY, NAME_RE, RESTART_POLICIES, type EventCause } from "@corral/core";
import type { RuntimeVerbs } from "../service.ts";
import { TEMPLATES } from "../../containers/templates.ts";
import { mutationProcedure, publicProcedure, router } from "../trpc.ts";

const name = z.string().regex(NAME_RE, "a name is 1 to 64 of A-Z a-z 0-9 _ . - and starts with a letter or digit");
const byName = z.object({ name });

/** A verb on one container, caused by the caller; answers the container's summary after it. */
function verb(request: string, act: (runtime: RuntimeVerbs, name: string, cause: EventCause) => unknown) {
  return mutationProcedure.input(byName).mutation(async ({ ctx, input }) => {
    await act(ctx.agent.runtime, input.name, { actor: ctx.actor, request });
    return ctx.agent.summary(input.name);
  });
}

export const containersRouter = router({
  list: publicProcedure.query(({ ctx }) => ctx.agent.list()),

  get: publicProcedure.input(byName).query(({ ctx, input }) => ctx.agent.detail(input.name)),

  /**
   * Create from a template or LXC config text. The debian template (release, rootPassword,
   * sshKey) answers at once with `building: true` and builds in the background: follow it with
   * createProgress.
   */
  create: mutationProcedure
    .input(z.object({
      name,
      template: z.enum(TEMPLATES).optional(),
      config: z.string().max(1 << 20).optional(),
      release: z.string().max(32).optional(),
      rootPassword: z.string().max(256).optional(),
      sshKey: z.string().max(16384).optional(),
      unprivileged: z.boolean().optional(),
    }))
    .mutation(({ ctx, input }) => ctx.agent.create(input, { actor: ctx.actor, address: ctx.address })),

  /**
   * The progress lines of a create in the background after cursor `after` (pass back `next`),
   * and its outcome once `done`; null when no create of that name ran in the last 10 minutes.
   */
  createProgress: publicProcedure
    .input(z.object({ name, after: z.number().int().min(0).default(0) }))
    .query(({ ctx, input }) => ctx.agent.creates.progress(input.name, input.after) ?? null),

  delete: mutationProcedure.input(byName).mutation(({ ctx, input }) => {
    ctx.agent.delete(input.name);
    return { name: input.name };
  }),

  /**
   * The restart policy, kept beside the config: never, on-failure (restarts in a row up to
   * maxRestarts, waiting backoffMs, doubled each time up to maxBackoffMs) or always.
   */
  setRestartPolicy: mutationProcedure
    .input(z.object({
      name,
      policy: z.enum(RESTART_POLICIES),
      maxRestarts: z.number().int().min(1).max(1000).default(DEFAULT_RESTART_POLICY.maxRestarts),
      backoffMs: z.number().int().min(0).max(3_600_000).default(DEFAULT_RESTART_POLICY.backoffMs),
      maxBackoffMs: z.number().int().min(0).max(3_600_000).default(DEFAULT_RESTART_POLICY.maxBackoffMs),
    }))
    .mutation(({ ctx, input }) => {
      const { name: container, ...policy } = input;
      ctx.agent.setRestartPolicy(container, policy);
      return ctx.agent.summary(container);
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

  killNow: verb("kill now", (runtime, name, cause) => runtime.killNow(name, cause)),
  abort: verb("abort", (runtime, name, cause) => runtime.abort(name, cause)),
  reboot: verb("reboot", (runtime, name, cause) => runtime.reboot(name, cause)),
  freeze: verb("freeze", (runtime, name, cause) => runtime.freeze(name, cause)),
  unfreeze: verb("unfreeze", (runtime, name, cause) => runtime.unfreeze(name, cause)),

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
