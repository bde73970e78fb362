// After an agent restart: a container that was running died with the agent (PDEATHSIG, as in
// LXC). What its timeline says it held is found and removed, and it is recorded STOPPED.
import type { EventCause } from "@corral/core";
import { removeBootId } from "./boot-id.ts";
import { ContainerCgroup } from "./cgroups.ts";
import type { RuntimeContext } from "./context.ts";
import type { Instance, Leftover } from "./instance.ts";
import { deleteLinks } from "./network.ts";
import { expected } from "../errors.ts";

export async function recoverLeftover(ctx: RuntimeContext, inst: Instance, left: Leftover, cause: EventCause): Promise<void> {
  if (left.cgroup) {
    const cg = new ContainerCgroup(ctx.sys, ctx.host.files, ctx.hierarchies, left.cgroup);
    if (left.cgroupMade) {
      try {
        cg.killAll();
      } catch (e) {
        expected(e, ["ENOENT", "ENODEV"], `killing what is left in ${left.cgroup}`); // nothing left to kill
      }
      await cg.remove();
    } else {
      // Only planned (the start died before RUNNING): maybe never made, and then perhaps taken
      // since by another lxcpath's container. Remove it only if nothing runs in it.
      cg.destroy();
    }
    removeBootId(ctx.host.files, left.cgroup);
  }
  if (left.veths?.length) deleteLinks(ctx.sys, left.veths);
  ctx.journal.record(inst, "STOPPED", cause, { note: "was running when the agent stopped; its leftovers were removed", lostPid: left.pid });
}
