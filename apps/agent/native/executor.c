/*
 * corral's plan executor: the only code that runs between clone and execve.
 *
 * Node is multithreaded, so a child made from it may only make raw syscalls: no malloc, no stdio,
 * no locks, nothing that another thread could have held at clone time. This file therefore holds
 * no policy. TypeScript builds a setup plan (src/runtime/plan.ts), a list of primitive operations;
 * corral_spawn() (spawn.c) decodes it in the parent (plan.c), clones the child into the requested
 * namespaces, and the child runs the ops one by one (here). A failing op is reported to the parent as (op index, errno) over
 * the sync socket; a successful execve closes that socket (it is CLOEXEC), which the parent reads
 * as "exec done". The child is cloned sharing the parent's fd table and first takes a copy of its
 * low fds only (own_fd_table; spawn.c's fd slots say why).
 *
 * The sync protocol, also described in src/runtime/sync.ts (where the parent speaks it):
 *
 *   parent -> child    SYNC_ID_MAPPED       uid and gid maps written (user namespace only;
 *                                           spawn.c writes them right after the clone)
 *   child  -> parent   SYNC_CONFIGURE       child is in its namespaces and waits
 *   parent -> child    SYNC_POST_CONFIGURE  cgroup attached, network moved in: go on
 *   child  -> parent   SYNC_ERROR(op, errno) an op failed; the child exits 127
 *   child  -> parent   STAMP(kind, s, ns)    a moment of the child's, for the timed phases
 *   (EOF)              execve succeeded
 *
 * The op codes and sync numbers are in plan.h. The host's own helpers (ptys, sockets, rtnetlink,
 * ...) are in host.c, never mixed with the child's code.
 *
 * Build: plan.c, executor.c, child-paths.c, spawn.c, host.c and userns.c into one library
 * (native/build.sh).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <linux/openat2.h>
#include <sched.h>
#include <linux/sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <time.h>
#include <unistd.h>
#include "child.h"

/* ---- the child: raw syscalls only from here to execve ----
 *
 * The child shares the parent's memory (CLONE_VM, see corral_spawn), so it must not write to
 * anything the parent uses: not even errno, which lives in the parent thread's TLS. Every call
 * below is a raw syscall returning -errno, made through sys6(); the only libc functions used are
 * pure ones (strlen, memcpy, strchr, ...). x86_64 only. */

/* In a user namespace the kernel locks the nosuid, nodev and noexec of a mount it copied from
 * the host's: a bind remount must repeat them or get EPERM (LXC's add_required_remount_flags). */
static unsigned long locked_flags(const char *target)
{
	struct statfs st;
	if (SYS2(SYS_statfs, target, &st) < 0) return 0;
	return (unsigned long)st.f_flags & (MS_NOSUID | MS_NODEV | MS_NOEXEC);
}

/* ints: flags, where (1: target resolved in the rootfs, 2: source too), optional, keep_locked. */
static int do_mount(const struct child *c, const struct op *op)
{
	unsigned long flags = (unsigned long)op->ints[0];
	int in_root = (int)op->ints[1] & 1;
	int source_in_root = (int)op->ints[1] & 2;
	int optional = (int)op->ints[2];
	int keep_locked = (int)op->ints[3];
	const char *source = nullable(op->strs[0]);
	const char *target = op->strs[1];
	char target_path[64], source_path[64];
	int fd = -1, source_fd = -1;
	if (source_in_root) {
		source_fd = open_in_root(c, source, O_PATH);
		if (source_fd < 0) return optional && source_fd == -ENOENT ? 0 : source_fd;
		fd_path(source_fd, source_path);
		source = source_path;
	}
	if (in_root) {
		/* Resolve afresh for every op: the fd must name the topmost mount at the target. */
		fd = open_in_root(c, target, O_PATH);
		if (fd < 0) {
			if (source_fd >= 0) SYS1(SYS_close, source_fd);
			return optional && fd == -ENOENT ? 0 : fd;
		}
		fd_path(fd, target_path);
		target = target_path;
	}
	if (keep_locked) flags |= locked_flags(target);
	long ret = SYS5(SYS_mount, source, target, nullable(op->strs[2]), flags, nullable(op->strs[3]));
	if (fd >= 0) SYS1(SYS_close, fd);
	if (source_fd >= 0) SYS1(SYS_close, source_fd);
	if (ret == -ENOENT && optional) return 0;
	return (int)ret;
}

