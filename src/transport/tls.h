/*
 * tls.h - public TLS part of the transport layer (included by
 * transport.h): SIP over TLS (RFC 3261 26.2, RFC 5630) with OpenSSL 3.
 *
 * TLS is set up per zone, before the zone's `tls` listeners are opened:
 * tp_tls_zone() builds one server context per certificate (SNI picks
 * among them by the names the certificates carry; the first is the
 * default) and one client context for the connections the zone opens
 * (server certificate verified against ca_file and the peer's configured
 * name, RFC 5922 7.1: subjectAltName DNS names, else the common name).
 *
 * Handshakes are non-blocking, on the loop, bounded by handshake_ms; an
 * accepted connection passes the transport's gate first (the handshake
 * rate per source is the gate's connection rate).  A verified client
 * certificate's identity (first DNS/URI subjectAltName, else the common
 * name) is logged and can be asked for by connection id.
 *
 * Reload (tp_tls_reload): every zone's files are read again into new
 * contexts; only when all of them are good are they swapped in.  Live
 * connections keep the context they were made with (OpenSSL counts its
 * references), so nothing is dropped.  Key passwords and keys never reach
 * a log; OpenSSL's own errors name files and reasons only.
 */
#ifndef SIPGUARD_TRANSPORT_TLS_H
#define SIPGUARD_TRANSPORT_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"

struct transport;

enum {
	TLS_MAX_CERTS = 4,  /* certificates per zone (SNI) */
	TLS_MAX_ZONES = 64, /* zones with TLS per transport */
	TLS_MAX_NAMES = 64, /* configured peer names */
	TLS_PATH_LEN = 256,
	TLS_LIST_LEN = 512,  /* cipher lists */
	TLS_NAME_LEN = 254,  /* host names */
	TLS_IDENT_LEN = 128, /* identities kept per connection */
	TLS_PASS_LEN = 128,
	TLS_MAX_ALLOWED = 8, /* allowed client names per zone */
};

enum tls_verify {
	TLS_VERIFY_NONE = 0,
	TLS_VERIFY_OPTIONAL,
	TLS_VERIFY_REQUIRE,
};

/*
 * TLS settings of one zone.  Strings are NUL-terminated; NULL or "" means
 * not set.  tp_tls_zone() copies them all.
 */
struct tls_conf {
	const char *cert_files[TLS_MAX_CERTS]; /* certificate + chain */
	const char *key_files[TLS_MAX_CERTS];
	unsigned ncerts;
	const char *key_password; /* secret */
	const char *ciphers;      /* TLS 1.2; NULL: AEAD default */
	const char *ciphersuites; /* TLS 1.3; NULL: default */
	bool tls13_only;          /* else TLS 1.2 and 1.3 */
	const char *client_ca_file;
	enum tls_verify verify_clients;
	/* REQUIRE only: client certificates must carry one of these names
	 * (X509_check_host rules); none: any the CA signed. */
	const char *allowed_clients[TLS_MAX_ALLOWED];
	unsigned nallowed;
	const char *ca_file;   /* outbound; NULL: system CAs */
	uint32_t handshake_ms; /* 0: 10 s */
	bool no_resumption;
};

/* The defaults: AEAD with ECDHE only. */
extern const char tls_default_ciphers[];
extern const char tls_default_ciphersuites[];

/*
 * Set up TLS for zone: server contexts when c->ncerts > 0, and the client
 * context.  Every file is read now.  Returns 0; -EINVAL (bad file,
 * certificate, key, key mismatch, expired certificate, a cipher list
 * that allows nothing), -EEXIST (zone set already), -ENOSPC, -ENOMEM;
 * err gets one line saying what and which file (never secrets).
 */
int tp_tls_zone(struct transport *tp, uint16_t zone, const struct tls_conf *c,
		char *err, size_t errsz);
/*
 * Read every zone's certificates, keys and CA files again and swap the
 * new contexts in, all zones at once, or none (-EINVAL, err set) when any
 * file is bad: then the running ones stay.  Live connections are kept.
 * 0 when there is no TLS.
 */
int tp_tls_reload(struct transport *tp, char *err, size_t errsz);
/*
 * The name the certificate of the TLS server at `a` must carry (and
 * that is sent as SNI), e.g. a backend's or trunk's configured name.
 * Without one, the certificate must carry a's IP address.  0, -ENOSPC,
 * -EINVAL.
 */
int tp_tls_peer_name(struct transport *tp, const struct sg_addr *a,
		     const char *name);
/*
 * The verified identity of connection conn_id's peer (its certificate's
 * first DNS or URI subjectAltName, else its common name), NUL-terminated
 * and truncated to bufsz.  0; -ENOENT (no such connection), -EPERM (not
 * TLS, or no verified certificate).
 */
int tp_tls_identity(const struct transport *tp, uint64_t conn_id, char *buf,
		    size_t bufsz);

#endif
