/*
 * subq.c - the queue of one event subscriber (sipguardctl events
 * --follow): a byte ring of whole lines with a fixed capacity, and the
 * filter a subscriber asked for.
 *
 * The daemon never waits for a subscriber.  When a line does not fit, the
 * oldest lines are dropped to make room and counted; the next time the
 * subscriber is served it first gets {"missed":N}, so it knows how many
 * lines it lost and where.  Memory is the ring, allocated once.
 */
#include "ctl/ctl.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"

/* Each line is stored as a 2-byte length, then its bytes. */
enum { SUBQ_HDR = 2 };

int ctl_subq_init(struct ctl_subq *q, size_t cap)
{
	if (!q || cap < 64 || cap > CTL_SUBQ_MAX)
		return -EINVAL;
	memset(q, 0, sizeof(*q));
	q->p = mem_alloc(cap);
	if (!q->p)
		return -ENOMEM;
	q->cap = cap;
	return 0;
}

void ctl_subq_free(struct ctl_subq *q)
{
	if (!q)
		return;
	mem_free(q->p);
	memset(q, 0, sizeof(*q));
}

static void ring_put(struct ctl_subq *q, size_t at, const void *src, size_t n)
{
	size_t i = at % q->cap, first = q->cap - i < n ? q->cap - i : n;

	memcpy(q->p + i, src, first);
	memcpy(q->p, (const char *)src + first, n - first);
}

static void ring_get(const struct ctl_subq *q, size_t at, void *dst, size_t n)
{
	size_t i = at % q->cap, first = q->cap - i < n ? q->cap - i : n;

	memcpy(dst, q->p + i, first);
	memcpy((char *)dst + first, q->p, n - first);
}

static size_t head_len(const struct ctl_subq *q)
{
	uint8_t h[SUBQ_HDR];

	ring_get(q, q->head, h, SUBQ_HDR);
	return (size_t)h[0] << 8 | h[1];
}

static void drop_oldest(struct ctl_subq *q)
{
	size_t n = SUBQ_HDR + head_len(q);

	q->head = (q->head + n) % q->cap;
	q->len -= n;
	q->lines--;
	q->missed++;
}

int ctl_subq_push(struct ctl_subq *q, const char *line, size_t len)
{
	uint8_t h[SUBQ_HDR];

	if (!q || !q->p || (!line && len))
		return -EINVAL;
	if (len > 0xffff || len + SUBQ_HDR > q->cap) {
		q->missed++;
		return -E2BIG;
	}
	while (q->cap - q->len < len + SUBQ_HDR)
		drop_oldest(q);
	h[0] = (uint8_t)(len >> 8);
	h[1] = (uint8_t)len;
	ring_put(q, q->head + q->len, h, SUBQ_HDR);
	ring_put(q, q->head + q->len + SUBQ_HDR, line, len);
	q->len += len + SUBQ_HDR;
	q->lines++;
	return 0;
}

int ctl_subq_pop(struct ctl_subq *q, struct buf *out, size_t max)
{
	size_t n;
	int got = 0;

	if (!q || !out)
		return -EINVAL;
	if (q->missed) {
		if (buf_printf(out, "{\"missed\":%llu}\n",
			       (unsigned long long)q->missed))
			return -ENOSPC;
		q->missed = 0;
	}
	while (q->lines) {
		n = head_len(q);
		/* One line always goes, so that max cannot stall the queue. */
		if (got && out->len + n > max)
			break;
		if (buf_reserve(out, n))
			return got ? got : -ENOSPC;
		ring_get(q, q->head + SUBQ_HDR, out->p + out->len, n);
		out->len += n;
		q->head = (q->head + SUBQ_HDR + n) % q->cap;
		q->len -= SUBQ_HDR + n;
		q->lines--;
		got++;
	}
	return got;
}

/*
 * The value of the first `"key":"` in a line we formatted ourselves (the
 * event log's): the fields a filter looks at come before any field an
 * attacker fills, and every string is JSON-escaped, so the first match
 * is ours.  Empty when absent or null.
 */
static struct str json_field(struct str line, const char *key)
{
	struct str k = str_cstr(key), v;
	size_t i, j;

	for (i = 0; i + k.len <= line.len; i++) {
		if (memcmp(line.p + i, k.p, k.len))
			continue;
		v = str_skip(line, i + k.len);
		for (j = 0; j < v.len && v.p[j] != '"' && v.p[j] != '/'; j++)
			;
		return str_sub(v, 0, j);
	}
	return STR_NULL;
}

bool ctl_filter_match(const struct ctl_filter *f, struct str line)
{
	char ip[SG_ADDR_STRLEN];

	if (!f)
		return true;
	if (f->type[0] &&
	    !str_eq_cstr(json_field(line, ",\"type\":\""), f->type))
		return false;
	if (f->src.len) {
		sg_addr_ip(&f->src, ip, sizeof(ip));
		if (!str_eq_cstr(json_field(line, ",\"src\":\""), ip))
			return false;
	}
	return true;
}
