/*
 * ctl_int.h - private to the control layer: the answer being built,
 * shared by the server (ctl.c) and the answer helpers (ctlout.c).
 */
#ifndef SIPGUARD_CTL_INT_H
#define SIPGUARD_CTL_INT_H

#include "ctl/ctl.h"

enum out_state { OUT_LIST, OUT_TOP };

struct ctl_out {
	struct buf *b;
	enum ctl_cmd cmd;
	enum out_state state;
	unsigned items;
	int err; /* first failure of a helper */
};

/* End the list (once); top-level fields follow.  0 or the sticky error
 * (-EINVAL for a bad key). */
int ctl__out_top(struct ctl_out *o, const char *key);

#endif
