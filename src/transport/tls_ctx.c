/*
 * tls_ctx.c - the TLS contexts of a transport: per zone, one OpenSSL
 * server context per certificate (SNI, RFC 6066 3, picks one by the names
 * the certificates carry) and one client context; the cipher policy; the
 * configured names of TLS peers (RFC 5922 7: the name a server's
 * certificate must carry); a small cache of client sessions for
 * resumption; atomic reload of every file.  Per-connection TLS is tls.c.
 *
 * Secrets: keys are read here with our password callback, which only
 * ever hands OpenSSL the configured password (so OpenSSL never prompts
 * on a terminal); the password copy is wiped when the zone goes.  Error
 * lines carry file names and OpenSSL's reason strings only.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "core/log.h"
#include "core/mem.h"
#include "transport/tls_int.h"

const char tls_default_ciphers[] =
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
const char tls_default_ciphersuites[] =
	"TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256:"
	"TLS_CHACHA20_POLY1305_SHA256";

enum {
	TLS_SESS_CACHE = 1024,   /* server sessions per context */
	TLS_SESS_TIMEOUT = 3600, /* s */
	TLS_VERIFY_DEPTH = 8,
	TLS_DEFAULT_HS_MS = 10000,
};

static const unsigned char sid_ctx[] = "sipguard";

/* "what: file: OpenSSL's first reason" into err; clears OpenSSL's queue. */
static int ctx_fail(char *err, size_t errsz, const char *what, const char *file)
{
	/* The first error says why (a system error names the errno); the
	 * last one only where OpenSSL noticed. */
	unsigned long e = ERR_peek_error();
	char why[160] = "";

	if (e)
		ERR_error_string_n(e, why, sizeof(why));
	ERR_clear_error();
	if (err && errsz)
		snprintf(err, errsz, "%s%s%s%s%s", what, file ? " " : "",
			 file ? file : "", why[0] ? ": " : "", why);
	return -EINVAL;
}

/* PEM password callback: the configured password or nothing. */
static int pass_cb(char *buf, int size, int rwflag, void *u)
{
	const char *pw = u;
	size_t n = pw ? strlen(pw) : 0;

	(void)rwflag;
	if (size <= 0 || n >= (size_t)size)
		return 0;
	memcpy(buf, pw, n);
	return (int)n;
}

static int ctx_common(SSL_CTX *ctx, const struct tls_zone *z, char *err,
		      size_t errsz)
{
	if (!SSL_CTX_set_min_proto_version(ctx, z->tls13_only ? TLS1_3_VERSION
							      : TLS1_2_VERSION))
		return ctx_fail(err, errsz, "TLS version", NULL);
	/* A list that matches nothing fails here; so does TLS 1.2 only
	 * with no TLS 1.2 cipher (handshakes would all fail). */
	if (!SSL_CTX_set_cipher_list(ctx, z->ciphers))
		return ctx_fail(err, errsz, "ciphers: no usable cipher in",
				z->ciphers);
	if (!SSL_CTX_set_ciphersuites(ctx, z->suites))
		return ctx_fail(err, errsz, "ciphersuites: bad list",
				z->suites);
	/* No renegotiation (CVE-2009-3555 class, and CPU for free), no
	 * compression (CRIME); a peer's EOF without close_notify is a plain
	 * end of stream: SIP framing says whether a message was cut.
	 * Decrypted records are cleansed once handed to us (a received
	 * SDP's a=crypto keys would otherwise stay in OpenSSL's record
	 * buffer until overwritten or freed unwiped). */
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
					 SSL_OP_NO_COMPRESSION |
					 SSL_OP_CIPHER_SERVER_PREFERENCE |
					 SSL_OP_IGNORE_UNEXPECTED_EOF |
					 SSL_OP_CLEANSE_PLAINTEXT);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
				      SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
				      SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_verify_depth(ctx, TLS_VERIFY_DEPTH);
	return 0;
}

/* Certificate chain and key from files; key checked against it and the
 * certificate's validity period against now. */
