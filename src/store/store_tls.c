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
 * by the user the daemon will run as; one a killed daemon left behind
 * is removed at the next start, store_tls_dir.c) and a connection is kept only
 * when its peer is this process (SO_PEERCRED): nobody else on the machine can
 * borrow our TLS identity or the Redis password's channel.
 *
 * The server's certificate is verified against store.tls_ca (else the
 * system's CAs) and must carry store.tls_server_name, else the host of
 * store.address (an IP address is checked against the certificate's IP
 * subjectAltNames, RFC 6125 has no place for it in names); a DNS name is
 * also sent as SNI (RFC 6066 3).  store.tls_cert/tls_key are the client
 * certificate for Redis' tls-auth-clients.
 *
 * Certificates expire: a reload (SIGHUP, sipguardctl reload) reads the
 * three files again into a new context (store__tls_reload), handed to
 * the thread through one atomic pointer and taken at its next accept, so
 * the next connection uses the new files and the open ones are not
 * dropped (each SSL holds a reference on the context it was made from).
 * Files that do not load leave the running context in place.
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
 * connection, so a changed DNS record is followed on reconnect.  That
 * call blocks this thread only, never the signalling loop: hiredis'
 * asynchronous connect to our unix socket does not wait for accept()
 * (the backlog; a full one refuses), and its commands' replies are
 * bounded by store.timeout, after which the backend treats Redis as
 * unreachable and protects from local state.  The blocking Redis calls
 * (startup load) run before the loop, each bounded by store.timeout.
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

/* The files of t (ca "": the system's CAs; cert "": none). */
static int ctx_load(SSL_CTX *ctx, const struct store_tls *t, char *err,
		    size_t errsz)
{
	SSL_CTX_set_default_passwd_cb(ctx, no_pass);
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION))
		return ctx_err(err, errsz, "tls", NULL);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_verify_depth(ctx, TUN_VERIFY_DEPTH);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
				      SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (t->ca[0]) {
		if (SSL_CTX_load_verify_locations(ctx, t->ca, NULL) != 1)
			return ctx_err(err, errsz, "tls_ca", t->ca);
	} else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
		return ctx_err(err, errsz, "tls_ca", "(system default)");
	}
	if (!t->cert[0])
		return 0;
	if (SSL_CTX_use_certificate_chain_file(ctx, t->cert) != 1)
		return ctx_err(err, errsz, "tls_cert", t->cert);
	if (SSL_CTX_use_PrivateKey_file(ctx, t->key, SSL_FILETYPE_PEM) != 1)
		return ctx_err(err, errsz, "tls_key", t->key);
	if (SSL_CTX_check_private_key(ctx) != 1)
		return ctx_err(err, errsz, "tls_key", t->key);
	return 0;
}

/* A new client context from t's files in *ctxp; nothing on failure. */
static int ctx_build(SSL_CTX **ctxp, const struct store_tls *t, char *err,
		     size_t errsz)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	int rc;

	*ctxp = NULL;
	if (!ctx)
		return ctx_err(err, errsz, "tls", NULL);
	rc = ctx_load(ctx, t, err, errsz);
	if (rc) {
		SSL_CTX_free(ctx);
		return rc;
	}
	*ctxp = ctx;
	return 0;
}

/* Copy the file names (bounded; a name cut short would be another
 * file): 0 or -ENAMETOOLONG. */
static int copy_paths(struct store_tls *t, const struct store_tls_conf *c)
{
	if (snprintf(t->ca, sizeof(t->ca), "%s",
		     c->ca_file ? c->ca_file : "") >= (int)sizeof(t->ca) ||
	    snprintf(t->cert, sizeof(t->cert), "%s",
		     c->cert_file ? c->cert_file : "") >=
		    (int)sizeof(t->cert) ||
	    snprintf(t->key, sizeof(t->key), "%s",
		     c->key_file ? c->key_file : "") >= (int)sizeof(t->key))
		return -ENAMETOOLONG;
	return 0;
}

/* "valid until DATE" of ctx's client certificate, or "no client
 * certificate". */
static void cert_info(SSL_CTX *ctx, char *info, size_t infosz)
{
	X509 *x = SSL_CTX_get0_certificate(ctx);
	BIO *b;
	char when[64] = "";
	int n;

	if (!info || !infosz)
		return;
	snprintf(info, infosz, "no client certificate");
	if (!x || !(b = BIO_new(BIO_s_mem())))
		return;
	if (ASN1_TIME_print(b, X509_get0_notAfter(x)) == 1 &&
	    (n = BIO_read(b, when, (int)sizeof(when) - 1)) > 0) {
		when[n] = '\0';
		snprintf(info, infosz, "client certificate valid until %s%s",
			 when,
			 X509_cmp_current_time(X509_get0_notAfter(x)) < 0
				 ? " (expired)"
				 : "");
	}
	BIO_free(b);
}

int store__tls_reload(struct store_tls *t, char *info, size_t infosz, char *err,
		      size_t errsz)
{
	SSL_CTX *ctx;
	int rc;

	if (!t)
		return -EINVAL;
	rc = ctx_build(&ctx, t, err, errsz);
	if (rc)
		return rc;
	cert_info(ctx, info, infosz);
	/* One not yet taken by the thread is replaced: ours to free. */
	SSL_CTX_free(atomic_exchange(&t->next, ctx));
	return 0;
}

/* The thread: a reloaded context, if any, for the connections to come
 * (those open keep a reference on theirs). */
static void take_next(struct store_tls *t)
{
	SSL_CTX *ctx = atomic_exchange(&t->next, NULL);

	if (!ctx)
		return;
	SSL_CTX_free(t->ctx);
	t->ctx = ctx;
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
		store__tls_conn_start(t, fd);
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
		now = store__tls_mono_ms();
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
				store__tls_conn_fail(
					t, c,
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
				store__tls_conn_step(t, c, pf[c->pidx].revents,
						     pf[c->pidx + 1].revents);
		}
		if (pf[1].revents & POLLIN) {
			take_next(t);
			accept_all(t);
		}
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

	/* What a killed daemon left goes first (store_tls_dir.c). */
	(void)store__tls_sweep("/tmp", geteuid(),
			       c->run_uid >= 0 ? (uid_t)c->run_uid : geteuid());
	rc = store__tls_mkdir(t->dir, sizeof(t->dir), "/tmp");
	if (rc) {
		errno = -rc;
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
	rc = copy_paths(t, c);
	if (rc) {
		snprintf(err, errsz, "store.tls: a file name is too long");
		goto fail;
	}
	rc = ctx_build(&t->ctx, t, err, errsz);
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
			store__tls_conn_close(&t->c[i]);
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
	SSL_CTX_free(atomic_exchange(&t->next, NULL));
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
