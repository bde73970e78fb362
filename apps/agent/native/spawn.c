/*
 * The exported surface of the executor, called from src/sys/native.ts through ffi-rs: clone a
 * child that runs a decoded plan (executor.c's child_main), and free what it used of our memory
 * once it has exec'd or died.
 */
#define _GNU_SOURCE
#include <errno.h>
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
};
static struct spawn *spawns;

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
	s->child = (struct child){ .plan = &s->plan, .sync_fd = child_fd, .parent_fd = parent_fd, .root_fd = -1 };
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	long pid;
	if (cgroup_fd >= 0) {
		struct clone_args args = {
			.flags = (uint64_t)(unsigned)flags | CLONE_VM | CLONE_INTO_CGROUP,
			.exit_signal = SIGCHLD,
			.stack = (uint64_t)(uintptr_t)s->stack,
			.stack_size = CHILD_STACK,
			.cgroup = (uint64_t)cgroup_fd,
		};
		pid = clone3_on_stack(&args, child_main, &s->child);
	} else {
		pid = clone(child_main, (char *)s->stack + CHILD_STACK, flags | CLONE_VM | SIGCHLD, &s->child);
		if (pid < 0) pid = -errno;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
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
