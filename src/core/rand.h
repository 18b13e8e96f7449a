/*
 * rand.h - bytes from the kernel's CSPRNG (getrandom(2)).
 *
 * One place for what every keyed table (SipHash keys), the transaction
 * layer (branch secrets) and the guard need: n unpredictable bytes, the
 * call retried when a signal interrupts it.  getrandom blocks only until
 * the kernel's pool is first initialised, at boot; after that it never
 * blocks and never fails for the sizes asked here.
 */
#ifndef SIPGUARD_CORE_RAND_H
#define SIPGUARD_CORE_RAND_H

#include <stddef.h>

/* Fill the n bytes at p.  Returns 0 or -errno from getrandom(2). */
int rand_bytes(void *p, size_t n);

#endif
