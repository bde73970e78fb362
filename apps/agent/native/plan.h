/*
 * The setup plan as the native side holds it: op codes and sync messages (OpCode in
 * src/runtime/plan.ts and SyncMessage in src/runtime/sync.ts; test/unit/native-contract.test.ts
 * reads this file and holds them equal), the decoded ops, and what a child runs with.
 */
#ifndef CORRAL_PLAN_H
#define CORRAL_PLAN_H
#include <stdint.h>

/* Plan op codes: OpCode in src/runtime/plan.ts (checked by test/unit/native-contract.test.ts). */
enum {
	OP_MOUNT = 1,
	OP_UMOUNT2 = 2,
	OP_MKDIR = 3,
	OP_PIVOT_ROOT = 4,
	OP_CHDIR = 5,
	OP_SETHOSTNAME = 6,
	OP_PRCTL = 7,
	OP_CAPBSET_DROP = 8,
	OP_SETGROUPS_EMPTY = 9,
	OP_SETGID = 10,
	OP_SETUID = 11,
	OP_DUP2 = 12,
	OP_LIMIT_FDS = 13,
	OP_SYNC_WAKE = 14,
	OP_SYNC_WAIT = 15,
	OP_MKNOD = 16,
	OP_SYMLINK = 17,
	OP_SECCOMP = 18,
	OP_SETSID = 19,
	OP_SETCTTY = 20,
	OP_EXEC = 21,
	OP_OPEN_ROOT = 22,
	OP_REQUIRE_DIR = 23,
	OP_SYNC_STAMP = 24,
	OP_UNSHARE = 25,
	OP_MOVE_MOUNT = 26,
};

enum { SYNC_CONFIGURE = 1, SYNC_POST_CONFIGURE = 2, SYNC_ERROR = 3, SYNC_ID_MAPPED = 6 };
/* OP_SYNC_STAMP writes {type, seconds, nanoseconds} of CLOCK_MONOTONIC, for the timed phases. */

#define MAX_INTS 4
#define MAX_STRS 256
#define PLAN_MAGIC 0x4c505243u /* "CRPL" */

struct op {
	uint32_t code;
	uint32_t nints, nstrs;
	int64_t ints[MAX_INTS];
	/* NULL-terminated; for OP_EXEC laid out as path, argv..., NULL, envp..., NULL. Both point into
	 * the plan's own arrays: an op holds only the strings it has. */
	const char **strs;
	const uint32_t *lens;
};

/* One allocation of bytes, ops and the ops' string pointers and lengths, sized by the plan: a
 * start's plan is a few KB from the heap, not a fresh mapping that every start faults in page by
 * page (ops of fixed size took 3 KB each, 150 KB a plan, which malloc mapped and unmapped: the
 * agent has malloc map every block from 32 KB, see corral_tune_malloc). */
struct plan {
	uint32_t count;
	struct op *ops;
	char *bytes;
};

struct sync_msg {
	int32_t type, a, b;
};

/* What one child needs while it runs: its plan, its sync fd, and the rootfs it resolves in.
 * files_bound >= 0: it was cloned sharing the agent's fd table (spawn.c says why), and its first
 * act is to take a copy of the fds below files_bound only, keep those in keep[], and clear
 * *sharing to let the parent go on. */
#define CHILD_KEEP_MAX 4
struct child {
	const struct plan *plan;
	int sync_fd, parent_fd;
	int root_fd;
	int files_bound;
	int keep[CHILD_KEEP_MAX];
	int nkeep;
	int *sharing;
};

/* plan.c: decode a plan buffer (in the parent: it allocates), and free it. 0 or -errno. */
int decode_plan(const uint8_t *buf, int len, struct plan *plan);
void free_plan(struct plan *plan);

/* executor.c: the child's whole life, clone to execve (raw syscalls only). */
int child_main(void *arg);

#endif
