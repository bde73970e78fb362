/*
 * Host-side helpers for user namespaces (unprivileged containers), on Node's threads in the
 * host's namespaces: writing a child's uid and gid maps, and making the idmapped mount of a
 * rootfs owned by host root. Nothing here runs in a container's child (executor.c's alone).
 *
 * The agent is root in the initial user namespace, so it writes a multi-range map straight into
 * /proc/PID/uid_map; LXC, for an unprivileged caller, goes through newuidmap instead.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>
#include "userns.h"

static int write_all(const char *path, const char *text)
{
	size_t len = strlen(text);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) return -errno;
	/* The kernel takes a map in one write only. */
	ssize_t n = write(fd, text, len);
	int err = errno;
	close(fd);
	return n == (ssize_t)len ? 0 : (n < 0 ? -err : -EIO);
}

/* Write the uid and gid maps of `pid`'s user namespace ("INSIDE OUTSIDE COUNT\n" lines). */
int write_id_maps(int pid, const char *uid_map, const char *gid_map)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/uid_map", pid);
	int ret = write_all(path, uid_map);
	if (ret < 0) return ret;
	snprintf(path, sizeof(path), "/proc/%d/gid_map", pid);
	return write_all(path, gid_map);
}

static int exit_at_once(void *arg)
{
	(void)arg;
	return 0;
}

/* A user namespace with these maps, as an fd (O_CLOEXEC), or -errno. It is made by a child that
 * exits at once: its namespace lives on in the fd (LXC's get_userns_fd does the same). */
int corral_userns_fd(const char *uid_map, const char *gid_map)
{
	/* The child only returns: a small stack in this frame is enough, and it is reaped below
	 * before this frame ends. exit_signal 0: no SIGCHLD reaches Node for it. */
	char stack[16384] __attribute__((aligned(16)));
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int pid = clone(exit_at_once, stack + sizeof(stack), CLONE_NEWUSER | CLONE_VM, NULL);
	int err = pid < 0 ? -errno : 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) return err;
	int fd = -1;
	int ret = write_id_maps(pid, uid_map, gid_map);
	if (ret == 0) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/ns/user", pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) ret = -errno;
	}
	while (waitpid(pid, NULL, __WALL) < 0 && errno == EINTR) {}
	return ret < 0 ? ret : fd;
}

/* A detached copy of the mount at `path` (open_tree OPEN_TREE_CLONE, not recursive), idmapped
 * through the user namespace `userns_fd` (mount_setattr MOUNT_ATTR_IDMAP, Linux 5.12): files of
 * host uid 100000 then show as uid 0 to a namespace mapping 0 to 100000. Its fd (O_CLOEXEC),
 * for the child to move_mount onto its rootfs; -errno on failure, packed with the step that
 * failed: -(errno | (1 << 16)) for open_tree, -(errno | (2 << 16)) for mount_setattr. A
 * filesystem that cannot be idmapped gives EINVAL from mount_setattr. */
int corral_idmapped_tree(const char *path, int userns_fd)
{
	int tree = (int)syscall(SYS_open_tree, AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (tree < 0) return -(errno | IDMAP_STEP_OPEN_TREE);
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)userns_fd };
	if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0) {
		int err = errno;
		close(tree);
		return -(err | IDMAP_STEP_MOUNT_SETATTR);
	}
	return tree;
}

/* An extended attribute of `path` itself (not a symlink's target) into buf[0..len): its length,
 * or -errno (-ENODATA: none). For the ACLs a shifted rootfs must keep (src/containers/shift.ts). */
int corral_lgetxattr(const char *path, const char *name, uint8_t *buf, int len)
{
	ssize_t n = lgetxattr(path, name, buf, (size_t)len);
	return n < 0 ? -errno : (int)n;
}

int corral_lsetxattr(const char *path, const char *name, const uint8_t *buf, int len)
{
	return lsetxattr(path, name, buf, (size_t)len, 0) < 0 ? -errno : 0;
}
