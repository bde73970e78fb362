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

/* The op's strings and lengths go to *strs and *lens, which move past them. */
static int decode_op(const char **p, const char *end, struct op *op, const char ***strs, uint32_t **lens)
{
	if (read_u32(p, end, &op->code) || read_u32(p, end, &op->nints) || read_u32(p, end, &op->nstrs))
		return -EINVAL;
	if (op->nints > MAX_INTS || op->nstrs > MAX_STRS) return -E2BIG;
	for (uint32_t i = 0; i < op->nints; i++) {
		if (end - *p < 8) return -EINVAL;
		memcpy(&op->ints[i], *p, 8);
		*p += 8;
	}
	const char **s = *strs;
	uint32_t *l = *lens;
	for (uint32_t i = 0; i < op->nstrs; i++) {
		uint32_t len;
		if (read_u32(p, end, &len) || (uint32_t)(end - *p) < len + 1 || (*p)[len] != '\0')
			return -EINVAL;
		s[i] = *p;
		l[i] = len;
		*p += len + 1;
	}
	s[op->nstrs] = NULL;
	op->strs = s;
	op->lens = l;
	/* room for the NULL, and for the one OP_EXEC adds after argv */
	*strs += op->nstrs + 2;
	*lens += op->nstrs;
	if (op->code == OP_EXEC) {
		/* ints[0] is argc: put a NULL after argv so that argv and envp are both terminated. */
		uint32_t argv_end = 1 + (uint32_t)op->ints[0];
		if (op->nints < 1 || op->ints[0] < 1 || argv_end > op->nstrs) return -EINVAL;
		memmove(&s[argv_end + 1], &s[argv_end], (op->nstrs - argv_end + 1) * sizeof(char *));
		s[argv_end] = NULL;
	}
	return 0;
}

/* The number of strings in the plan's ops, read ahead so that decode_plan allocates what they
 * need; the ops themselves are checked as they are decoded. */
static int count_strings(const char *p, const char *end, uint32_t count, size_t *out)
{
	size_t total = 0;
	for (uint32_t i = 0; i < count; i++) {
		uint32_t code, nints, nstrs;
		if (read_u32(&p, end, &code) || read_u32(&p, end, &nints) || read_u32(&p, end, &nstrs))
			return -EINVAL;
		if (nints > MAX_INTS || nstrs > MAX_STRS) return -E2BIG;
		if ((size_t)(end - p) < (size_t)nints * 8) return -EINVAL;
		p += (size_t)nints * 8;
		for (uint32_t j = 0; j < nstrs; j++) {
			uint32_t len;
			if (read_u32(&p, end, &len) || (uint32_t)(end - p) < len + 1) return -EINVAL;
			p += len + 1;
		}
		total += nstrs;
	}
	*out = total;
	return 0;
}

int decode_plan(const uint8_t *buf, int len, struct plan *plan)
{
	*plan = (struct plan){ 0 };
	const char *p = (const char *)buf, *end = p + (len > 0 ? len : 0);
	uint32_t magic, count;
	size_t nstrs;
	if (read_u32(&p, end, &magic) || magic != PLAN_MAGIC || read_u32(&p, end, &count))
		return -EINVAL;
	/* an op takes at least its 12-byte header: a count that lies is refused before it is used */
	if (count > (uint32_t)len / 12) return -EINVAL;
	int ret = count_strings(p, end, count, &nstrs);
	if (ret) return ret;
	/* each op: its strings, their NULL, and the NULL OP_EXEC puts after argv */
	size_t ptrs = nstrs + 2 * (size_t)count, ops_size = count * sizeof(struct op);
	char *block = malloc(ops_size + ptrs * sizeof(char *) + nstrs * sizeof(uint32_t) + (size_t)len);
	if (!block) return -ENOMEM;
	const char **strs = (const char **)(block + ops_size);
	uint32_t *lens = (uint32_t *)(strs + ptrs);
	plan->ops = (struct op *)block;
	plan->bytes = (char *)(lens + nstrs);
	plan->count = count;
	memcpy(plan->bytes, buf, len);
	p = plan->bytes + 8;
	end = plan->bytes + len;
	for (uint32_t i = 0; i < count; i++) {
		ret = decode_op(&p, end, &plan->ops[i], &strs, &lens);
		if (ret) return ret;
	}
	return p == end ? 0 : -EINVAL;
}

/* ops, strings and bytes are one allocation (decode_plan) */
void free_plan(struct plan *plan)
{
	free(plan->ops);
	*plan = (struct plan){ 0 };
}