static long mknod_at(int dfd, const char *name, const struct op *op)
{
	return SYS4(SYS_mknodat, dfd, name, (mode_t)op->ints[0], (dev_t)op->ints[1]);
}

static long symlink_at(int dfd, const char *name, const struct op *op)
{
	return SYS3(SYS_symlinkat, op->strs[0], dfd, name);
}

static int do_pivot_root(const struct child *c, const char *new_root)
{
	/* The "pivot_root(., .)" sequence: no put_old directory is needed inside the rootfs. Into
	 * the opened rootfs by its fd when there is one: in a user namespace the child may no longer
	 * walk the host path that leads there. */
	long ret = c->root_fd >= 0 ? SYS1(SYS_fchdir, c->root_fd) : SYS1(SYS_chdir, new_root);
	if (ret < 0) return (int)ret;
	if ((ret = SYS2(SYS_pivot_root, ".", ".")) < 0) return (int)ret;
	if ((ret = SYS2(SYS_umount2, ".", MNT_DETACH)) < 0) return (int)ret;
	return (int)SYS1(SYS_chdir, "/");
}

static int do_sync_wait(const struct child *c, int32_t expected)
{
	struct sync_msg msg;
	long n;
	do n = SYS3(SYS_read, c->sync_fd, &msg, sizeof(msg));
	while (n == -EINTR);
	if (n != (long)sizeof(msg)) return n < 0 ? (int)n : -EPIPE;
	return msg.type == expected ? 0 : -EPROTO;
}

static int do_sync_wake(const struct child *c, int32_t type)
{
	struct sync_msg msg = { type, 0, 0 };
	long n = SYS3(SYS_write, c->sync_fd, &msg, sizeof(msg));
	return n == (long)sizeof(msg) ? 0 : (n < 0 ? (int)n : -EPIPE);
}