static int ctx_cert(SSL_CTX *ctx, const struct tls_zone *z, unsigned i,
		    char *err, size_t errsz)
{
	EVP_PKEY *key;
	X509 *x;
	BIO *b;
	int ok;

	if (SSL_CTX_use_certificate_chain_file(ctx, z->cert[i]) != 1)
		return ctx_fail(err, errsz, "certificate", z->cert[i]);
	x = SSL_CTX_get0_certificate(ctx);
	if (!x || X509_cmp_current_time(X509_get0_notAfter(x)) <= 0)
		return ctx_fail(err, errsz, "certificate expired:", z->cert[i]);
	if (X509_cmp_current_time(X509_get0_notBefore(x)) >= 0)
		return ctx_fail(err, errsz,
				"certificate not yet valid:", z->cert[i]);
	b = BIO_new_file(z->key[i], "r");
	if (!b)
		return ctx_fail(err, errsz, "key", z->key[i]);
	key = PEM_read_bio_PrivateKey(b, NULL, pass_cb,
				      (void *)(uintptr_t)z->pass);
	BIO_free(b);
	if (!key)
		return ctx_fail(err, errsz, "key (or its password)", z->key[i]);
	ok = SSL_CTX_use_PrivateKey(ctx, key) == 1 &&
	     SSL_CTX_check_private_key(ctx) == 1;
	EVP_PKEY_free(key);
	if (!ok)
		return ctx_fail(err, errsz, "key does not match certificate",
				z->key[i]);
	return 0;
}

static int sni_cb(SSL *ssl, int *alert, void *arg);

static SSL_CTX *ctx_server(const struct tls_zone *z, unsigned i, char *err,
			   size_t errsz)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	STACK_OF(X509_NAME) * cas;

	if (!ctx) {
		ctx_fail(err, errsz, "out of memory", NULL);
		return NULL;
	}
	if (ctx_common(ctx, z, err, errsz) || ctx_cert(ctx, z, i, err, errsz))
		goto fail;
	SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof(sid_ctx) - 1);
	if (z->no_resumption) {
		SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
		SSL_CTX_set_num_tickets(ctx, 0);
	} else {
		/* Tickets carry TLS 1.3 sessions; the cache (bounded) TLS
		 * 1.2 ones for clients without ticket support. */
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
		SSL_CTX_sess_set_cache_size(ctx, TLS_SESS_CACHE);
		SSL_CTX_set_timeout(ctx, TLS_SESS_TIMEOUT);
	}
	if (z->verify != TLS_VERIFY_NONE) {
		if (SSL_CTX_load_verify_locations(ctx, z->client_ca, NULL) != 1)
			goto ca_fail;
		cas = SSL_load_client_CA_file(z->client_ca);
		if (!cas)
			goto ca_fail;
		SSL_CTX_set_client_CA_list(ctx, cas);
		SSL_CTX_set_verify(
			ctx,
			SSL_VERIFY_PEER |
				(z->verify == TLS_VERIFY_REQUIRE
					 ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT
					 : 0),
			NULL);
	}
	SSL_CTX_set_tlsext_servername_callback(ctx, sni_cb);
	return ctx;
ca_fail:
	ctx_fail(err, errsz, "client CA file", z->client_ca);
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

static int new_session_cb(SSL *ssl, SSL_SESSION *sess);

static SSL_CTX *ctx_client(const struct tls_zone *z, char *err, size_t errsz)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (!ctx) {
		ctx_fail(err, errsz, "out of memory", NULL);
		return NULL;
	}
	if (ctx_common(ctx, z, err, errsz))
		goto fail;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (z->ca[0] ? SSL_CTX_load_verify_locations(ctx, z->ca, NULL) != 1
		     : SSL_CTX_set_default_verify_paths(ctx) != 1) {
		ctx_fail(err, errsz, "CA file", z->ca[0] ? z->ca : "(system)");
		goto fail;
	}
	/* Our first certificate doubles as the client certificate, for
	 * trunks that identify us by it (mutual TLS). */
	if (z->ncerts && ctx_cert(ctx, z, 0, err, errsz))
		goto fail;
	if (!z->no_resumption) {
		SSL_CTX_set_session_cache_mode(
			ctx, SSL_SESS_CACHE_CLIENT |
				     SSL_SESS_CACHE_NO_INTERNAL_STORE);
		SSL_CTX_sess_set_new_cb(ctx, new_session_cb);
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

static void ctxs_free(struct tls_ctxs *s)
{
	unsigned i;

	for (i = 0; i < s->nsrv; i++)
		SSL_CTX_free(s->srv[i]);
	SSL_CTX_free(s->cli);
	memset(s, 0, sizeof(*s));
}

/* Every context of z from its files; all or nothing. */
static int ctxs_build(struct tls_ctxs *s, const struct tls_zone *z, char *err,
		      size_t errsz)
{
	unsigned i;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < z->ncerts; i++) {
		s->srv[i] = ctx_server(z, i, err, errsz);
		if (!s->srv[i])
			goto fail;
		s->nsrv++;
	}
	s->cli = ctx_client(z, err, errsz);
	if (!s->cli)
		goto fail;
	return 0;
fail:
	ctxs_free(s);
	return -EINVAL;
}

