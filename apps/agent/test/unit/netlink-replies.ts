// rtnetlink answers as the kernel writes them, for the fakes of the unit tests.

/** NLMSG_ERROR carrying `errno` (0: an ack). */
export function ack(errno: number): Buffer {
  const b = Buffer.alloc(36);
  b.writeUInt32LE(36, 0);
  b.writeUInt16LE(2, 4);
  b.writeInt32LE(-errno, 16);
  return b;
}

/** NLMSG_DONE, the end of a dump. */
export function done(): Buffer {
  const b = Buffer.alloc(20);
  b.writeUInt32LE(20, 0);
  b.writeUInt16LE(3, 4);
  return b;
}
