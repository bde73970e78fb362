// Whether the host's kernel enforces AppArmor: LXC applies a container's profile where it does
// and, where it does not, falls back to a no-op security driver that starts every profile
// unconfined. Runs on the host.
import type { HostFiles } from "../host/host.ts";
import { expected } from "../errors.ts";

export function hostHasAppArmor(files: HostFiles): boolean {
  try {
    return files.readText("/sys/module/apparmor/parameters/enabled").trim() === "Y";
  } catch (e) {
    expected(e, ["ENOENT"], "reading whether AppArmor is enabled"); // no AppArmor module
    return false;
  }
}

/**
 * Why a profile keeps a container from starting here, if it does: corral loads no profiles, so
 * on a kernel that enforces AppArmor it cannot honour one, and running unconfined would weaken
 * what the config asked for. "unconfined" asks for nothing.
 */
export function apparmorRefusal(profile: string | undefined, kernelHasAppArmor: boolean): string | undefined {
  if (!profile || profile === "unconfined" || !kernelHasAppArmor) return undefined;
  return `lxc.apparmor.profile = ${profile}: this kernel enforces AppArmor and corral cannot apply profiles; set lxc.apparmor.profile = unconfined to run the container unconfined`;
}

/** What is said at start about a profile on a kernel without AppArmor. */
export function apparmorWarning(profile: string | undefined, kernelHasAppArmor: boolean): string | undefined {
  if (!profile || profile === "unconfined" || kernelHasAppArmor) return undefined;
  return `lxc.apparmor.profile = ${profile}: this kernel has no AppArmor, so the container runs unconfined (as under LXC)`;
}
