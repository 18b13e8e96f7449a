/*
 * tls_int.h - private to the transport layer's TLS files: the per-zone
 * TLS state (tls_ctx.c) and the per-connection TLS calls tcp.c and
 * conn.c make (tls.c).  Includes OpenSSL; tp_int.h does not.
 */
#ifndef SIPGUARD_TRANSPORT_TLS_INT_H
#define SIPGUARD_TRANSPORT_TLS_INT_H

#include <openssl/ssl.h>

#include "transport/tp_int.h"

/* The contexts made from one zone's files at one time. */
struct tls_ctxs {
	SSL_CTX *srv[TLS_MAX_CERTS]; /* [0]: the default certificate */
	unsigned nsrv;
	SSL_CTX *cli;
};

/* One zone's TLS settings (copied, for reload) and current contexts.
 * Owner: struct tp_tls.  Wiped when freed (key password). */
struct tls_zone {
	uint16_t zone;
	char cert[TLS_MAX_CERTS][TLS_PATH_LEN];
	char key[TLS_MAX_CERTS][TLS_PATH_LEN];
	unsigned ncerts;
	char pass[TLS_PASS_LEN];
	char ciphers[TLS_LIST_LEN], suites[TLS_LIST_LEN];
	char client_ca[TLS_PATH_LEN], ca[TLS_PATH_LEN];
	bool tls13_only, no_resumption;
	enum tls_verify verify;
	char allowed[TLS_MAX_ALLOWED][TLS_NAME_LEN];
	unsigned nallowed;
	uint32_t handshake_ms;
	struct tls_ctxs cur;
};

struct tls_name {
	struct sg_addr addr;
	char name[TLS_NAME_LEN];
};

struct tls_sess {
	struct sg_addr addr;
	SSL_SESSION *s; /* owned reference */
};

/* Owner: struct transport (tp->tls), made by the first tp_tls_* call. */
struct tp_tls {
	struct tls_zone *z[TLS_MAX_ZONES];
	unsigned nz;
	struct tls_name names[TLS_MAX_NAMES];
	unsigned nnames;
	struct tls_sess sess[TLS_MAX_NAMES];
	unsigned sess_next;
	uint64_t reloads;
};

/* tls_ctx.c */
struct tls_zone *tp__tls_zone_of(const struct transport *tp, uint16_t zone);
const char *tp__tls_peer_name_of(const struct transport *tp,
				 const struct sg_addr *a);
SSL_SESSION *tp__tls_session_of(const struct transport *tp,
				const struct sg_addr *a);

#endif
