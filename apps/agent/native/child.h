/*
 * What the child's code shares (executor.c, child-paths.c): raw syscalls, and the helpers that
 * resolve paths inside the container's rootfs. Everything here runs in the child, between clone
 * and execve: raw syscalls only, no malloc, no errno (see executor.c).
 */
#ifndef CORRAL_CHILD_H
#define CORRAL_CHILD_H
#include <stddef.h>
#include <sys/types.h>
#include "plan.h"

static inline long sys6(long n, long a, long b, long c, long d, long e, long f)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}
#define SYS0(n) sys6(n, 0, 0, 0, 0, 0, 0)
#define SYS1(n, a) sys6(n, (long)(a), 0, 0, 0, 0, 0)
#define SYS2(n, a, b) sys6(n, (long)(a), (long)(b), 0, 0, 0, 0)
#define SYS3(n, a, b, c) sys6(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define SYS4(n, a, b, c, d) sys6(n, (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define SYS5(n, a, b, c, d, e) sys6(n, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)

#define HIDDEN __attribute__((visibility("hidden")))

/* NULL for an empty string (optional plan strings). */
HIDDEN const char *nullable(const char *s);
/* Open a path inside the container's rootfs without letting a symlink or ".." lead out of it. */
HIDDEN int open_in_root(const struct child *c, const char *path, int flags);
/* "/proc/self/fd/N" without snprintf. */
HIDDEN void fd_path(int fd, char *buf);
/* Split "a/b/c" into its parent dir (opened, resolved in the rootfs) and the last component. */
HIDDEN int open_parent_in_root(const struct child *c, const char *path, char *last, size_t lastsz);
/* mkdir -p, in the rootfs (in_root) or from the child's cwd. */
HIDDEN int mkdir_p(const struct child *c, const char *path, mode_t mode, int in_root);
/* fn(parent dir's fd, last component, op) for a path in the rootfs; EEXIST is success. */
HIDDEN int at_parent(const struct child *c, const char *path, long (*fn)(int dfd, const char *name, const struct op *op), const struct op *op);

#endif
