// Each start of a container gets a boot id of its own, as LXC gives one (lxc_setup_boot_id): a
// file bound over /proc/sys/kernel/random/boot_id, so that inside, `journalctl -b` and whatever
// else keys on the boot id tells this boot from the host's and from the container's earlier ones.
// The file lives in corral's run directory on the host (a memory filesystem), named after the
// container's cgroup (unique while it runs).
import { randomUUID } from "node:crypto";
import type { HostFiles } from "../host/host.ts";
import { join } from "node:path";

const bootIdDir = (files: HostFiles) => join(files.runDir(), "boot-id");

/**
 * Write a new boot id for the start whose cgroup is `key`; returns the file's path. The directory
 * is made when a write finds it missing (the first start, or after someone cleaned the run
 * directory), not looked for at every start.
 */
export function writeBootId(files: HostFiles, key: string): string {
  const dir = bootIdDir(files);
  const path = join(dir, key);
  const id = `${randomUUID()}\n`;
  try {
    files.writeText(path, id, 0o444);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    files.mkdir(dir, { recursive: true, mode: 0o755 });
    files.writeText(path, id, 0o444);
  }
  return path;
}

export function removeBootId(files: HostFiles, key: string): void {
  files.remove(join(bootIdDir(files), key));
}