/* ------------------------------------------------------------ lookups */

struct tls_zone *tp__tls_zone_of(const struct transport *tp, uint16_t zone)
{
	unsigned i;

	if (!tp->tls)
		return NULL;
	for (i = 0; i < tp->tls->nz; i++)
		if (tp->tls->z[i]->zone == zone)
			return tp->tls->z[i];
	return NULL;
}

/*
 * SNI: the first certificate whose names (RFC 6125 rules, as OpenSSL's
 * X509_check_host applies them) cover the asked name; the default one
 * otherwise.  The zone is looked up anew, so a handshake that spans a
 * reload switches to a current context, never to a freed one.
 */
static int sni_cb(SSL *ssl, int *alert, void *arg)
{
	const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	struct tp_conn *c = SSL_get_app_data(ssl);
	struct tls_zone *z;
	unsigned i;

	(void)alert;
	(void)arg;
	if (!name || !c || !(z = tp__tls_zone_of(c->tp, c->zone)))
		return SSL_TLSEXT_ERR_OK;
	for (i = 1; i < z->cur.nsrv; i++) {
		X509 *x = SSL_CTX_get0_certificate(z->cur.srv[i]);

		if (x && X509_check_host(x, name, 0, 0, NULL) == 1) {
			SSL_set_SSL_CTX(ssl, z->cur.srv[i]);
			break;
		}
	}
	return SSL_TLSEXT_ERR_OK;
}

const char *tp__tls_peer_name_of(const struct transport *tp,
				 const struct sg_addr *a)
{
	unsigned i;

	if (!tp->tls)
		return NULL;
	for (i = 0; i < tp->tls->nnames; i++)
		if (sg_addr_eq(&tp->tls->names[i].addr, a))
			return tp->tls->names[i].name;
	return NULL;
}

/* Client sessions: one per peer address, oldest replaced first. */
static int new_session_cb(SSL *ssl, SSL_SESSION *sess)
{
	struct tp_conn *c = SSL_get_app_data(ssl);
	struct tp_tls *t = c ? c->tp->tls : NULL;
	struct tls_sess *e = NULL;
	unsigned i;

	if (!t)
		return 0;
	for (i = 0; i < TLS_MAX_NAMES && !e; i++)
		if (t->sess[i].s && sg_addr_eq(&t->sess[i].addr, &c->peer))
			e = &t->sess[i];
	if (!e)
		e = &t->sess[t->sess_next++ % TLS_MAX_NAMES];
	SSL_SESSION_free(e->s);
	e->addr = c->peer;
	e->s = sess;
	return 1; /* we keep the reference */
}

SSL_SESSION *tp__tls_session_of(const struct transport *tp,
				const struct sg_addr *a)
{
	unsigned i;

	if (!tp->tls)
		return NULL;
	for (i = 0; i < TLS_MAX_NAMES; i++)
		if (tp->tls->sess[i].s && sg_addr_eq(&tp->tls->sess[i].addr, a))
			return tp->tls->sess[i].s;
	return NULL;
}

bool tp__tls_can_serve(const struct transport *tp, uint16_t zone)
{
	const struct tls_zone *z = tp__tls_zone_of(tp, zone);

	return z && z->cur.nsrv > 0;
}

uint32_t tp__tls_handshake_ms(const struct tp_conn *c)
{
	const struct tls_zone *z = tp__tls_zone_of(c->tp, c->zone);

	return z && z->handshake_ms ? z->handshake_ms : TLS_DEFAULT_HS_MS;
}

/* ------------------------------------------------------------- public */

static int copy(char *dst, size_t dstsz, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n >= dstsz)
		return -EINVAL;
	memcpy(dst, s ? s : "", n + 1);
	return 0;
}

