/*
 * topo_int.h - state shared by the files of topology hiding: topo.c
 * (per-proxy state, scratch, messages coming back) and topo_out.c
 * (messages leaving a hiding zone).  Private to those two files.
 */
#ifndef SIPGUARD_PROXY_TOPO_INT_H
#define SIPGUARD_PROXY_TOPO_INT_H

#include "proxy/proxy_int.h"

enum {
	TOPO_SCRATCH = 65536, /* replacement text of one message */
	/* Most bytes sealed into a URI: its token (4/3 of the bytes and
	 * the tag) and our host, port and parameters stay in SIP_MAX_URI. */
	TOPO_URI_PLAIN = (SIP_MAX_URI - 128) * 3 / 4 - PROXY_TOPO_MAC_LEN,
	TOPO_KIND_CONTACT = 'C',
	TOPO_KIND_ROUTE = 'R',
	TOPO_KIND_PARTY = 'P',
	TOPO_KIND_CALLID = 'I',
	/* First byte of a sealed route: where the hidden entries were,
	 * in Record-Route order, relative to our remaining entry. */
	TOPO_RR_ABOVE = 'A', /* before ours: an answer to a caller */
	TOPO_RR_BELOW = 'B', /* after ours: a request to a callee */
};

/* Owner: struct proxy (p->topo). */
struct proxy_topo {
	struct proxy_topo_keys k;
	const struct sip_msg *orig; /* inbound: the message as received */
	struct sip_msg *msg;        /* inbound: the mapped message */
	struct buf in;              /* its bytes */
	char *scr;                  /* replacement text, reset per message */
	size_t used;
};

/* Append formatted text to t's scratch; *sp gets it.  -ENOSPC if full. */
int proxy__topo_fmt(struct proxy_topo *t, struct str *sp, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
