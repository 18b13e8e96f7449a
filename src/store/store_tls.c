/*
 * store_tls.c - TLS to Redis (store.tls) through an in-process tunnel.
 *
 * Debian 12's hiredis (0.14) has no TLS, and its asynchronous API cannot
 * take a connection it did not open.  So the Redis backend talks plain
 * RESP to a unix socket, and this file's thread carries each connection
 * made to that socket over TLS (RFC 8446 / RFC 5246, TLS 1.2 minimum) to
 * the configured Redis host:port.  A thread, not our event loop, because
 * the startup load (store__redis_load, store__redis_sync) is blocking and
 * runs before the loop does.
 *
 * The socket lives in a directory of its own (mkdtemp, mode 0700, owned
 * by the user the daemon will run as) and a connection is kept only when
 * its peer is this process (SO_PEERCRED): nobody else on the machine can
 * borrow our TLS identity or the Redis password's channel.
 *
 * The server's certificate is verified against store.tls_ca (else the
 * system's CAs) and must carry store.tls_server_name, else the host of
 * store.address (an IP address is checked against the certificate's IP
 * subjectAltNames, RFC 6125 has no place for it in names); a DNS name is
 * also sent as SNI (RFC 6066 3).  store.tls_cert/tls_key are the client
 * certificate for Redis' tls-auth-clients.
 *
 * Each connection pumps bytes both ways through two bounded buffers:
 * nothing is read from a side whose buffer towards the other side is
 * full (back-pressure).  A connection whose TCP connect or handshake
 * fails, or takes longer than store.timeout, has its unix side closed:
 * to the backend it is a closed connection, and its own state machine
 * (fail, backoff, reconnect) does the rest.  The reason is logged once
 * per outage (log.c writes each line with one fwrite, safe from any
 * thread); a successful handshake ends the outage.
 *
 * Signals are blocked in the thread: OpenSSL writes with write(2), and a
 * SIGPIPE it raises stays pending on this thread instead of killing the
 * daemon.  Host names are resolved in the thread (getaddrinfo) at each
 * connection, so a changed DNS record is followed on reconnect.
 */
#include "store/store_int.h"

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

enum {
	TUN_MAX_CONNS = 8, /* the backend opens two, three at startup */
	TUN_BUF = 16384,   /* one TLS record each way */
	TUN_VERIFY_DEPTH = 8,
	TUN_NPOLL = 2 + 2 * TUN_MAX_CONNS,
	/* poll results that mean "try to read" / "try to write" (an error
	 * or hang-up is found by trying) */
	TUN_RD = POLLIN | POLLHUP | POLLERR,
	TUN_WR = POLLOUT | POLLHUP | POLLERR,
};

enum tun_state { T_FREE, T_CONNECTING, T_HANDSHAKE, T_OPEN };

/* One tunnelled connection; a slot of the tunnel, used by its thread. */
struct tun_conn {
	enum tun_state st;
	int ufd, tfd; /* unix side (hiredis), TCP side (Redis) */
	SSL *ssl;
	struct addrinfo *ai, *ai_next;
	uint64_t deadline; /* connect + handshake, monotonic ms */
	bool u_eof, t_eof;
	/* Readiness as poll last told it, cleared when a call would block:
	 * a wake-up costs no syscall that is known to fail (the poll is
	 * level-triggered, so a flag cleared too early costs a turn). */
	bool u_rd, t_rd, u_full;
	short trev;    /* the TCP side's events this turn */
	int w_want;    /* SSL_write's retry: SSL_ERROR_WANT_* */
	bool r_want_w; /* SSL_read needs the socket writable */
	size_t wpend;  /* length an SSL_write must be retried at */
	size_t up_len, down_len;
	int pidx;                    /* its first pollfd this turn; -1: none */
	unsigned char up[TUN_BUF];   /* hiredis -> Redis */
	unsigned char down[TUN_BUF]; /* Redis -> hiredis */
};

/* Owner: the Redis backend (store__tls_new/free). */
struct store_tls {
	SSL_CTX *ctx;
	char host[HOST_MAX];
	char port[8];
	char name[HOST_MAX]; /* the certificate must carry it */
	bool name_ip;
	char dir[64];
	char path[96];
	char target[HOST_MAX + 16]; /* "tls:HOST:PORT", for logs */
	int lfd, wfd;
	uint64_t timeout_ms;
	pthread_t th;
	bool started;
	bool fail_logged, ok_logged; /* the thread's only */
	atomic_uint_fast64_t n_ok, n_fail, n_refused;
	struct tun_conn c[TUN_MAX_CONNS];
};

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* --------------------------------------------------------- the context */

