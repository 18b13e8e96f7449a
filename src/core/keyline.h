/*
 * keyline.h - does a byte range hold an SDES key line?
 *
 * The SDP we write toward an SRTP leg carries our master keys in
 * a=crypto lines (RFC 4568 9.1, key||salt inline).  Every buffer that
 * holds such a message (built output, transaction retransmission copies,
 * transport queues, capture packets) is wiped before it is freed or
 * reused (STYLE.md 5 and 8); this test picks those buffers, so that the
 * others cost no wipe.
 */
#ifndef SIPGUARD_CORE_KEYLINE_H
#define SIPGUARD_CORE_KEYLINE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * True when "a=crypto" occurs in p[0..n) in any letter case (a line
 * we or a peer wrote, or a header that merely names one: wiping too
 * much is harmless).  Reads only inside the range; p may be NULL when n
 * is 0.  One memchr() pass over the '=' bytes: a 1 KiB message has a
 * few dozen.
 */
bool keyline_in(const char *p, size_t n);

/*
 * Overwrite with '*' the key material of every a=crypto line in p[0..n)
 * (RFC 4568 9.1: each "inline:" key||salt, up to '|', ';' or the end of
 * its key-param), in place, same length: a copy of the message for a
 * capture server keeps its Content-Length and says which suite and
 * lifetime were offered, but not the keys.  Lines start after LF (or at
 * p); any letter case.  Returns how many keys were masked.
 */
size_t keyline_mask(char *p, size_t n);

#endif
