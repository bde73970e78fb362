/*
 * The exported surface of the executor, called from src/sys/native.ts through ffi-rs: clone a
 * child that runs a decoded plan (executor.c's child_main), and free what it used of our memory
 * once it has exec'd or died.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <pthread.h>
#include "plan.h"
#include "userns.h"

/* A spawned child's memory, kept until it has exec'd or died (corral_release): it shares it. */
#define CHILD_STACK (256 * 1024)
struct spawn {
	struct spawn *next;
	int pid;
	struct plan plan;
	struct child child;
	void *stack;
	/* 1 while the child shares our fd table (CLONE_CHILD_CLEARTID zeroes it at exit or exec) */
	int sharing;
};
static struct spawn *spawns;

/*
 * Fd slots. A child that copied our fd table at clone (as fork does) cost what we hold: with a
 * thousand containers running the agent holds some 4,000 fds (each console's pty ends, each LXC
 * command socket), and every start copied them all, then closed them all again at exec, one
 * flush each: 0.5 to 1 ms of CPU a start, growing with the containers running. Instead the child
 * shares our table (CLONE_FILES) for the few instructions until it takes a copy of the fds below
 * slot_bound only (close_range's UNSHARE); the fds it needs are put first in slots there, low fds
 * reserved when the library loaded, and we wait for that copy before the slots are used again.
 * Only with a large table (SHARE_FROM_FD): a small one is copied and closed faster than we wait.
 */
#define FD_SLOTS CHILD_KEEP_MAX
/* Sharing costs the wait for the child to be scheduled (a context switch, or the wakeup of an idle
 * CPU): worth it only once the table is large. New fds take the lowest free number, so the sync
 * socket made for this start says roughly how many are open. */
#define SHARE_FROM_FD 256
static int slot_fds[FD_SLOTS];
static int devnull_fd = -1;
static int slot_bound = -1;

__attribute__((constructor)) static void reserve_fd_slots(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd < 0) return;
	int bound = fd;
	for (int i = 0; i < FD_SLOTS; i++) {
		slot_fds[i] = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		if (slot_fds[i] < 0) {
			while (i-- > 0) close(slot_fds[i]);
			close(fd);
			return;
		}
		if (slot_fds[i] > bound) bound = slot_fds[i];
	}
	devnull_fd = fd;
	slot_bound = bound + 1;
}

/* The ops that take one of our fds, in ints[0]: OP_DUP2's source, OP_MOVE_MOUNT's tree. */
static int takes_fd(const struct op *op)
{
	return op->code == OP_DUP2 || op->code == OP_MOVE_MOUNT;
}

/* The first n slots back to /dev/null: we hold no extra reference to what they held. */
static void release_slots(int n)
{
	for (int j = 0; j < n; j++) dup3(devnull_fd, slot_fds[j], O_CLOEXEC);
}

/*
 * Put the fds the child needs in the slots and make its plan and sync fd name them: its sync
 * socket, and the fds its ops take (OP_DUP2's source, OP_MOVE_MOUNT's tree). -1 (nothing
 * changed) when they do not fit: the child then copies our whole table, as before.
 */
static int place_in_slots(struct child *c, struct plan *plan, int child_fd)
{
	int from[FD_SLOTS], n = 0;
	from[n++] = child_fd;
	for (uint32_t i = 0; i < plan->count; i++) {
		const struct op *op = &plan->ops[i];
		if (!takes_fd(op)) continue;
		int fd = (int)op->ints[0], known = 0;
		for (int j = 0; j < n; j++) known |= from[j] == fd;
		if (known) continue;
		if (n == FD_SLOTS) return -1;
		from[n++] = fd;
	}
	for (int j = 0; j < n; j++) {
		if (dup3(from[j], slot_fds[j], O_CLOEXEC) < 0) {
			release_slots(j);
			return -1;
		}
	}
	for (uint32_t i = 0; i < plan->count; i++) {
		struct op *op = &plan->ops[i];
		if (!takes_fd(op)) continue;
		for (int j = 0; j < n; j++)
			if (op->ints[0] == from[j]) op->ints[0] = slot_fds[j];
	}
	c->sync_fd = slot_fds[0];
	for (int j = 0; j < n; j++) c->keep[j] = slot_fds[j];
	c->nkeep = n;
	c->files_bound = slot_bound;
	return 0;
}

/* Once the child has its own table (or has exec'd or died: the kernel zeroes the word then), our
 * slots go back to /dev/null, so that we hold no extra reference to its sync socket or console. */
static void wait_for_own_table(struct spawn *s)
{
	while (__atomic_load_n(&s->sharing, __ATOMIC_ACQUIRE) != 0)
		syscall(SYS_futex, &s->sharing, FUTEX_WAIT, 1, NULL, NULL, 0);
	release_slots(s->child.nkeep);
}

/* ---- the exported surface, called from src/sys/native.ts through ffi-rs ---- */

/* clone3 with CLONE_VM and a stack of our own: the child starts on that stack at the syscall's
 * return, with no C frame to return to, so it calls fn(arg) from here and exits with its result. */
