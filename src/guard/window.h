/*
 * window.h - fixed-size sliding-window counters for flood and scanner
 * detection.
 *
 * A counter keeps two fixed windows of `period` ms, aligned on multiples
 * of the period: the current one and the one before it.  The rate over
 * the last `period` ms is estimated as
 *
 *	cur + prev * (period - elapsed) / period
 *
 * where elapsed is the time spent in the current window, i.e. the
 * previous window's count is weighted by how much of it still overlaps
 * the sliding window (the haproxy freq_ctr idea, STYLE.md 7).  No list of
 * timestamps, no allocation: 16 bytes per counter.
 *
 * struct win_bits is the same idea for approximate distinct counts: two
 * 256-bit bitmaps (current and previous window) into which hashed keys
 * (users, targets) set one bit each; the number of distinct keys is
 * estimated from the number of bits set (linear counting, Whang et al.
 * 1990).  Good to within a few percent up to ~200 distinct keys, which is
 * far above any threshold we use; beyond it the estimate saturates high.
 *
 * Time is a parameter (monotonic ms), so tests drive a fake clock.  A
 * clock that goes backwards is treated as "still in the current window".
 */
#ifndef SIPGUARD_GUARD_WINDOW_H
#define SIPGUARD_GUARD_WINDOW_H

#include <stdint.h>

struct win_ctr {
	uint64_t start; /* start of the current window, ms */
	uint32_t cur;   /* events in the current window (saturating) */
	uint32_t prev;  /* events in the previous window */
};

/*
 * Count n events at `now` and return the new estimate over the last
 * period ms.  period must be > 0 (0 is treated as 1).
 */
uint32_t win_ctr_add(struct win_ctr *c, uint64_t now, uint32_t period,
		     uint32_t n);
/* The estimate without counting anything; c is not modified. */
uint32_t win_ctr_read(const struct win_ctr *c, uint64_t now, uint32_t period);

enum {
	WIN_BITS = 256, /* bits per window bitmap */
	WIN_BITS_WORDS = WIN_BITS / 64,
};

struct win_bits {
	uint64_t start;
	uint64_t cur[WIN_BITS_WORDS];
	uint64_t prev[WIN_BITS_WORDS];
};

/* Advance b to the window holding `now` (same rule as win_ctr). */
void win_bits_rotate(struct win_bits *b, uint64_t now, uint32_t period);
/* Rotate, then set the bit of key hash h in the current window. */
void win_bits_set(struct win_bits *b, uint64_t now, uint32_t period,
		  uint64_t h);
/* The bit index win_bits_set() uses for hash h (top 8 bits). */
static inline unsigned win_bits_index(uint64_t h)
{
	return (unsigned)(h >> 56) & (WIN_BITS - 1);
}
/* Bits set in a 256-bit map. */
unsigned win_bits_popcount(const uint64_t w[WIN_BITS_WORDS]);
/*
 * Linear-counting estimate of the distinct keys behind `set` bits of a
 * WIN_BITS map: -m ln(1 - set/m), rounded; a full map gives 4 * WIN_BITS.
 */
unsigned win_bits_estimate(unsigned set);

#endif
