/*
 * kfast_int.h - what the kernel fast path's loader (kfast.c) and its
 * interface table (kfast_link.c) share: the struct behind struct kfast.
 */
#ifndef SIPGUARD_KFAST_INT_H
#define SIPGUARD_KFAST_INT_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "media/kfast.h"

enum {
	KF_NL_BUF = 16384, /* one rtnetlink notification fits */
};

/* One interface the program is (or cannot be) attached to. */
struct kf_link {
	unsigned ifindex;
	char name[IFNAMSIZ]; /* as last listed or announced (logs) */
	int fd;              /* the TCX link; -1: the device refused it */
	bool seen;           /* scan scratch: the device still exists */
	bool listed;         /* scan scratch: its name still matches the list */
};

/* Owner: the signalling thread (kfast_open/kfast_close, kfast_watch);
 * the relay threads only use map_fd, which never changes. */
struct kfast {
	struct bpf_object *obj;
	int map_fd;
	int prog_fd, ifs_fd; /* kf_ingress, kf_ifs (owned by obj) */
	int nl_fd;           /* rtnetlink link/address events; -1: none */
	bool dirty;          /* an event may have made a device eligible */
	bool resync;         /* events lost: list once the queue is empty */
	bool denied;         /* attaching refused for lack of privilege */
	bool full_said;      /* "table full" logged since the last drop */
	bool err_said;       /* a socket error logged (once in a row) */
	uint64_t scan_ms;    /* last scan (the watch's clock); 0: none */
	unsigned scans;      /* interface listings since open (tests) */
	unsigned nlk;        /* entries in lk */
	unsigned nlinks;     /* of them attached (fd >= 0) */
	unsigned npat;       /* media.kernel_interfaces; 0: every one */
	char pat[KF_PATS_MAX][IFNAMSIZ];
	struct kf_link lk[KF_IFS_MAX];
	char nlbuf[KF_NL_BUF];
};

/* kfast_link.c: list the interfaces and attach where eligible; at
 * start (late false: also says which patterns match nothing) and on
 * events.  Returns the last attach error (0: none). */
int kfast__scan(struct kfast *k, bool late);
/* Subscribe to link and address events (before the first scan, so no
 * device appears unseen in between).  0 or -errno. */
int kfast__watch_open(struct kfast *k);
/* Close the links and the event socket. */
void kfast__links_close(struct kfast *k);

#endif
