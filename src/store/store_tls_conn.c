/*
 * store_tls_conn.c - one connection of the TLS tunnel to Redis
 * (store_tls.c says why the tunnel exists and how it is used): the TCP
 * connect to each address of the host in turn, the TLS handshake with
 * the server's certificate and name checked (RFC 8446 / RFC 5246,
 * RFC 6125, SNI RFC 6066 3), then the pump of bytes both ways through two
 * bounded buffers with back-pressure.  Runs on the tunnel's thread only.
 */
#include "store/store_tls_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include "core/log.h"
#include "core/mem.h"

/* ------------------------------------------------------ one connection */

void store__tls_conn_close(struct tun_conn *c)
{
	if (c->ssl) {
		/* close_notify, no wait; not after a fatal error */
		if (c->st == T_OPEN && !c->t_eof)
			(void)SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	if (c->tfd >= 0)
		close(c->tfd);
	if (c->ufd >= 0)
		close(c->ufd);
	ERR_clear_error();
	if (c->ai)
		freeaddrinfo(c->ai);
	c->ssl = NULL;
	c->ai = c->ai_next = NULL;
	c->tfd = c->ufd = -1;
	c->st = T_FREE;
}

/* Close c after a failure of the TCP or TLS side; the reason is logged
 * once per outage. */
void store__tls_conn_fail(struct store_tls *t, struct tun_conn *c,
			  const char *what, const char *why)
{
	atomic_fetch_add(&t->n_fail, 1);
	if (!t->fail_logged)
		log_warn("store: redis at %s: %s (%s): closing the "
			 "connection, the store reconnects with backoff",
			 t->target, what, why);
	t->fail_logged = true;
	t->ok_logged = false;
	ERR_clear_error();
	store__tls_conn_close(c);
}

/* The next address of the host; 0 (connecting) or -1 (c failed). */
static int connect_next(struct store_tls *t, struct tun_conn *c)
{
	int e = ENOENT, one = 1;

	if (c->tfd >= 0) {
		close(c->tfd);
		c->tfd = -1;
	}
	for (; c->ai_next; c->ai_next = c->ai_next->ai_next) {
		struct addrinfo *a = c->ai_next;

		c->tfd = socket(a->ai_family,
				a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
				a->ai_protocol);
		if (c->tfd < 0) {
			e = errno;
			continue;
		}
		(void)setsockopt(c->tfd, IPPROTO_TCP, TCP_NODELAY, &one,
				 sizeof(one));
		if (connect(c->tfd, a->ai_addr, a->ai_addrlen) == 0 ||
		    errno == EINPROGRESS) {
			c->ai_next = a->ai_next;
			c->st = T_CONNECTING;
			return 0;
		}
		e = errno;
		close(c->tfd);
		c->tfd = -1;
	}
	store__tls_conn_fail(t, c, "TCP connect failed", strerror(e));
	return -1;
}

void store__tls_conn_start(struct store_tls *t, int ufd)
{
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_flags = AI_NUMERICSERV,
	};
	struct tun_conn *c = NULL;
	int i, rc;

	for (i = 0; i < TUN_MAX_CONNS && !c; i++)
		if (t->c[i].st == T_FREE)
			c = &t->c[i];
	if (!c) {
		close(ufd); /* more than the backend ever opens */
		return;
	}
	c->ufd = ufd;
	c->tfd = -1;
	c->u_eof = c->t_eof = c->r_want_w = false;
	c->u_rd = c->t_rd = c->u_full = false;
	c->trev = 0;
	c->w_want = 0;
	c->wpend = c->up_len = c->down_len = 0;
	c->deadline = store__tls_mono_ms() + t->timeout_ms;
	rc = getaddrinfo(t->host, t->port, &hints, &c->ai);
	if (rc != 0) {
		c->ai = NULL;
		store__tls_conn_fail(t, c, "cannot resolve the host",
				     gai_strerror(rc));
		return;
	}
	c->ai_next = c->ai;
	(void)connect_next(t, c);
}

/* Why a handshake failed, in words. */
static void hs_reason(struct tun_conn *c, int e, char *buf, size_t sz)
{
	long v = SSL_get_verify_result(c->ssl);
	unsigned long oe = ERR_peek_error();

	if (v != X509_V_OK) {
		snprintf(buf, sz, "certificate verify failed: %s",
			 X509_verify_cert_error_string(v));
	} else if (oe) {
		ERR_error_string_n(oe, buf, sz);
	} else if (e == SSL_ERROR_SYSCALL && errno) {
		snprintf(buf, sz, "%s", strerror(errno));
	} else {
		snprintf(buf, sz, "connection closed by the server");
	}
}

static int tls_begin(struct store_tls *t, struct tun_conn *c)
{
	X509_VERIFY_PARAM *vp;

	c->ssl = SSL_new(t->ctx);
	if (!c->ssl || SSL_set_fd(c->ssl, c->tfd) != 1)
		goto bad;
	if (t->name_ip) {
		vp = SSL_get0_param(c->ssl);
		if (X509_VERIFY_PARAM_set1_ip_asc(vp, t->name) != 1)
			goto bad;
	} else if (SSL_set1_host(c->ssl, t->name) != 1 ||
		   SSL_set_tlsext_host_name(c->ssl, t->name) != 1) {
		goto bad;
	}
	c->st = T_HANDSHAKE;
	return 0;
bad:
	store__tls_conn_fail(t, c, "TLS set-up failed", "out of memory");
	return -1;
}