/* A key file is never allowed to prompt on a terminal. */
static int no_pass(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return 0;
}

static int ctx_err(char *err, size_t errsz, const char *what, const char *file)
{
	unsigned long e = ERR_peek_error();
	char why[160] = "";

	if (e)
		ERR_error_string_n(e, why, sizeof(why));
	ERR_clear_error();
	snprintf(err, errsz, "store.%s%s%s%s%s", what, file ? " " : "",
		 file ? file : "", why[0] ? ": " : "", why);
	return -EINVAL;
}

static int ctx_build(struct store_tls *t, const struct store_tls_conf *c,
		     char *err, size_t errsz)
{
	t->ctx = SSL_CTX_new(TLS_client_method());
	if (!t->ctx)
		return ctx_err(err, errsz, "tls", NULL);
	SSL_CTX_set_default_passwd_cb(t->ctx, no_pass);
	if (!SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION))
		return ctx_err(err, errsz, "tls", NULL);
	SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_verify_depth(t->ctx, TUN_VERIFY_DEPTH);
	SSL_CTX_set_mode(t->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
					 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (c->ca_file && *c->ca_file) {
		if (SSL_CTX_load_verify_locations(t->ctx, c->ca_file, NULL) !=
		    1)
			return ctx_err(err, errsz, "tls_ca", c->ca_file);
	} else if (SSL_CTX_set_default_verify_paths(t->ctx) != 1) {
		return ctx_err(err, errsz, "tls_ca", "(system default)");
	}
	if (!c->cert_file || !*c->cert_file)
		return 0;
	if (SSL_CTX_use_certificate_chain_file(t->ctx, c->cert_file) != 1)
		return ctx_err(err, errsz, "tls_cert", c->cert_file);
	if (SSL_CTX_use_PrivateKey_file(t->ctx, c->key_file ? c->key_file : "",
					SSL_FILETYPE_PEM) != 1)
		return ctx_err(err, errsz, "tls_key", c->key_file);
	if (SSL_CTX_check_private_key(t->ctx) != 1)
		return ctx_err(err, errsz, "tls_key", c->key_file);
	return 0;
}

/* ------------------------------------------------------ one connection */

static void conn_close(struct tun_conn *c)
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
static void conn_fail(struct store_tls *t, struct tun_conn *c, const char *what,
		      const char *why)
{
	atomic_fetch_add(&t->n_fail, 1);
	if (!t->fail_logged)
		log_warn("store: redis at %s: %s (%s): closing the "
			 "connection, the store reconnects with backoff",
			 t->target, what, why);
	t->fail_logged = true;
	t->ok_logged = false;
	ERR_clear_error();
	conn_close(c);
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
	conn_fail(t, c, "TCP connect failed", strerror(e));
	return -1;
}

