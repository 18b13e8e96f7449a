/*
 * edit.h - one-pass rewriting of a byte range ("splice list").
 *
 * A builder records edits against an original buffer (replace the bytes
 * [off, off+len) with up to three borrowed slices) and then writes the
 * result in a single pass.  Shared by the SIP message and SDP builders so
 * that neither re-parses nor copies the original more than once.
 */
#ifndef SIPGUARD_CORE_EDIT_H
#define SIPGUARD_CORE_EDIT_H

#include <stddef.h>

#include "core/str.h"

struct buf;

struct edit {
	size_t off;      /* offset in the original */
	size_t len;      /* bytes replaced (0: pure insertion) */
	struct str s[3]; /* written in their place, in order */
	unsigned seq;    /* insertion order: ties at one offset */
};

/*
 * Write orig with the n edits applied to out.  Edits are sorted in place
 * by (off, seq).  Overlapping replaced ranges, or ranges past the end of
 * orig, give -EINVAL; a full buffer gives -ENOSPC or -ENOMEM.
 */
int edit_apply(struct buf *out, struct str orig, struct edit *e, unsigned n);

#endif
