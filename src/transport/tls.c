/*
 * tls.c - TLS on one stream connection (RFC 3261 26.2.1, RFC 5630): the
 * non-blocking handshake driven by the loop, record I/O for tcp.c's read
 * and write paths, the verified peer identity (RFC 5922 7.1), and
 * close_notify.  Contexts, SNI and reload are tls_ctx.c.
 *
 * The SSL object reads and writes the socket itself.  OpenSSL may need
 * the other direction than the caller asked for (WANT_READ in a write,
 * WANT_WRITE in a read); both are mapped to "would block" and the loop
 * interest is set so the call is retried: tcp.c retries reads on write
 * readiness for TLS connections.  Renegotiation is off, so in practice
 * only handshakes and TLS 1.3 post-handshake messages do this.
 *
 * A failed handshake (no shared cipher, an untrusted or absent client
 * certificate when one is required, a server certificate for another
 * name) closes the connection with TP_CLOSE_HANDSHAKE and a rate-limited
 * log line naming the peer and OpenSSL's reason; nothing is answered.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/mem.h"
#include "transport/tls_int.h"

/*
 * A socket BIO of our own: OpenSSL's writes with write(2), which raises
 * SIGPIPE when the peer is gone; ours sends with MSG_NOSIGNAL like the
 * TCP path, so a peer that resets mid-handshake cannot kill the daemon.
 * The fd lives in the BIO's data; the connection closes it.
 */
static BIO_METHOD *sock_meth;

static int bio_write(BIO *b, const char *p, size_t n, size_t *done)
{
	ssize_t w;

	BIO_clear_retry_flags(b);
	do {
		w = send((int)(intptr_t)BIO_get_data(b), p, n,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
	} while (w < 0 && errno == EINTR);
	if (w < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			BIO_set_retry_write(b);
		return 0;
	}
	*done = (size_t)w;
	return 1;
}

static int bio_read(BIO *b, char *p, size_t n, size_t *done)
{
	ssize_t r;

	BIO_clear_retry_flags(b);
	do {
		r = recv((int)(intptr_t)BIO_get_data(b), p, n, MSG_DONTWAIT);
	} while (r < 0 && errno == EINTR);
	if (r < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			BIO_set_retry_read(b);
		return 0;
	}
	if (r == 0) {
		/* End of stream: errno 0 tells OpenSSL it was an EOF. */
		errno = 0;
		return 0;
	}
	*done = (size_t)r;
	return 1;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)b;
	(void)num;
	(void)ptr;
	return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int bio_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

static BIO_METHOD *meth_get(void)
{
	BIO_METHOD *m;

	if (sock_meth)
		return sock_meth;
	m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK,
			 "sipguard socket");
	if (!m || !BIO_meth_set_write_ex(m, bio_write) ||
	    !BIO_meth_set_read_ex(m, bio_read) ||
	    !BIO_meth_set_ctrl(m, bio_ctrl) ||
	    !BIO_meth_set_create(m, bio_create)) {
		BIO_meth_free(m);
		return NULL;
	}
	sock_meth = m;
	return m;
}

static SSL *ssl_new(struct tp_conn *c, SSL_CTX *ctx)
{
	BIO_METHOD *m = meth_get();
	SSL *s = m ? SSL_new(ctx) : NULL;
	BIO *b;

	if (!s)
		return NULL;
	b = BIO_new(m);
	if (!b) {
		SSL_free(s);
		return NULL;
	}
	BIO_set_data(b, (void *)(intptr_t)c->fd);
	SSL_set_bio(s, b, b);
	SSL_set_app_data(s, c);
	return s;
}

int tp__tls_accept(struct tp_conn *c)
{
	struct tls_zone *z = tp__tls_zone_of(c->tp, c->zone);

	if (!z || !z->cur.nsrv)
		return -EPROTONOSUPPORT;
	c->ssl = ssl_new(c, z->cur.srv[0]);
	if (!c->ssl)
		return -ENOMEM;
	SSL_set_accept_state(c->ssl);
	c->state = TP_CONN_HANDSHAKE;
	return 0;
}

/* RFC 5922 7.2: the configured name if any (sent as SNI, RFC 6066 3,
 * which must not carry IP literals), else the address itself. */
static int set_peer_check(struct tp_conn *c, SSL *s)
{
	const char *name = tp__tls_peer_name_of(c->tp, &c->peer);
	char host[TLS_NAME_LEN];
	const void *ip;
	size_t iplen;

	if (name) {
		/* OpenSSL's SNI macro takes a non-const pointer. */
		snprintf(host, sizeof(host), "%s", name);
		return SSL_set_tlsext_host_name(s, host) == 1 &&
				       SSL_set1_host(s, host) == 1
			       ? 0
			       : -ENOMEM;
	}
	if (sg_addr_family(&c->peer) == AF_INET6) {
		ip = &c->peer.u.in6.sin6_addr;
		iplen = 16;
	} else {
		ip = &c->peer.u.in.sin_addr;
		iplen = 4;
	}
	return X509_VERIFY_PARAM_set1_ip(SSL_get0_param(s), ip, iplen) == 1
		       ? 0
		       : -ENOMEM;
}

