/*
 * Paths inside the container's rootfs, for the child (executor.c): opened with openat2's
 * RESOLVE_IN_ROOT so that neither a symlink nor ".." leads out of it. Runs in the child, between
 * clone and execve: raw syscalls only (child.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include "child.h"

const char *nullable(const char *s)
{
	return s && *s ? s : NULL;
}

/* Open a path inside the container's rootfs without letting a symlink or ".." lead out of it. */
int open_in_root(const struct child *c, const char *path, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	while (*path == '/') path++;
	if (!*path) path = ".";
	return (int)SYS4(SYS_openat2, c->root_fd, path, &how, sizeof(how));
}

/* "/proc/self/fd/N" without snprintf. */
void fd_path(int fd, char *buf)
{
	static const char prefix[] = "/proc/self/fd/";
	char digits[16];
	int n = 0;
	memcpy(buf, prefix, sizeof(prefix) - 1);
	do {
		digits[n++] = (char)('0' + fd % 10);
		fd /= 10;
	} while (fd);
	for (int i = 0; i < n; i++) buf[sizeof(prefix) - 1 + i] = digits[n - 1 - i];
	buf[sizeof(prefix) - 1 + n] = '\0';
}

/* Split "a/b/c" into its parent dir (opened, resolved in the rootfs) and the last component. */
int open_parent_in_root(const struct child *c, const char *path, char *last, size_t lastsz)
{
	char dir[4096];
	size_t len = strlen(path);
	while (len > 1 && path[len - 1] == '/') len--;
	if (len >= sizeof(dir)) return -ENAMETOOLONG;
	memcpy(dir, path, len);
	dir[len] = '\0';
	char *slash = strrchr(dir, '/');
	const char *name = slash ? slash + 1 : dir;
	if (strlen(name) >= lastsz) return -ENAMETOOLONG;
	memcpy(last, name, strlen(name) + 1);
	if (slash) *slash = '\0';
	return open_in_root(c, slash ? dir : ".", O_PATH | O_DIRECTORY);
}

int mkdir_p(const struct child *c, const char *path, mode_t mode, int in_root)
{
	char buf[4096];
	size_t len = strlen(path);
	if (len >= sizeof(buf)) return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	for (size_t i = 1; i <= len; i++) {
		if (buf[i] != '/' && buf[i] != '\0') continue;
		char saved = buf[i];
		buf[i] = '\0';
		long ret;
		if (in_root) {
			char last[256];
			int dfd = open_parent_in_root(c, buf, last, sizeof(last));
			if (dfd < 0) return dfd;
			ret = SYS3(SYS_mkdirat, dfd, last, mode);
			SYS1(SYS_close, dfd);
		} else {
			ret = SYS3(SYS_mkdirat, AT_FDCWD, buf, mode);
		}
		if (ret < 0 && ret != -EEXIST) return (int)ret;
		buf[i] = saved;
	}
	return 0;
}

int at_parent(const struct child *c, const char *path, long (*fn)(int dfd, const char *name, const struct op *op), const struct op *op)
{
	char last[256];
	int dfd = open_parent_in_root(c, path, last, sizeof(last));
	if (dfd < 0) return dfd;
	long ret = fn(dfd, last, op);
	SYS1(SYS_close, dfd);
	return ret == -EEXIST ? 0 : (int)ret;
}
