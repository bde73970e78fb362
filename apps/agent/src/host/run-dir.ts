// corral's run directory on the host: /run/corral where /run is a memory filesystem (tmpfs), as on
// any systemd host; else /dev/shm/corral. Each start writes a file there and each stop removes it;
// on a disk filesystem (this machine's /run is ext4) the two cost about 0.6 ms a start, a tenth of
// a /bin/true container's whole life, where tmpfs takes some 20 µs.
import { lstatSync, mkdirSync, statfsSync } from "node:fs";
import { expected } from "../errors.ts";

const TMPFS_MAGIC = 0x01021994;
const CANDIDATES = [["/run", "/run/corral"], ["/dev/shm", "/dev/shm/corral"]] as const;

export class RunDirRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RunDirRefused";
  }
}

let chosen: string | undefined;

export function memoryRunDir(): string {
  chosen ??= make(pick());
  return chosen;
}

function pick(): string {
  for (const [mount, dir] of CANDIDATES) if (isTmpfs(mount)) return dir;
  return CANDIDATES[0][1];
}

function isTmpfs(path: string): boolean {
  try {
    return statfsSync(path).type === TMPFS_MAGIC;
  } catch (e) {
    expected(e, ["ENOENT"], `looking at the filesystem of ${path}`);
    return false;
  }
}

/**
 * Made root's and 0755, or refused if something else is there: /dev/shm is writable by everyone,
 * and a directory planted there would let its owner choose what the containers' boot ids are bound
 * from.
 */
function make(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const st = lstatSync(dir);
  if (!st.isDirectory()) throw new RunDirRefused(`${dir} is not a directory (a symlink?): remove it, corral makes it`);
  if (st.uid !== 0 || (st.mode & 0o022) !== 0) {
    throw new RunDirRefused(`${dir} belongs to uid ${st.uid} with mode ${(st.mode & 0o777).toString(8)}: it must be root's and writable by no one else; remove it, corral makes it`);
  }
  return dir;
}
