/*
 * ctl_int.h - private to the control layer: the answer being built,
 * shared by the server (ctl.c) and the answer helpers (ctlout.c).
 */
#ifndef SIPGUARD_CTL_INT_H
#define SIPGUARD_CTL_INT_H

#include <jansson.h>

#include "ctl/ctl.h"

enum out_state { OUT_LIST, OUT_TOP };

/*
 * A list answer is streamed: each item is built as a jansson object and
 * dumped into b at once, so a 4 MiB answer never exists as a tree of
 * jansson objects (several times its size).  The stats object and the
 * top-level fields after the list are small and kept as objects until
 * ctl__out_end().
 */
struct ctl_out {
	struct buf *b;
	enum ctl_cmd cmd;
	enum out_state state;
	unsigned items;
	int err;       /* first failure of a helper */
	json_t *stats; /* stats answer: its object, or NULL */
	json_t *top;   /* fields after the list, or NULL */
};

/* End the list (once); top-level fields follow.  0 or the sticky error
 * (-EINVAL for a bad key). */
int ctl__out_top(struct ctl_out *o, const char *key);
/* Close the answer: the list or the stats object, the top-level fields,
 * "}\n".  0, -ENOSPC (over the cap) or -ENOMEM.  Frees what o holds. */
int ctl__out_end(struct ctl_out *o);
/* Free what o holds (after a failure). */
void ctl__out_drop(struct ctl_out *o);
/* Append j compactly to b (j not stolen).  0, -ENOSPC or -ENOMEM; b as
 * it was on failure. */
int ctl__json_put(struct buf *b, const json_t *j);
/* A JSON string of s, any bytes made valid UTF-8 (U+FFFD for each bad
 * byte); json null for an empty or NULL s.  NULL: no memory. */
json_t *ctl__json_text(struct str s);

#endif