int tp__tls_connect(struct tp_conn *c)
{
	struct tls_zone *z = tp__tls_zone_of(c->tp, c->zone);
	SSL_SESSION *sess;
	int err;

	if (!z || !z->cur.cli)
		return -EPROTONOSUPPORT;
	c->ssl = ssl_new(c, z->cur.cli);
	if (!c->ssl)
		return -ENOMEM;
	SSL_set_connect_state(c->ssl);
	err = set_peer_check(c, c->ssl);
	if (err)
		return err;
	sess = tp__tls_session_of(c->tp, &c->peer);
	if (sess)
		(void)SSL_set_session(c->ssl, sess);
	return 0;
}

/* Printable ASCII only: identities go to logs and policy. */
static void ident_copy(char *dst, size_t dstsz, const unsigned char *p,
		       size_t n)
{
	size_t i;

	if (n >= dstsz)
		n = dstsz - 1;
	for (i = 0; i < n; i++)
		dst[i] = p[i] > 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
	dst[n] = '\0';
}

/* First DNS or URI subjectAltName, else the subject's common name. */
static bool ident_of(X509 *x, char *buf, size_t bufsz)
{
	GENERAL_NAMES *gens =
		X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	int i, n;

	buf[0] = '\0';
	for (i = 0; gens && i < sk_GENERAL_NAME_num(gens) && !buf[0]; i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);

		if (g->type == GEN_DNS || g->type == GEN_URI)
			ident_copy(buf, bufsz, ASN1_STRING_get0_data(g->d.ia5),
				   (size_t)ASN1_STRING_length(g->d.ia5));
	}
	GENERAL_NAMES_free(gens);
	if (buf[0])
		return true;
	n = X509_NAME_get_index_by_NID(X509_get_subject_name(x), NID_commonName,
				       -1);
	if (n >= 0) {
		ASN1_STRING *s = X509_NAME_ENTRY_get_data(
			X509_NAME_get_entry(X509_get_subject_name(x), n));

		ident_copy(buf, bufsz, ASN1_STRING_get0_data(s),
			   (size_t)ASN1_STRING_length(s));
	}
	return buf[0] != '\0';
}

/* A zone with allowed_clients: does the verified certificate carry one
 * of the names?  Zones without the list allow any verified one. */
static bool client_allowed(struct tp_conn *c, X509 *x)
{
	const struct tls_zone *z = tp__tls_zone_of(c->tp, c->zone);
	unsigned i;

	if (!c->inbound || !z || !z->nallowed)
		return true;
	if (!x || SSL_get_verify_result(c->ssl) != X509_V_OK)
		return false;
	for (i = 0; i < z->nallowed; i++)
		if (X509_check_host(x, z->allowed[i], 0, 0, NULL) == 1)
			return true;
	return false;
}

static void handshake_done(struct tp_conn *c)
{
	char abuf[SG_ADDR_STRLEN], id[TLS_IDENT_LEN];
	X509 *x = SSL_get0_peer_certificate(c->ssl);

	if (!client_allowed(c, x)) {
		if (!x || !ident_of(x, id, sizeof(id)))
			snprintf(id, sizeof(id), "(none)");
		LOG_RL(LOG_LVL_INFO,
		       "tls from %s: client certificate %s not allowed here",
		       sg_addr_fmt(&c->peer, abuf, sizeof(abuf)), id);
		c->tp->st.tls_failed++;
		tp__conn_close(c, TP_CLOSE_HANDSHAKE);
		return;
	}

	c->state = TP_CONN_OPEN;
	c->tp->st.tls_handshakes++;
	if (SSL_session_reused(c->ssl))
		c->tp->st.tls_resumed++;
	tp__conn_touch(c);
	tp__conn_arm(c);
	if (x && SSL_get_verify_result(c->ssl) == X509_V_OK &&
	    ident_of(x, id, sizeof(id))) {
		c->tls_ident = mem_alloc(strlen(id) + 1);
		if (c->tls_ident)
			memcpy(c->tls_ident, id, strlen(id) + 1);
		if (c->inbound)
			LOG_RL(LOG_LVL_INFO,
			       "tls %s: client certificate verified: %s (%s)",
			       sg_addr_fmt(&c->peer, abuf, sizeof(abuf)), id,
			       SSL_get_version(c->ssl));
	}
	if (log_enabled(LOG_LVL_DEBUG))
		log_debug("tls %s: %s %s%s",
			  sg_addr_fmt(&c->peer, abuf, sizeof(abuf)),
			  SSL_get_version(c->ssl),
			  SSL_CIPHER_get_name(SSL_get_current_cipher(c->ssl)),
			  SSL_session_reused(c->ssl) ? " (resumed)" : "");
}

