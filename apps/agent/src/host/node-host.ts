// The real host, through Node's fs, net and child_process: what the agent, `corral run` and the
// root tests give the runtime.
import { execFile } from "node:child_process";
import { appendFileSync, chownSync, closeSync, constants, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, readlinkSync, realpathSync, rmdirSync, statSync, unlinkSync, writeFileSync, writeSync } from "node:fs";
import { Socket } from "node:net";
import { readRegularFile } from "./bounded-read.ts";
import { memoryRunDir } from "./run-dir.ts";
import type { Host } from "./host.ts";

/** readSmall's buffer: one for the process, used synchronously. */
const small = Buffer.allocUnsafe(16 * 1024);

function readSmall(path: string): string {
  const fd = openSync(path, "r");
  try {
    let n = 0;
    while (n < small.length) {
      const got = readSync(fd, small, n, small.length - n, null);
      if (got === 0) break;
      n += got;
    }
    return small.toString("utf8", 0, n);
  } finally {
    closeSync(fd);
  }
}

export const nodeHost: Host = {
  files: {
    readText: (path) => readFileSync(path, "utf8"),
    readSmall,
    readNamedFile: (path, maxBytes) => readRegularFile(path, maxBytes),
    writeText: (path, text, mode) => writeFileSync(path, text, mode === undefined ? undefined : { mode }),
    runDir: memoryRunDir,
    appendBytes: (path, data) => appendFileSync(path, data),
    exists: (path) => existsSync(path),
    stat: (path) => {
      const st = statSync(path, { throwIfNoEntry: false });
      return st && { isDirectory: st.isDirectory(), uid: st.uid, gid: st.gid };
    },
    chown: (path, uid, gid) => chownSync(path, uid, gid),
    mkdir: (path, options) => void mkdirSync(path, options),
    rmdir: (path) => rmdirSync(path),
    remove: (path) => {
      // unlink(2) alone: rmSync stats first, and looks for a directory it was not asked to remove
      try {
        unlinkSync(path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
      }
    },
    readdir: (path) => readdirSync(path, { withFileTypes: true }).map((d) => ({ name: d.name, isDirectory: d.isDirectory() })),
    readlink: (path) => readlinkSync(path),
    realpath: (path) => realpathSync(path),
    openDirectory: (path) => openSync(path, constants.O_RDONLY | constants.O_DIRECTORY),
    write: (fd, data) => writeSync(fd, data),
    close: (fd) => closeSync(fd),
  },
  processes: {
    run: (file, args, { env, timeoutMs }) =>
      new Promise((resolve) => {
        execFile(file, args, { env, timeout: timeoutMs }, (err, _stdout, stderr) => {
          const failed = err as (Error & { code?: number | string; signal?: string; killed?: boolean }) | null;
          resolve({
            code: failed ? (typeof failed.code === "number" ? failed.code : null) : 0,
            signal: failed?.signal ?? null,
            timedOut: failed?.killed === true,
            // a program that could not be run at all says why where its stderr would be
            stderr: stderr || (typeof failed?.code === "string" ? failed.message : ""),
          });
        });
      }),
  },
  streams: {
    socket: (fd) => new Socket({ fd, readable: true, writable: true }),
  },
};
