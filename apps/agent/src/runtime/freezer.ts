// lxc-freeze and lxc-unfreeze: the cgroup freezer, with FREEZING and FROZEN, or THAWED and
// RUNNING, recorded as the cgroup agrees.
import type { EventCause, StateName } from "@corral/core";
import type { RuntimeContext } from "./context.ts";
import type { Instance } from "./instance.ts";

/** How long a freeze may take to hold before it is reported as it stands. */
const FREEZE_WAIT_MS = 5000;

export async function freeze(ctx: RuntimeContext, inst: Instance, cause: EventCause): Promise<void> {
  ctx.journal.request(inst, "FREEZING", cause);
  try {
    inst.cgroup!.setFrozen(true);
  } catch (e) {
    ctx.journal.record(inst, "RUNNING", cause, { error: { step: "freeze", message: (e as Error).message } });
    throw e;
  }
  await waitFor(() => inst.cgroup === undefined || inst.cgroup.isFrozen(), FREEZE_WAIT_MS);
  if (inst.state === "FREEZING") ctx.journal.record(inst, "FROZEN", cause);
}

/** Thawing goes through whatever the store says: it lets the container go on, or be stopped. */
export function unfreeze(ctx: RuntimeContext, inst: Instance, cause: EventCause): void {
  inst.cgroup!.setFrozen(false);
  ctx.journal.record(inst, "THAWED", cause);
  ctx.journal.record(inst, "RUNNING", cause);
}

/**
 * What an LXC tool says it did to the freezer (lxc-freeze and lxc-unfreeze write it themselves,
 * then tell the command socket: SERVE_STATE_CLIENTS), recorded once the cgroup agrees: FREEZING
 * and FROZEN, or THAWED and RUNNING. A notice the cgroup does not bear out changes nothing.
 */
export function noteFreezer(ctx: RuntimeContext, inst: Instance, state: StateName, cause: EventCause): void {
  if (!inst.cgroup) return;
  const frozen = inst.cgroup.isFrozen();
  const record = (s: StateName) => ctx.journal.record(inst, s, cause);
  if (state === "FREEZING" && inst.state === "RUNNING") record("FREEZING");
  else if (state === "FROZEN" && frozen && (inst.state === "RUNNING" || inst.state === "FREEZING")) {
    if (inst.state === "RUNNING") record("FREEZING");
    record("FROZEN");
  } else if (state === "THAWED" && !frozen && inst.state === "FROZEN") record("THAWED");
  else if (state === "RUNNING" && !frozen && (inst.state === "THAWED" || inst.state === "FREEZING" || inst.state === "FROZEN")) {
    if (inst.state === "FROZEN") record("THAWED");
    record("RUNNING");
  }
}

async function waitFor(done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
}
