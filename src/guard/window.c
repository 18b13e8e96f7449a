/*
 * window.c - sliding-window counters and distinct-key bitmaps (see
 * window.h): two aligned fixed windows, the older one weighted by how
 * much of it the sliding window still covers.
 */
#include <math.h>

#include "guard/window.h"

/*
 * Where the window holding `now` starts, and whether the window that
 * held `start` is the one right before it (its count becomes prev) or
 * older (prev is zero).  Windows are aligned on multiples of the period
 * so that every counter with the same period turns over at the same
 * instant: callers rely on "bits of prev were set before cur began".
 */
static int win_advance(uint64_t *start, uint64_t now, uint32_t period)
{
	uint64_t el;

	if (now < *start)
		return 0; /* clock went back: stay in this window */
	el = now - *start;
	if (el < period)
		return 0;
	*start = now - now % period;
	return el < 2 * (uint64_t)period ? 1 : 2;
}

static void ctr_rotate(struct win_ctr *c, uint64_t now, uint32_t period)
{
	switch (win_advance(&c->start, now, period)) {
	case 1:
		c->prev = c->cur;
		c->cur = 0;
		break;
	case 2:
		c->prev = 0;
		c->cur = 0;
		break;
	default:
		break;
	}
}

static uint32_t ctr_estimate(const struct win_ctr *c, uint64_t now,
			     uint32_t period)
{
	uint64_t el = now > c->start ? now - c->start : 0;
	uint64_t est;

	if (el > period)
		el = period;
	est = c->cur + (uint64_t)c->prev * (period - el) / period;
	return est > UINT32_MAX ? UINT32_MAX : (uint32_t)est;
}

uint32_t win_ctr_add(struct win_ctr *c, uint64_t now, uint32_t period,
		     uint32_t n)
{
	if (period == 0)
		period = 1;
	ctr_rotate(c, now, period);
	c->cur = c->cur > UINT32_MAX - n ? UINT32_MAX : c->cur + n;
	return ctr_estimate(c, now, period);
}

uint32_t win_ctr_read(const struct win_ctr *c, uint64_t now, uint32_t period)
{
	struct win_ctr tmp = *c;

	if (period == 0)
		period = 1;
	ctr_rotate(&tmp, now, period);
	return ctr_estimate(&tmp, now, period);
}

void win_bits_rotate(struct win_bits *b, uint64_t now, uint32_t period)
{
	unsigned i;

	if (period == 0)
		period = 1;
	switch (win_advance(&b->start, now, period)) {
	case 1:
		for (i = 0; i < WIN_BITS_WORDS; i++) {
			b->prev[i] = b->cur[i];
			b->cur[i] = 0;
		}
		break;
	case 2:
		for (i = 0; i < WIN_BITS_WORDS; i++) {
			b->prev[i] = 0;
			b->cur[i] = 0;
		}
		break;
	default:
		break;
	}
}

void win_bits_set(struct win_bits *b, uint64_t now, uint32_t period, uint64_t h)
{
	unsigned bit = win_bits_index(h);

	win_bits_rotate(b, now, period);
	b->cur[bit / 64] |= (uint64_t)1 << (bit % 64);
}

unsigned win_bits_popcount(const uint64_t w[WIN_BITS_WORDS])
{
	unsigned i, n = 0;

	for (i = 0; i < WIN_BITS_WORDS; i++)
		n += (unsigned)__builtin_popcountll(w[i]);
	return n;
}

unsigned win_bits_estimate(unsigned set)
{
	double m = WIN_BITS;

	if (set == 0)
		return 0;
	if (set >= WIN_BITS)
		return 4 * WIN_BITS;
	return (unsigned)(-m * log(1.0 - (double)set / m) + 0.5);
}