static void handshake_fail(struct tp_conn *c, int sslerr)
{
	char abuf[SG_ADDR_STRLEN], why[160] = "connection closed";
	unsigned long e = ERR_peek_last_error();
	long v;

	if (e)
		ERR_error_string_n(e, why, sizeof(why));
	ERR_clear_error();
	v = SSL_get_verify_result(c->ssl);
	c->tls_broken = true;
	c->tp->st.tls_failed++;
	LOG_RL(LOG_LVL_INFO, "tls %s %s: handshake failed: %s%s%s",
	       c->inbound ? "from" : "to",
	       sg_addr_fmt(&c->peer, abuf, sizeof(abuf)),
	       sslerr == SSL_ERROR_SYSCALL && !e ? "connection closed" : why,
	       v != X509_V_OK ? "; certificate: " : "",
	       v != X509_V_OK ? X509_verify_cert_error_string(v) : "");
	tp__conn_close(c, TP_CLOSE_HANDSHAKE);
}

bool tp__tls_handshake(struct tp_conn *c)
{
	int r, e;

	ERR_clear_error();
	r = SSL_do_handshake(c->ssl);
	if (r == 1) {
		handshake_done(c);
		return c->state == TP_CONN_OPEN;
	}
	e = SSL_get_error(c->ssl, r);
	switch (e) {
	case SSL_ERROR_WANT_READ:
		if (tp__conn_watch(c, LOOP_READ) != 0)
			tp__conn_close(c, TP_CLOSE_ERROR);
		return false;
	case SSL_ERROR_WANT_WRITE:
		if (tp__conn_watch(c, LOOP_READ | LOOP_WRITE) != 0)
			tp__conn_close(c, TP_CLOSE_ERROR);
		return false;
	default:
		handshake_fail(c, e);
		return false;
	}
}

ssize_t tp__tls_send(struct tp_conn *c, const char *p, size_t n)
{
	int w, e;

	if (!n)
		return 0;
	ERR_clear_error();
	w = SSL_write(c->ssl, p, n > INT_MAX ? INT_MAX : (int)n);
	if (w > 0)
		return w;
	e = SSL_get_error(c->ssl, w);
	if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ)
		return 0;
	ERR_clear_error();
	c->tls_broken = true;
	return e == SSL_ERROR_SYSCALL && errno ? -errno : -EPIPE;
}

ssize_t tp__tls_recv(struct tp_conn *c, char *p, size_t n)
{
	int r, e;

	ERR_clear_error();
	r = SSL_read(c->ssl, p, n > INT_MAX ? INT_MAX : (int)n);
	if (r > 0)
		return r;
	e = SSL_get_error(c->ssl, r);
	switch (e) {
	case SSL_ERROR_WANT_READ:
		return -EAGAIN;
	case SSL_ERROR_WANT_WRITE:
		/* Retried when the socket is writable (tcp.c). */
		return tp__conn_watch(c, LOOP_READ | LOOP_WRITE) ? -ENOMEM
								 : -EAGAIN;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	default:
		ERR_clear_error();
		c->tls_broken = true;
		return e == SSL_ERROR_SYSCALL && errno ? -errno : -EPROTO;
	}
}

bool tp__tls_pending(const struct tp_conn *c)
{
	return c->ssl && SSL_pending(c->ssl) > 0;
}

void tp__tls_close(struct tp_conn *c)
{
	/* After a fatal error OpenSSL must not be asked to shut down. */
	if (!c->ssl || c->tls_broken || c->state != TP_CONN_OPEN)
		return;
	ERR_clear_error();
	(void)SSL_shutdown(c->ssl);
	ERR_clear_error();
}

void tp__tls_free(struct tp_conn *c)
{
	SSL_free(c->ssl);
	c->ssl = NULL;
	mem_free(c->tls_ident);
	c->tls_ident = NULL;
}

int tp_tls_identity(const struct transport *tp, uint64_t conn_id, char *buf,
		    size_t bufsz)
{
	struct tp_conn *c = tp ? tp__conn_by_id(tp, conn_id) : NULL;
	size_t n;

	if (!c)
		return -ENOENT;
	if (!c->tls_ident || !buf || !bufsz)
		return -EPERM;
	n = strlen(c->tls_ident);
	if (n >= bufsz)
		n = bufsz - 1;
	memcpy(buf, c->tls_ident, n);
	buf[n] = '\0';
	return 0;
}