static long clone3_on_stack(struct clone_args *args, int (*fn)(void *), void *arg)
{
	register long r8 __asm__("r8") = (long)fn;
	register long r9 __asm__("r9") = (long)arg;
	long ret;
	__asm__ volatile(
		"syscall\n\t"
		"test %%rax, %%rax\n\t"
		"jnz 1f\n\t"
		"xor %%ebp, %%ebp\n\t"
		"mov %%r9, %%rdi\n\t"
		"call *%%r8\n\t"
		"mov %%rax, %%rdi\n\t"
		"mov %[exit_group], %%eax\n\t"
		"syscall\n\t"
		"hlt\n\t"
		"1:\n\t"
		: "=a"(ret)
		: "a"((long)SYS_clone3), "D"(args), "S"(sizeof(*args)), "r"(r8), "r"(r9), [exit_group] "i"(SYS_exit_group)
		: "rcx", "r11", "memory");
	return ret;
}

/* The parent's side of the SYNC_ID_MAPPED barrier: both maps written, then the child told. */
static int map_ids(int pid, int parent_fd, const char *uid_map, const char *gid_map)
{
	int ret = write_id_maps(pid, uid_map, gid_map);
	if (ret < 0) return ret;
	struct sync_msg msg = { SYNC_ID_MAPPED, 0, 0 };
	ssize_t n;
	do n = write(parent_fd, &msg, sizeof(msg));
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(msg) ? 0 : (n < 0 ? -errno : -EPIPE);
}

/* Clone a child into `flags` namespaces and run the plan in it. Returns its pid or -errno.
 *
 * CLONE_VM: the child runs on its own stack in the parent's memory until it execs, as
 * posix_spawn does, so nothing of Node's large address space is copied (a plain fork of the agent
 * took about 1 ms, and every page Node wrote afterwards faulted). The plan and the stack stay
 * allocated until corral_release(pid). Signals are blocked around the clone so that no Node
 * handler ever runs in the child; the child resets them before unblocking.
 *
 * uid_map and gid_map not empty (with CLONE_NEWUSER in flags): the child's maps are written here,
 * in the parent, before it goes on: its plan starts by waiting for SYNC_ID_MAPPED, sent once
 * both are written. A map the kernel refuses kills the child and returns -errno.
 *
 * cgroup_fd >= 0: clone3 with CLONE_INTO_CGROUP, so the child is born in its cgroup v2 directory:
 * no migration, which would take the kernel's cgroup_threadgroup_rwsem for writing and wait for
 * an RCU grace period (about 1 ms per start here). */
int corral_spawn(const uint8_t *plan_buf, int plan_len, int flags, int child_fd, int parent_fd, int cgroup_fd, const char *uid_map, const char *gid_map)
{
	struct spawn *s = calloc(1, sizeof(*s));
	if (!s) return -ENOMEM;
	int ret = decode_plan(plan_buf, plan_len, &s->plan);
	if (ret == 0) {
		s->stack = mmap(NULL, CHILD_STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
		if (s->stack == MAP_FAILED) ret = -errno;
	}
	if (ret < 0) {
		free_plan(&s->plan);
		free(s);
		return ret;
	}
	s->child = (struct child){ .plan = &s->plan, .sync_fd = child_fd, .parent_fd = parent_fd, .root_fd = -1, .files_bound = -1 };
	int share = slot_bound >= 0 && child_fd >= SHARE_FROM_FD && place_in_slots(&s->child, &s->plan, child_fd) == 0;
	uint64_t share_flags = share ? CLONE_FILES | CLONE_CHILD_CLEARTID : 0;
	s->sharing = share;
	s->child.sharing = &s->sharing;
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	long pid;
	if (cgroup_fd >= 0) {
		struct clone_args args = {
			.flags = (uint64_t)(unsigned)flags | CLONE_VM | CLONE_INTO_CGROUP | share_flags,
			.child_tid = (uint64_t)(uintptr_t)&s->sharing,
			.exit_signal = SIGCHLD,
			.stack = (uint64_t)(uintptr_t)s->stack,
			.stack_size = CHILD_STACK,
			.cgroup = (uint64_t)cgroup_fd,
		};
		pid = clone3_on_stack(&args, child_main, &s->child);
	} else {
		pid = clone(child_main, (char *)s->stack + CHILD_STACK, flags | CLONE_VM | (int)share_flags | SIGCHLD, &s->child, NULL, NULL, &s->sharing);
		if (pid < 0) pid = -errno;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (share) {
		if (pid > 0) wait_for_own_table(s);
		else release_slots(s->child.nkeep);
	}
	if (pid > 0 && uid_map && *uid_map) {
		int err = map_ids(pid, parent_fd, uid_map, gid_map);
		if (err < 0) {
			kill(pid, SIGKILL);
			while (waitpid(pid, NULL, __WALL) < 0 && errno == EINTR) {}
			pid = err;
		}
	}
	if (pid < 0) {
		munmap(s->stack, CHILD_STACK);
		free_plan(&s->plan);
		free(s);
		return (int)pid;
	}
	s->pid = (int)pid;
	s->next = spawns;
	spawns = s;
	return (int)pid;
}

/* Free a child's plan and stack once it no longer runs in our memory: after its sync socket
 * closed (execve, or exit). */
int corral_release(int pid)
{
	for (struct spawn **p = &spawns; *p; p = &(*p)->next) {
		struct spawn *s = *p;
		if (s->pid != pid) continue;
		*p = s->next;
		munmap(s->stack, CHILD_STACK);
		free_plan(&s->plan);
		free(s);
		return 0;
	}
	return -ESRCH;
}
