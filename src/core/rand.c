/*
 * rand.c - bytes from the kernel's CSPRNG; see rand.h.
 */
#include "core/rand.h"

#include <errno.h>
#include <stdint.h>
#include <sys/random.h>

int rand_bytes(void *p, size_t n)
{
	uint8_t *q = p;
	ssize_t r;

	while (n > 0) {
		r = getrandom(q, n, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		/* A short read happens only for large n or on a signal. */
		q += r;
		n -= (size_t)r;
	}
	return 0;
}