/* Go on with the handshake.  0: done or in progress; -1: c closed. */
static int handshake(struct store_tls *t, struct tun_conn *c)
{
	char why[256];
	int rc, e;

	ERR_clear_error();
	errno = 0;
	rc = SSL_connect(c->ssl);
	if (rc == 1) {
		c->st = T_OPEN;
		c->w_want = 0;
		c->r_want_w = false;
		atomic_fetch_add(&t->n_ok, 1);
		if (!t->ok_logged)
			log_info("store: redis at %s: %s, server certificate "
				 "verified for %s",
				 t->target, SSL_get_version(c->ssl), t->name);
		t->ok_logged = true;
		t->fail_logged = false;
		return 0;
	}
	e = SSL_get_error(c->ssl, rc);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		c->w_want = e;
		return 0;
	}
	hs_reason(c, e, why, sizeof(why));
	store__tls_conn_fail(t, c, "TLS handshake failed", why);
	return -1;
}

static bool again(void)
{
	return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

/* hiredis -> up.  Runs in every state: a closed unix side ends c. */
static int read_unix(struct tun_conn *c, bool *progress)
{
	ssize_t n;

	size_t room = TUN_BUF - c->up_len;

	if (c->u_eof || !room || !c->u_rd)
		return 0;
	n = read(c->ufd, c->up + c->up_len, room);
	if (n > 0) {
		c->up_len += (size_t)n;
		c->u_rd = (size_t)n == room; /* short: drained */
		*progress = true;
	} else if (n == 0) {
		c->u_eof = true;
	} else if (!again()) {
		return -1;
	} else {
		c->u_rd = false;
	}
	return 0;
}

/* up -> TLS.  A retry after WANT_* repeats the same length. */
static int write_tls(struct tun_conn *c, bool *progress)
{
	size_t len = c->wpend ? c->wpend : c->up_len;
	int n, e;

	if (!c->up_len)
		return 0;
	/* A retry waits for what OpenSSL asked for. */
	if ((c->w_want == SSL_ERROR_WANT_WRITE && !(c->trev & TUN_WR)) ||
	    (c->w_want == SSL_ERROR_WANT_READ && !(c->trev & TUN_RD)))
		return 0;
	c->w_want = 0;
	n = SSL_write(c->ssl, c->up, (int)len);
	if (n > 0) {
		c->up_len -= (size_t)n;
		memmove(c->up, c->up + n, c->up_len);
		c->wpend = 0;
		*progress = true;
		return 0;
	}
	e = SSL_get_error(c->ssl, n);
	if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
		return -1;
	c->w_want = e;
	c->wpend = len;
	return 0;
}

/* TLS -> down. */
static int read_tls(struct tun_conn *c, bool *progress)
{
	int n, e;

	if (c->t_eof || c->down_len == TUN_BUF)
		return 0;
	if (!c->t_rd && !SSL_has_pending(c->ssl) &&
	    !(c->r_want_w && (c->trev & TUN_WR)))
		return 0;
	c->r_want_w = false;
	n = SSL_read(c->ssl, c->down + c->down_len,
		     (int)(TUN_BUF - c->down_len));
	if (n > 0) {
		c->down_len += (size_t)n;
		*progress = true;
		return 0;
	}
	e = SSL_get_error(c->ssl, n);
	c->t_rd = false;
	if (e == SSL_ERROR_WANT_WRITE)
		c->r_want_w = true;
	else if (e != SSL_ERROR_WANT_READ)
		c->t_eof = true; /* close_notify, or the server went away */
	return 0;
}

/* down -> hiredis. */
static int write_unix(struct tun_conn *c, bool *progress)
{
	ssize_t n;

	if (!c->down_len || c->u_full)
		return 0;
	n = send(c->ufd, c->down, c->down_len, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n > 0) {
		c->u_full = (size_t)n < c->down_len;
		c->down_len -= (size_t)n;
		memmove(c->down, c->down + n, c->down_len);
		*progress = true;
	} else if (n < 0 && !again()) {
		return -1;
	} else {
		c->u_full = true;
	}
	return 0;
}

/* Move what can move without blocking.  0, or -1: c is to be closed. */
static int pump(struct tun_conn *c)
{
	bool progress;

	do {
		progress = false;
		if (read_unix(c, &progress) || write_tls(c, &progress) ||
		    read_tls(c, &progress) || write_unix(c, &progress))
			return -1;
	} while (progress);
	if (c->u_eof && !c->up_len)
		return -1;
	if (c->t_eof && !c->down_len)
		return -1;
	return 0;
}

/* One connection's turn: its fds' poll results urev, trev. */
void store__tls_conn_step(struct store_tls *t, struct tun_conn *c, short urev,
			  short trev)
{
	bool progress = false;
	socklen_t len = sizeof(int);
	int e = 0;

	if (c->st != T_OPEN && (urev & TUN_RD)) {
		c->u_rd = true;
		if (read_unix(c, &progress) || c->u_eof) {
			store__tls_conn_close(c); /* hiredis gave up first */
			return;
		}
	}
	if (c->st == T_CONNECTING) {
		if (!trev)
			return;
		if (getsockopt(c->tfd, SOL_SOCKET, SO_ERROR, &e, &len) != 0)
			e = errno;
		if (e) {
			if (!c->ai_next) {
				store__tls_conn_fail(t, c, "TCP connect failed",
						     strerror(e));
				return;
			}
			(void)connect_next(t, c);
			return;
		}
		if (tls_begin(t, c))
			return;
	}
	if (c->st == T_HANDSHAKE && (handshake(t, c) || c->st != T_OPEN))
		return;
	c->u_rd |= (urev & TUN_RD) != 0;
	c->t_rd |= (trev & TUN_RD) != 0;
	if (urev & TUN_WR)
		c->u_full = false;
	c->trev = trev;
	if (pump(c))
		store__tls_conn_close(c);
}
