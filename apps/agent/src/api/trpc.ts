// tRPC setup: the context every call gets, and the procedures. Authentication happens before a
// request reaches tRPC (server.ts): here the caller is already known. Every mutation is audited
// with its result, and runtime refusals become clear tRPC errors. What leaves the process is a
// code, a status and a message: bad input is a 400 naming the field, a full disk a 507, and no
// error carries a stack trace (isDev off, and the formatter keeps only what it names).
import { initTRPC, TRPCError } from "@trpc/server";
import { TRPC_ERROR_CODES_BY_KEY } from "@trpc/server/rpc";
import { ZodError } from "zod";
import { ConfigError } from "@corral/core";
import { ConfigFileRefused, ContainerNotFound, InvalidName } from "../containers/lxcpath.ts";
import { NotStored, Refusal } from "../runtime/runtime.ts";
import { StartError } from "../runtime/spawn.ts";
import { isStorageError, StorageFull } from "../store/store.ts";
import type { AgentService } from "./service.ts";
import { expected, unexpected } from "../errors.ts";

export interface Context {
  agent: AgentService;
  /** who asked: "api", or the dashboard user it relays for ("dashboard:alice") */
  actor: string;
  /** the peer address */
  address: string;
  /** bytes written to this caller and not yet taken by it (a WebSocket's or a response's buffer) */
  backlog?: () => number;
}

export interface Meta {
  /** what the audit log says of a successful call instead of its input (console keystrokes) */
  auditDetail?: (input: unknown) => string;
}

/** The HTTP status of an error whose store could not be written. */
export const INSUFFICIENT_STORAGE = 507;

/** A zod error as one sentence per field: "name: a name is 1 to 64 of ...; timeout: Expected number". */
export function describeInputError(e: ZodError): string {
  const parts = e.issues.slice(0, 5).map((i) => `${i.path.length > 0 ? i.path.join(".") : "input"}: ${i.message}`);
  if (e.issues.length > 5) parts.push(`and ${e.issues.length - 5} more`);
  return `bad input: ${parts.join("; ")}`.slice(0, 1000);
}

/** An input so deeply nested that reading it overflowed the stack: the caller's fault, a 400. */
function tooDeep(e: unknown): boolean {
  return e instanceof RangeError && /call stack/i.test(e.message);
}

const t = initTRPC.context<Context>().meta<Meta>().create({
  isDev: false,
  errorFormatter({ shape, error }) {
    const storage = isStorageError(error.cause) || error.cause instanceof NotStored;
    const deep = tooDeep(error.cause);
    const message = error.cause instanceof ZodError ? describeInputError(error.cause) : deep ? "bad input: nested too deeply" : error.message;
    return {
      message,
      code: deep ? TRPC_ERROR_CODES_BY_KEY.BAD_REQUEST : shape.code,
      data: {
        code: deep ? ("BAD_REQUEST" as const) : shape.data.code,
        httpStatus: storage ? INSUFFICIENT_STORAGE : deep ? 400 : shape.data.httpStatus,
        ...(shape.data.path === undefined ? {} : { path: shape.data.path }),
        ...(storage ? { reason: "INSUFFICIENT_STORAGE" } : {}),
      },
    };
  },
});

export const router = t.router;

/** Runtime and store errors, as the API reports them. */
export function toTRPCError(e: unknown): TRPCError {
  if (e instanceof TRPCError) {
    if (e.cause instanceof ZodError) return new TRPCError({ code: "BAD_REQUEST", message: describeInputError(e.cause), cause: e.cause });
    // tRPC's own refusals (a wrong method, a bad body) are kept; an internal error is looked into
    if (e.code !== "INTERNAL_SERVER_ERROR" || e.cause === undefined || e.cause instanceof TRPCError) return e;
    return toTRPCError(e.cause);
  }
  if (e instanceof ZodError) return new TRPCError({ code: "BAD_REQUEST", message: describeInputError(e), cause: e });
  if (tooDeep(e)) return new TRPCError({ code: "BAD_REQUEST", message: "bad input: nested too deeply", cause: e });
  if (e instanceof Refusal) return new TRPCError({ code: e.code, message: e.message });
  if (e instanceof ContainerNotFound) return new TRPCError({ code: "NOT_FOUND", message: e.message });
  if (e instanceof InvalidName) return new TRPCError({ code: "BAD_REQUEST", message: e.message });
  // a stored config that no longer parses (an include turned into a FIFO since): the config's fault, at its line
  if (e instanceof ConfigError || e instanceof ConfigFileRefused) return new TRPCError({ code: "BAD_REQUEST", message: e.message });
  // the runtime refused a start or freeze whose first change the store could not take
  if (e instanceof NotStored) return new TRPCError({ code: "SERVICE_UNAVAILABLE", message: e.message, cause: e });
  if (isStorageError(e)) {
    const full = e instanceof StorageFull ? e : new StorageFull("doing this", e);
    return new TRPCError({ code: "SERVICE_UNAVAILABLE", message: full.message, cause: full });
  }
  if (e instanceof StartError) return new TRPCError({ code: "INTERNAL_SERVER_ERROR", message: `start failed at ${e.step}: ${e.message}`, cause: e });
  return new TRPCError({ code: "INTERNAL_SERVER_ERROR", message: e instanceof Error ? e.message : String(e) });
}

const errors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok) throw toTRPCError(result.error);
  return result;
});

/** Secrets in a request are never written to the audit log (a create's root password). */
const SECRET_KEYS = new Set(["rootPassword"]);
function hideSecrets(key: string, value: unknown): unknown {
  return SECRET_KEYS.has(key) && value !== undefined ? "(hidden)" : value;
}

/**
 * One audit line per mutation: actor, address, what, on which container, and the outcome. The
 * line is written before the mutation runs and settled after it: a store that cannot take the
 * line refuses the mutation (507) before anything is done.
 */
const audited = t.middleware(async ({ ctx, path, meta, getRawInput, next }) => {
  const input = (await getRawInput().catch(() => undefined)) as { name?: unknown } | undefined;
  const target = typeof input?.name === "string" ? input.name : null;
  const described = meta?.auditDetail ? safeDetail(meta.auditDetail, input) : JSON.stringify(input ?? null, hideSecrets);
  let id: number;
  try {
    id = ctx.agent.store.audit({ actor: ctx.actor, address: ctx.address, action: path, target, result: "error", detail: "started; no outcome recorded (yet)" });
  } catch (e) {
    throw toTRPCError(e);
  }
  const result = await next();
  const error = result.ok ? undefined : toTRPCError(result.error);
  try {
    ctx.agent.store.settleAudit(id, result.ok ? "ok" : error!.code === "INTERNAL_SERVER_ERROR" ? "error" : "refused", error ? error.message : described);
  } catch (e) {
    // what was done is done and is answered; the line keeps saying it has no outcome
    expected(e, [StorageFull], `settling the audit line of ${path}`);
  }
  return result;
});

function safeDetail(describe: (input: unknown) => string, input: unknown): string {
  try {
    return describe(input);
  } catch (e) {
    unexpected("describing a request for the audit log", e);
    return "(input not described)";
  }
}

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
