/*
 * Decoding the setup plan that src/runtime/plan.ts encodes, in the parent before the clone: this
 * may allocate, since no child exists yet. The child then reads the decoded ops in place.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "plan.h"

/* ---- decoding, in the parent (may allocate) ---- */

static int read_u32(const char **p, const char *end, uint32_t *out)
{
	if (end - *p < 4) return -EINVAL;
	memcpy(out, *p, 4);
	*p += 4;
	return 0;
}

static int decode_op(const char **p, const char *end, struct op *op)
{
	if (read_u32(p, end, &op->code) || read_u32(p, end, &op->nints) || read_u32(p, end, &op->nstrs))
		return -EINVAL;
	if (op->nints > MAX_INTS || op->nstrs > MAX_STRS) return -E2BIG;
	for (uint32_t i = 0; i < op->nints; i++) {
		if (end - *p < 8) return -EINVAL;
		memcpy(&op->ints[i], *p, 8);
		*p += 8;
	}
	for (uint32_t i = 0; i < op->nstrs; i++) {
		uint32_t len;
		if (read_u32(p, end, &len) || (uint32_t)(end - *p) < len + 1 || (*p)[len] != '\0')
			return -EINVAL;
		op->strs[i] = *p;
		op->lens[i] = len;
		*p += len + 1;
	}
	op->strs[op->nstrs] = NULL;
	if (op->code == OP_EXEC) {
		/* ints[0] is argc: put a NULL after argv so that argv and envp are both terminated. */
		uint32_t argv_end = 1 + (uint32_t)op->ints[0];
		if (op->nints < 1 || op->ints[0] < 1 || argv_end > op->nstrs) return -EINVAL;
		memmove(&op->strs[argv_end + 1], &op->strs[argv_end], (op->nstrs - argv_end + 1) * sizeof(char *));
		op->strs[argv_end] = NULL;
	}
	return 0;
}

int decode_plan(const uint8_t *buf, int len, struct plan *plan)
{
	plan->bytes = malloc(len);
	if (!plan->bytes) return -ENOMEM;
	memcpy(plan->bytes, buf, len);
	const char *p = plan->bytes, *end = plan->bytes + len;
	uint32_t magic;
	if (read_u32(&p, end, &magic) || magic != PLAN_MAGIC || read_u32(&p, end, &plan->count))
		return -EINVAL;
	plan->ops = calloc(plan->count ? plan->count : 1, sizeof(struct op));
	if (!plan->ops) return -ENOMEM;
	for (uint32_t i = 0; i < plan->count; i++) {
		int ret = decode_op(&p, end, &plan->ops[i]);
		if (ret) return ret;
	}
	return p == end ? 0 : -EINVAL;
}

void free_plan(struct plan *plan)
{
	free(plan->ops);
	free(plan->bytes);
}
