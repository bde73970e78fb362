// Each start of a container gets a boot id of its own, as LXC gives one (lxc_setup_boot_id): a
// file bound over /proc/sys/kernel/random/boot_id, so that inside, `journalctl -b` and whatever
// else keys on the boot id tells this boot from the host's and from the container's earlier ones.
// The file lives on the host's /run, named after the container's cgroup (unique while it runs).
import { randomUUID } from "node:crypto";
import type { HostFiles } from "../host/host.ts";
import { join } from "node:path";

const BOOT_ID_DIR = "/run/corral/boot-id";

/** Write a new boot id for the start whose cgroup is `key`; returns the file's path. */
export function writeBootId(files: HostFiles, key: string): string {
  files.mkdir(BOOT_ID_DIR, { recursive: true, mode: 0o755 });
  const path = join(BOOT_ID_DIR, key);
  files.writeText(path, `${randomUUID()}\n`, 0o444);
  return path;
}

export function removeBootId(files: HostFiles, key: string): void {
  files.remove(join(BOOT_ID_DIR, key));
}