static int sync_stamp(const struct child *c, int32_t type)
{
	struct timespec ts;
	long ret = SYS2(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
	if (ret < 0) return (int)ret;
	struct sync_msg msg = { type, (int32_t)ts.tv_sec, (int32_t)ts.tv_nsec };
	long n = SYS3(SYS_write, c->sync_fd, &msg, sizeof(msg));
	return n == (long)sizeof(msg) ? 0 : (n < 0 ? (int)n : -EPIPE);
}

static int do_seccomp(const struct op *op)
{
	/* Aligned copy on the stack: the plan's bytes carry no alignment guarantee. */
	struct sock_filter insns[1024];
	struct sock_fprog prog = { .len = (unsigned short)(op->lens[0] / sizeof(struct sock_filter)), .filter = insns };
	if (op->lens[0] / sizeof(struct sock_filter) > 1024) return -E2BIG;
	memcpy(insns, op->strs[0], op->lens[0]);
	return (int)SYS3(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}

/* Only fds below `keep` reach the init: they lose CLOEXEC (Node sets it on its own stdio) and
 * every fd from `keep` up gets it, including the sync socket, whose close tells the parent that
 * execve succeeded. */
static int limit_fds(int keep)
{
	for (int fd = 0; fd < keep; fd++) {
		long ret = SYS3(SYS_fcntl, fd, F_SETFD, 0);
		if (ret < 0 && ret != -EBADF) return (int)ret;
	}
	return (int)SYS3(SYS_close_range, (unsigned)keep, ~0U, CLOSE_RANGE_CLOEXEC);
}

/* execve, searching PATH (from the plan's envp) for a bare command name, as execvp would but
 * without allocating. */
static int do_exec(const struct op *op)
{
	char *const *argv = (char *const *)&op->strs[1];
	char *const *envp = (char *const *)&op->strs[2 + op->ints[0]];
	const char *cmd = op->strs[0];
	if (strchr(cmd, '/')) return (int)SYS3(SYS_execve, cmd, argv, envp);
	const char *search = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	for (char *const *e = envp; *e; e++)
		if (strncmp(*e, "PATH=", 5) == 0) search = *e + 5;
	long err = -ENOENT;
	size_t cmdlen = strlen(cmd);
	for (const char *dir = search;;) {
		const char *end = strchrnul(dir, ':');
		size_t dirlen = (size_t)(end - dir);
		char path[4096];
		if (dirlen + cmdlen + 2 <= sizeof(path)) {
			memcpy(path, dir, dirlen);
			path[dirlen] = '/';
			memcpy(path + dirlen + 1, cmd, cmdlen + 1);
			long ret = SYS3(SYS_execve, path, argv, envp);
			if (ret != -ENOENT && ret != -ENOTDIR) err = ret;
		}
		if (!*end) break;
		dir = end + 1;
	}
	return (int)err;
}

/* Attach a detached mount (an fd from open_tree, inherited through the clone) at a path. */
static int do_move_mount(const struct op *op)
{
	return (int)SYS5(SYS_move_mount, op->ints[0], "", AT_FDCWD, op->strs[0], MOVE_MOUNT_F_EMPTY_PATH);
}

static int require_dir(const struct child *c, const char *path)
{
	/* /proc and /sys must be real directories in the rootfs, never symlinks. */
	struct stat st;
	int fd = open_in_root(c, path, O_PATH | O_NOFOLLOW);
	if (fd < 0) return fd;
	long ret = SYS2(SYS_fstat, fd, &st);
	SYS1(SYS_close, fd);
	if (ret < 0) return (int)ret;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

static int run_op(struct child *c, const struct op *op)
{
	long ret;
	switch (op->code) {
	case OP_MOUNT: return do_mount(c, op);
	case OP_UMOUNT2: return (int)SYS2(SYS_umount2, op->strs[0], op->ints[0]);
	case OP_MKDIR: return mkdir_p(c, op->strs[0], (mode_t)op->ints[0], (int)op->ints[1]);
	case OP_PIVOT_ROOT: return do_pivot_root(c, op->strs[0]);
	case OP_CHDIR: return (int)SYS1(SYS_chdir, op->strs[0]);
	case OP_SETHOSTNAME: return (int)SYS2(SYS_sethostname, op->strs[0], op->lens[0]);
	case OP_PRCTL: return (int)SYS5(SYS_prctl, op->ints[0], op->ints[1], 0, 0, 0);
	case OP_CAPBSET_DROP:
		ret = SYS5(SYS_prctl, PR_CAPBSET_DROP, op->ints[0], 0, 0, 0);
		return ret == -EINVAL ? 0 : (int)ret; /* EINVAL: this kernel lacks the cap */
	case OP_SETGROUPS_EMPTY: return (int)SYS2(SYS_setgroups, 0, NULL);
	case OP_SETGID: return (int)SYS3(SYS_setresgid, op->ints[0], op->ints[0], op->ints[0]);
	case OP_SETUID: return (int)SYS3(SYS_setresuid, op->ints[0], op->ints[0], op->ints[0]);
	case OP_DUP2: return (int)SYS2(SYS_dup2, op->ints[0], op->ints[1]) < 0 ? -EBADF : 0;
	case OP_LIMIT_FDS: return limit_fds((int)op->ints[0]);
	case OP_SYNC_WAKE: return do_sync_wake(c, (int32_t)op->ints[0]);
	case OP_SYNC_WAIT: return do_sync_wait(c, (int32_t)op->ints[0]);
	case OP_MKNOD: return at_parent(c, op->strs[0], mknod_at, op);
	case OP_SYMLINK: return at_parent(c, op->strs[1], symlink_at, op);
	case OP_SECCOMP: return do_seccomp(op);
	case OP_SETSID: return (int)SYS0(SYS_setsid) < 0 ? -EPERM : 0;
	case OP_SETCTTY: return (int)SYS3(SYS_ioctl, op->ints[0], TIOCSCTTY, 0);
	case OP_EXEC: return do_exec(op);
	case OP_OPEN_ROOT:
		c->root_fd = (int)SYS3(SYS_open, op->strs[0], O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
		return c->root_fd < 0 ? c->root_fd : 0;
	case OP_REQUIRE_DIR: return require_dir(c, op->strs[0]);
	case OP_SYNC_STAMP: return sync_stamp(c, (int32_t)op->ints[0]);
	case OP_UNSHARE: return (int)SYS1(SYS_unshare, op->ints[0]);
	case OP_MOVE_MOUNT: return do_move_mount(op);
	default: return -ENOSYS;
	}
}

static void report_error(const struct child *c, uint32_t index, int err)
{
	struct sync_msg msg = { SYNC_ERROR, (int32_t)index, err };
	SYS3(SYS_write, c->sync_fd, &msg, sizeof(msg));
}

static void reset_signals(void)
{
	/* The parent's handlers are Node's: an init starts from the defaults, unblocked. */
	struct kernel_sigaction {
		void *handler;
		unsigned long flags;
		void *restorer;
		uint64_t mask;
	} dfl = { SIG_DFL, 0, NULL, 0 };
	for (int sig = 1; sig < 65; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP) continue;
		SYS4(SYS_rt_sigaction, sig, &dfl, NULL, 8);
	}
	uint64_t empty = 0;
	SYS4(SYS_rt_sigprocmask, SIG_SETMASK, &empty, NULL, 8);
}

/* Cloned sharing the agent's fd table: a table of our own with only the fds below files_bound
 * (close_range's UNSHARE copies no more), the parent told it may go on, and of those fds only
 * ours and 0-2 kept. Nothing else may touch an fd before this. */
static void own_fd_table(struct child *c)
{
	if (SYS3(SYS_close_range, (unsigned)c->files_bound, ~0U, CLOSE_RANGE_UNSHARE) < 0) {
		/* still sharing: nothing of the parent's may be closed; it hears of this as an exit */
		SYS1(SYS_exit_group, 127);
	}
	__atomic_store_n(c->sharing, 0, __ATOMIC_RELEASE);
	sys6(SYS_futex, (long)c->sharing, FUTEX_WAKE, 1, 0, 0, 0);
	int from = 3;
	for (int fd = 3; fd <= c->files_bound; fd++) {
		int ours = 0;
		for (int i = 0; i < c->nkeep; i++) ours |= c->keep[i] == fd;
		if (!ours && fd < c->files_bound) continue;
		if (fd > from) SYS3(SYS_close_range, (unsigned)from, (unsigned)(fd - 1), 0);
		from = fd + 1;
	}
}

int child_main(void *arg)
{
	struct child *c = arg;
	if (c->files_bound >= 0) own_fd_table(c);
	reset_signals();
	/* ours only when its number is below the bound; closing a number we lack is harmless */
	SYS1(SYS_close, c->parent_fd);
	for (uint32_t i = 0; i < c->plan->count; i++) {
		int ret = run_op(c, &c->plan->ops[i]);
		if (ret < 0) {
			report_error(c, i, -ret);
			SYS1(SYS_exit_group, 127);
		}
	}
	/* A plan that does not end in exec is a bug in the plan builder. */
	report_error(c, c->plan->count, ENOEXEC);
	SYS1(SYS_exit_group, 127);
	return 127;
}
