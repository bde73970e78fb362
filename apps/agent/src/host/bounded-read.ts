// Reading a file that someone else named (a config, an include, a seccomp profile): it must
// neither block the event loop nor grow without end.
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from "node:fs";

/** A file refused before it was read: not a regular file, or too big. */
export class ConfigFileRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigFileRefused";
  }
}

/**
 * Reads a file the way every file read on a request's behalf is read: a regular file only
 * (a FIFO would block the event loop, a device such as /dev/zero never ends), checked before it
 * is opened and again on the open fd, opened without blocking, and at most `maxBytes` long.
 */
export function readRegularFile(path: string, maxBytes: number): string {
  const before = statSync(path);
  if (!before.isFile()) throw new ConfigFileRefused(`${path} is ${fileKind(before)}, not a regular file`);
  if (before.size > maxBytes) throw new ConfigFileRefused(`${path} is ${before.size} bytes, more than the ${maxBytes} it may be`);
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new ConfigFileRefused(`${path} is ${fileKind(st)}, not a regular file`);
    // to the end of the file, whatever its size said (it may have grown since): at most maxBytes
    const chunks: Buffer[] = [];
    let got = 0;
    for (;;) {
      const chunk = Buffer.alloc(Math.min(64 * 1024, maxBytes + 1 - got));
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      chunks.push(chunk.subarray(0, n));
      got += n;
      if (got > maxBytes) throw new ConfigFileRefused(`${path} is more than the ${maxBytes} bytes it may be`);
    }
    return Buffer.concat(chunks, got).toString("utf8");
  } finally {
    closeSync(fd);
  }
}

function fileKind(st: Stats): string {
  if (st.isDirectory()) return "a directory";
  if (st.isFIFO()) return "a FIFO";
  if (st.isCharacterDevice()) return "a character device";
  if (st.isBlockDevice()) return "a block device";
  if (st.isSocket()) return "a socket";
  return "not a regular file";
}
