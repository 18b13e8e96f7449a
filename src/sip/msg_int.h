/*
 * msg_int.h - private interface between msg.c (line splitting, start line,
 * body) and msg_hdrs.c (eager parsing of the headers a proxy needs).
 * Not for use outside those two files.
 */
#ifndef SIPGUARD_SIP_MSG_INT_H
#define SIPGUARD_SIP_MSG_INT_H

#include "sip/sip_int.h"

/* State of one sip_msg_parse() call. */
struct sip__pctx {
	struct sip_msg *m;
	const char *base; /* start of the message */
	const char *end;  /* end of the input */
	struct sip_perr *errp;
	/* run-time limits, clamped to the compile-time array sizes */
	size_t max_msg, max_line, max_uri;
	unsigned max_headers, max_via;
	int16_t last[SIP_HDR__COUNT]; /* last header of each id; valid
				       * only where m->first[id] >= 0 */
	const char *version_at;       /* unsupported SIP version (deferred) */
	const char *star_at;          /* Contact: * seen here */
};

/* Fail with a code and static reason at `at` (inside the message). */
int sip__msg_fail(struct sip__pctx *c, enum sip_perr_code code, const char *at,
		  const char *reason);
/* Forward a sub-parser's error on `slice` with a message offset. */
int sip__msg_subfail(struct sip__pctx *c, const struct sip_perr *e,
		     struct str slice);
/* Parse header h eagerly if it is one the proxy needs (msg_hdrs.c). */
int sip__msg_hdr_eager(struct sip__pctx *c, const struct sip_hdr *h);
/* After the last header: mandatory headers, CSeq method, Contact *. */
int sip__msg_check(struct sip__pctx *c);

#endif
