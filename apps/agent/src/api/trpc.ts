// tRPC setup: the context every call gets, and the procedures. Authentication happens before a
// request reaches tRPC (server.ts): here the caller is already known. Every mutation is audited
// with its result, and runtime refusals become clear tRPC errors.
import { initTRPC, TRPCError } from "@trpc/server";
import { ContainerNotFound, InvalidName } from "../runtime/lxcpath.ts";
import { Refusal } from "../runtime/runtime.ts";
import { StartError } from "../runtime/spawn.ts";
import type { Agent } from "../agent.ts";

export interface Context {
  agent: Agent;
  /** who asked: "api", or the dashboard user it relays for ("dashboard:alice") */
  actor: string;
  /** the peer address */
  address: string;
}

const t = initTRPC.context<Context>().create();

export const router = t.router;

/** Runtime and store errors, as the API reports them. */
export function toTRPCError(e: unknown): TRPCError {
  if (e instanceof TRPCError) return e;
  if (e instanceof Refusal) return new TRPCError({ code: e.code, message: e.message });
  if (e instanceof ContainerNotFound) return new TRPCError({ code: "NOT_FOUND", message: e.message });
  if (e instanceof InvalidName) return new TRPCError({ code: "BAD_REQUEST", message: e.message });
  if (e instanceof StartError) return new TRPCError({ code: "INTERNAL_SERVER_ERROR", message: `start failed at ${e.step}: ${e.message}`, cause: e });
  return new TRPCError({ code: "INTERNAL_SERVER_ERROR", message: e instanceof Error ? e.message : String(e) });
}

const errors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok) throw toTRPCError(result.error.cause ?? result.error);
  return result;
});

/** Secrets in a request are never written to the audit log (a create's root password). */
const SECRET_KEYS = new Set(["rootPassword"]);
function hideSecrets(key: string, value: unknown): unknown {
  return SECRET_KEYS.has(key) && value !== undefined ? "(hidden)" : value;
}

/** Writes one audit line per mutation: actor, address, what, on which container, and the outcome. */
const audited = t.middleware(async ({ ctx, path, getRawInput, next }) => {
  const input = (await getRawInput().catch(() => undefined)) as { name?: unknown } | undefined;
  const target = typeof input?.name === "string" ? input.name : null;
  const result = await next();
  const error = result.ok ? undefined : toTRPCError(result.error.cause ?? result.error);
  ctx.agent.store.audit({
    actor: ctx.actor,
    address: ctx.address,
    action: path,
    target,
    result: result.ok ? "ok" : error!.code === "INTERNAL_SERVER_ERROR" ? "error" : "refused",
    detail: error ? error.message : JSON.stringify(input ?? null, hideSecrets).slice(0, 2000),
  });
  return result;
});

/**
 * One turn of the event loop before a mutation runs. A client's burst of calls arrives as many
 * WebSocket frames that ws parses in one go; without this, every start in the burst would run its
 * synchronous part before any event it produced reached a subscriber (events are sent from
 * microtasks, which wait for the whole burst). Measured: fan-out p50 13 ms during 50 starts.
 */
const fair = t.middleware(async ({ next }) => {
  await new Promise<void>((resolve) => setImmediate(resolve));
  return next();
});

export const publicProcedure = t.procedure.use(errors);
export const mutationProcedure = t.procedure.use(fair).use(audited).use(errors);