static void conn_start(struct store_tls *t, int ufd)
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
	c->deadline = mono_ms() + t->timeout_ms;
	rc = getaddrinfo(t->host, t->port, &hints, &c->ai);
	if (rc != 0) {
		c->ai = NULL;
		conn_fail(t, c, "cannot resolve the host", gai_strerror(rc));
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
	conn_fail(t, c, "TLS set-up failed", "out of memory");
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
	conn_fail(t, c, "TLS handshake failed", why);
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
static void conn_step(struct store_tls *t, struct tun_conn *c, short urev,
		      short trev)
{
	bool progress = false;
	socklen_t len = sizeof(int);
	int e = 0;

	if (c->st != T_OPEN && (urev & TUN_RD)) {
		c->u_rd = true;
		if (read_unix(c, &progress) || c->u_eof) {
			conn_close(c); /* hiredis gave up first */
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
				conn_fail(t, c, "TCP connect failed",
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
		conn_close(c);
}

/* --------------------------------------------------------- the thread */

static void accept_all(struct store_tls *t)
{
	struct ucred cr;
	socklen_t len;
	int fd, i;

	for (i = 0; i < TUN_MAX_CONNS; i++) {
		fd = accept4(t->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		len = sizeof(cr);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0 ||
		    cr.pid != getpid()) {
			/* Not us: no TLS identity or Redis for anyone else. */
			atomic_fetch_add(&t->n_refused, 1);
			close(fd);
			continue;
		}
		conn_start(t, fd);
	}
}

/* The poll set of a connection; the timeout shrinks to its deadline. */
static int conn_events(struct tun_conn *c, struct pollfd *pf, int n,
		       uint64_t now, int *timeout)
{
	short ue = 0, te = 0;
	int left;

	if (c->st != T_OPEN) {
		left = c->deadline > now ? (int)(c->deadline - now) : 0;
		if (*timeout < 0 || left < *timeout)
			*timeout = left;
	}
	if (!c->u_eof && c->up_len < TUN_BUF)
		ue |= POLLIN;
	if (c->st == T_CONNECTING) {
		te = POLLOUT;
	} else if (c->st == T_HANDSHAKE) {
		te = c->w_want == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN;
	} else {
		if (c->down_len)
			ue |= POLLOUT;
		if ((!c->t_eof && c->down_len < TUN_BUF) ||
		    c->w_want == SSL_ERROR_WANT_READ)
			te |= POLLIN;
		if (c->w_want == SSL_ERROR_WANT_WRITE || c->r_want_w)
			te |= POLLOUT;
	}
	/* A side we want nothing from is left out: poll would report its
	 * hang-up again and again while the other side drains. */
	c->pidx = n;
	pf[n] = (struct pollfd){.fd = ue ? c->ufd : -1, .events = ue};
	pf[n + 1] = (struct pollfd){.fd = te ? c->tfd : -1, .events = te};
	return n + 2;
}

static void *run(void *arg)
{
	struct store_tls *t = arg;
	struct pollfd pf[TUN_NPOLL];
	struct tun_conn *c;
	uint64_t now;
	int i, n, timeout;

	for (;;) {
		now = mono_ms();
		pf[0] = (struct pollfd){.fd = t->wfd, .events = POLLIN};
		pf[1] = (struct pollfd){.fd = t->lfd, .events = POLLIN};
		n = 2;
		timeout = -1;
		for (i = 0; i < TUN_MAX_CONNS; i++) {
			c = &t->c[i];
			c->pidx = -1;
			if (c->st == T_FREE)
				continue;
			if (c->st != T_OPEN && now >= c->deadline) {
				conn_fail(t, c,
					  c->st == T_CONNECTING
						  ? "TCP connect failed"
						  : "TLS handshake failed",
					  "timeout");
				continue;
			}
			n = conn_events(c, pf, n, now, &timeout);
		}
		if (poll(pf, (nfds_t)n, timeout) < 0 && errno != EINTR) {
			log_err("store: the TLS tunnel to redis at %s stops: "
				"poll: %s",
				t->target, strerror(errno));
			break;
		}
		if (pf[0].revents)
			break; /* store__tls_free() */
		for (i = 0; i < TUN_MAX_CONNS; i++) {
			c = &t->c[i];
			if (c->st != T_FREE && c->pidx >= 0 &&
			    (pf[c->pidx].revents || pf[c->pidx + 1].revents))
				conn_step(t, c, pf[c->pidx].revents,
					  pf[c->pidx + 1].revents);
		}
		if (pf[1].revents & POLLIN)
			accept_all(t);
	}
	return NULL;
}

/* ------------------------------------------------------------ lifetime */

/* The private directory and its listening socket. */
static int listen_unix(struct store_tls *t, const struct store_tls_conf *c,
		       char *err, size_t errsz)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int rc;

	snprintf(t->dir, sizeof(t->dir), "/tmp/sipguard-redis-tls.XXXXXX");
	if (!mkdtemp(t->dir)) {
		t->dir[0] = '\0';
		goto sys;
	}
	snprintf(t->path, sizeof(t->path), "%s/redis.sock", t->dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", t->path);
	t->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (t->lfd < 0 || bind(t->lfd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(t->lfd, TUN_MAX_CONNS) || chmod(t->path, 0600))
		goto sys;
	/* The daemon connects again after it has dropped to ops.user. */
	if (c->run_uid >= 0 &&
	    (chown(t->dir, (uid_t)c->run_uid, (gid_t)c->run_gid) ||
	     chown(t->path, (uid_t)c->run_uid, (gid_t)c->run_gid)))
		goto sys;
	return 0;
sys:
	rc = errno;
	snprintf(err, errsz, "store.tls: tunnel socket %s: %s",
		 t->dir[0] ? t->dir : "/tmp", strerror(rc));
	return -rc;
}

/* "tls:HOST:PORT" as the logs name the target. */
static void set_target(struct store_tls *t, const struct store_tls_conf *c)
{
	unsigned char a6[16];
	bool v6 = inet_pton(AF_INET6, c->host, a6) == 1;

	snprintf(t->target, sizeof(t->target), "tls:%s%s%s:%d", v6 ? "[" : "",
		 c->host, v6 ? "]" : "", c->port);
}

static int copy_conf(struct store_tls *t, const struct store_tls_conf *c)
{
	const char *name =
		c->server_name && *c->server_name ? c->server_name : c->host;
	unsigned char a[16];

	if (!c->host || !*c->host || c->port < 1 || c->port > 65535 ||
	    snprintf(t->host, sizeof(t->host), "%s", c->host) >=
		    (int)sizeof(t->host) ||
	    snprintf(t->name, sizeof(t->name), "%s", name) >=
		    (int)sizeof(t->name))
		return -EINVAL;
	snprintf(t->port, sizeof(t->port), "%d", c->port);
	t->name_ip = inet_pton(AF_INET, t->name, a) == 1 ||
		     inet_pton(AF_INET6, t->name, a) == 1;
	t->timeout_ms = c->timeout_ms ? c->timeout_ms : 1000;
	set_target(t, c);
	return 0;
}

static int start_thread(struct store_tls *t)
{
	sigset_t all, old;
	int rc;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&t->th, NULL, run, t);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc)
		return -rc;
	(void)pthread_setname_np(t->th, "sg-redis-tls"); /* top -H, ps -L */
	t->started = true;
	return 0;
}

int store__tls_new(struct store_tls **tp, const struct store_tls_conf *c,
		   char *err, size_t errsz)
{
	struct store_tls *t;
	int i, rc;

	if (!tp || !c)
		return -EINVAL;
	*tp = NULL;
	t = mem_zalloc(sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->lfd = t->wfd = -1;
	for (i = 0; i < TUN_MAX_CONNS; i++)
		t->c[i].ufd = t->c[i].tfd = -1;
	rc = copy_conf(t, c);
	if (rc) {
		snprintf(err, errsz, "store.tls: bad host, port or name");
		goto fail;
	}
	rc = ctx_build(t, c, err, errsz);
	if (rc)
		goto fail;
	rc = listen_unix(t, c, err, errsz);
	if (rc)
		goto fail;
	t->wfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (t->wfd < 0) {
		rc = -errno;
		snprintf(err, errsz, "store.tls: eventfd: %s", strerror(-rc));
		goto fail;
	}
	rc = start_thread(t);
	if (rc) {
		snprintf(err, errsz, "store.tls: thread: %s", strerror(-rc));
		goto fail;
	}
	*tp = t;
	return 0;
fail:
	store__tls_free(t);
	return rc;
}

void store__tls_free(struct store_tls *t)
{
	uint64_t one = 1;
	int i;

	if (!t)
		return;
	if (t->started) {
		if (write(t->wfd, &one, sizeof(one)) != (ssize_t)sizeof(one))
			log_warn("store: cannot stop the TLS tunnel: %s",
				 strerror(errno));
		pthread_join(t->th, NULL);
	}
	for (i = 0; i < TUN_MAX_CONNS; i++)
		if (t->c[i].st != T_FREE)
			conn_close(&t->c[i]);
	if (t->lfd >= 0)
		close(t->lfd);
	if (t->wfd >= 0)
		close(t->wfd);
	/* unlinkat: the seccomp filter allows it (rmdir is not listed). */
	if (t->path[0])
		(void)unlinkat(AT_FDCWD, t->path, 0);
	if (t->dir[0])
		(void)unlinkat(AT_FDCWD, t->dir, AT_REMOVEDIR);
	SSL_CTX_free(t->ctx);
	mem_free(t);
}

const char *store__tls_path(const struct store_tls *t)
{
	return t->path;
}

const char *store__tls_target(const struct store_tls *t)
{
	return t->target;
}

void store__tls_stats(const struct store_tls *t, uint64_t *okp, uint64_t *failp,
		      uint64_t *refusedp)
{
	*okp = atomic_load(&t->n_ok);
	*failp = atomic_load(&t->n_fail);
	*refusedp = atomic_load(&t->n_refused);
}
