// Linux errno values (x86_64, <asm-generic/errno-base.h> and <asm-generic/errno.h>) by name, and
// names for numbers, so that errors read "EPERM", not "1". One table for every package.
export const ERRNO = {
  EPERM: 1, ENOENT: 2, ESRCH: 3, EINTR: 4, EIO: 5, ENXIO: 6, E2BIG: 7, ENOEXEC: 8, EBADF: 9,
  ECHILD: 10, EAGAIN: 11, ENOMEM: 12, EACCES: 13, EFAULT: 14, EBUSY: 16, EEXIST: 17, EXDEV: 18,
  ENODEV: 19, ENOTDIR: 20, EISDIR: 21, EINVAL: 22, EMFILE: 24, ETXTBSY: 26, ENOSPC: 28, EROFS: 30,
  EPIPE: 32, ENAMETOOLONG: 36, ENOSYS: 38, ENOTEMPTY: 39, ELOOP: 40, ENODATA: 61, EPROTO: 71, EOPNOTSUPP: 95,
  EADDRINUSE: 98, ECONNREFUSED: 111,
} as const;

const NAMES = new Map<number, string>(Object.entries(ERRNO).map(([name, n]) => [n, name]));

export function errnoName(errno: number): string {
  return NAMES.get(errno) ?? `errno ${errno}`;
}
