/*
 * sip_peer.h - where a SIP message came from or goes to, as the SIP layer
 * sees it: transport kind, address, connection and listener.  Plain data,
 * so the SIP layer (transactions, dialogs) can hold it without depending
 * on the transport layer, which fills and consumes it.
 */
#ifndef SIPGUARD_SIP_PEER_H
#define SIPGUARD_SIP_PEER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/addr.h"

enum sip_tp {
	SIP_TP_UDP = 0,
	SIP_TP_TCP,
	SIP_TP_TLS,
};

struct sip_peer {
	enum sip_tp tp;
	struct sg_addr addr; /* remote address */
	uint64_t conn_id;    /* stream connection; 0: UDP, or "any/new" */
	uint16_t local;      /* listener that received / should send */
	uint16_t zone;       /* zone of that listener */
};

static inline bool sip_tp_reliable(enum sip_tp tp)
{
	return tp != SIP_TP_UDP;
}

/* "UDP", "TCP", "TLS" (as in Via). */
const char *sip_tp_name(enum sip_tp tp);

#endif
