// The agent procedures the browser may ask the dashboard's server to relay, and their types.
// Pure: used by the relay route (allowlist) and by the browser (typed calls).
import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "@corral/agent/router";

type In = inferRouterInputs<AppRouter>;
type Out = inferRouterOutputs<AppRouter>;

export const RELAYED = {
  "agent.info": "query",
  "containers.list": "query",
  "containers.get": "query",
  "containers.checkConfig": "query",
  "containers.create": "mutation",
  "containers.setRestartPolicy": "mutation",
  "containers.createProgress": "query",
  "containers.delete": "mutation",
  "containers.start": "mutation",
  "containers.stop": "mutation",
  "containers.killNow": "mutation",
  "containers.abort": "mutation",
  "containers.reboot": "mutation",
  "containers.freeze": "mutation",
  "containers.unfreeze": "mutation",
  "events.list": "query",
  "console.history": "query",
  "console.write": "mutation",
  "audit.list": "query",
  "metrics.range": "query",
  "alerts.list": "query",
  "alerts.acknowledge": "mutation",
} as const;

export type RelayedPath = keyof typeof RELAYED;

type Split<P extends string> = P extends `${infer A}.${infer B}` ? [A, B] : never;
type Pick2<T, P extends string> = Split<P> extends [infer A extends keyof T, infer B] ? (B extends keyof T[A] ? T[A][B] : never) : never;

export type InputOf<P extends RelayedPath> = Pick2<In, P>;
export type OutputOf<P extends RelayedPath> = Pick2<Out, P>;

export function isRelayed(path: unknown): path is RelayedPath {
  return typeof path === "string" && Object.hasOwn(RELAYED, path);
}

/** What the relay answers on failure. */
export interface RelayError {
  error: { message: string; code: string };
}

export type AuditEntry = OutputOf<"audit.list">[number];

export type AlertItem = OutputOf<"alerts.list">["alerts"][number];