static int zone_copy(struct tls_zone *z, const struct tls_conf *c)
{
	unsigned i;
	int err = 0;

	if (c->ncerts > TLS_MAX_CERTS)
		return -EINVAL;
	z->ncerts = c->ncerts;
	for (i = 0; i < c->ncerts && !err; i++)
		err = copy(z->cert[i], sizeof(z->cert[i]), c->cert_files[i]) ||
		      copy(z->key[i], sizeof(z->key[i]), c->key_files[i]);
	if (!err)
		err = copy(z->pass, sizeof(z->pass), c->key_password) ||
		      copy(z->ciphers, sizeof(z->ciphers),
			   c->ciphers && *c->ciphers ? c->ciphers
						     : tls_default_ciphers) ||
		      copy(z->suites, sizeof(z->suites),
			   c->ciphersuites && *c->ciphersuites
				   ? c->ciphersuites
				   : tls_default_ciphersuites) ||
		      copy(z->client_ca, sizeof(z->client_ca),
			   c->client_ca_file) ||
		      copy(z->ca, sizeof(z->ca), c->ca_file);
	if (err)
		return -EINVAL;
	if (c->nallowed > TLS_MAX_ALLOWED ||
	    (c->nallowed && c->verify_clients != TLS_VERIFY_REQUIRE))
		return -EINVAL;
	for (i = 0; i < c->nallowed; i++)
		if (copy(z->allowed[i], sizeof(z->allowed[i]),
			 c->allowed_clients[i]) ||
		    !z->allowed[i][0])
			return -EINVAL;
	z->nallowed = c->nallowed;
	z->tls13_only = c->tls13_only;
	z->no_resumption = c->no_resumption;
	z->verify = c->verify_clients;
	z->handshake_ms = c->handshake_ms;
	if (z->verify != TLS_VERIFY_NONE && !z->client_ca[0])
		return -EINVAL;
	return 0;
}

static void zone_free(struct tls_zone *z)
{
	if (!z)
		return;
	ctxs_free(&z->cur);
	mem_secclean(z, sizeof(*z));
	mem_free(z);
}

static int tls_get(struct transport *tp)
{
	if (!tp->tls)
		tp->tls = mem_zalloc(sizeof(*tp->tls));
	return tp->tls ? 0 : -ENOMEM;
}

int tp_tls_zone(struct transport *tp, uint16_t zone, const struct tls_conf *c,
		char *err, size_t errsz)
{
	struct tls_zone *z;
	int rc;

	if (err && errsz)
		err[0] = '\0';
	if (!tp || !c)
		return -EINVAL;
	if (tp__tls_zone_of(tp, zone))
		return -EEXIST;
	if ((rc = tls_get(tp)) != 0)
		return rc;
	if (tp->tls->nz >= TLS_MAX_ZONES)
		return -ENOSPC;
	z = mem_zalloc(sizeof(*z));
	if (!z)
		return -ENOMEM;
	z->zone = zone;
	rc = zone_copy(z, c);
	if (rc) {
		if (err && errsz)
			snprintf(err, errsz,
				 "bad TLS settings (too long, or "
				 "client verification without CA)");
	} else {
		rc = ctxs_build(&z->cur, z, err, errsz);
	}
	if (rc) {
		zone_free(z);
		return rc;
	}
	tp->tls->z[tp->tls->nz++] = z;
	return 0;
}

int tp_tls_reload(struct transport *tp, char *err, size_t errsz)
{
	struct tls_ctxs next[TLS_MAX_ZONES];
	unsigned i, j;

	if (err && errsz)
		err[0] = '\0';
	if (!tp || !tp->tls)
		return 0;
	for (i = 0; i < tp->tls->nz; i++) {
		if (ctxs_build(&next[i], tp->tls->z[i], err, errsz) == 0)
			continue;
		for (j = 0; j < i; j++)
			ctxs_free(&next[j]);
		return -EINVAL;
	}
	/* Live connections hold references to the old contexts. */
	for (i = 0; i < tp->tls->nz; i++) {
		ctxs_free(&tp->tls->z[i]->cur);
		tp->tls->z[i]->cur = next[i];
	}
	tp->tls->reloads++;
	return 0;
}

int tp_tls_peer_name(struct transport *tp, const struct sg_addr *a,
		     const char *name)
{
	struct tls_name *n;
	int rc;

	if (!tp || !a || !name || !*name || strlen(name) >= TLS_NAME_LEN)
		return -EINVAL;
	if ((rc = tls_get(tp)) != 0)
		return rc;
	if (tp->tls->nnames >= TLS_MAX_NAMES)
		return -ENOSPC;
	n = &tp->tls->names[tp->tls->nnames++];
	n->addr = *a;
	memcpy(n->name, name, strlen(name) + 1);
	return 0;
}

void tp__tls_fini(struct transport *tp)
{
	unsigned i;

	if (!tp->tls)
		return;
	for (i = 0; i < tp->tls->nz; i++)
		zone_free(tp->tls->z[i]);
	for (i = 0; i < TLS_MAX_NAMES; i++)
		SSL_SESSION_free(tp->tls->sess[i].s);
	mem_free(tp->tls);
	tp->tls = NULL;
}
