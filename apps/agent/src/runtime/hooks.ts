// LXC's host-side hooks (lxc.container.conf(5)): lxc.hook.pre-start runs on the host before the
// container is made, lxc.hook.post-stop after it is gone. As in LXC, each hook runs through
// /bin/sh -c with the container's name, "lxc" and the hook type appended, and LXC's environment
// (LXC_NAME, LXC_CONFIG_FILE, LXC_ROOTFS_PATH, LXC_HOOK_TYPE, ...). Runs in the host's namespaces.
import type { HostProcesses } from "../host/host.ts";

export type HookType = "pre-start" | "post-stop";

export interface HookContext {
  name: string;
  configFile: string;
  rootfs: string;
}

export class HookError extends Error {
  constructor(readonly hook: string, readonly type: HookType, message: string) {
    super(`lxc.hook.${type} "${hook}": ${message}`);
    this.name = "HookError";
  }
}

/** The hooks' environment, as LXC sets it. Pure. */
export function hookEnvironment(type: HookType, ctx: HookContext): Record<string, string> {
  return {
    LXC_NAME: ctx.name,
    LXC_CONFIG_FILE: ctx.configFile,
    LXC_ROOTFS_PATH: ctx.rootfs,
    LXC_ROOTFS_MOUNT: ctx.rootfs,
    LXC_HOOK_TYPE: type,
    LXC_HOOK_SECTION: "lxc",
    LXC_HOOK_VERSION: "0",
  };
}

const HOOK_TIMEOUT_MS = 60_000;

/** Run the hooks in order; the first that fails (or runs past a minute) throws a HookError. */
export async function runHooks(processes: HostProcesses, type: HookType, hooks: readonly string[], ctx: HookContext): Promise<void> {
  for (const hook of hooks) {
    const result = await processes.run("/bin/sh", ["-c", `${hook} "$@"`, "sh", ctx.name, "lxc", type], {
      env: { ...process.env, ...hookEnvironment(type, ctx) },
      timeoutMs: HOOK_TIMEOUT_MS,
    });
    if (result.code === 0) continue;
    const why = result.timedOut ? "did not finish within a minute" : `failed (${result.code ?? result.signal}): ${result.stderr.trim().slice(-300)}`;
    throw new HookError(hook, type, why);
  }
}
