/*
 * store_tls_int.h - the TLS tunnel's state, shared by store_tls.c (the
 * context, the thread, the lifetime) and store_tls_conn.c (one tunnelled
 * connection: TCP connect, handshake, pump).  Private to those two.
 */
#ifndef SIPGUARD_STORE_TLS_INT_H
#define SIPGUARD_STORE_TLS_INT_H

#include "store/store_int.h"

#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <openssl/ssl.h>

enum {
	TUN_MAX_CONNS = 8, /* the backend opens two, three at startup */
	TUN_BUF = 16384,   /* one TLS record each way */
	TUN_VERIFY_DEPTH = 8,
	TUN_PATH_MAX = 256, /* store.tls_* file names, NUL included */
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
	SSL_CTX *ctx; /* the thread's: new connections' context */
	/* A reloaded context (store__tls_reload) the thread has not taken
	 * yet: whoever exchanges it out owns it. */
	SSL_CTX *_Atomic next;
	char ca[TUN_PATH_MAX], cert[TUN_PATH_MAX], key[TUN_PATH_MAX];
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

static inline uint64_t store__tls_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* store_tls_conn.c */
void store__tls_conn_close(struct tun_conn *c);
void store__tls_conn_fail(struct store_tls *t, struct tun_conn *c,
			  const char *what, const char *why);
void store__tls_conn_start(struct store_tls *t, int ufd);
/* One connection's turn: its fds' poll results urev, trev. */
void store__tls_conn_step(struct store_tls *t, struct tun_conn *c, short urev,
			  short trev);

/* store_tls_dir.c */
/* Make the private directory parent/sipguard-redis-tls.<pid>.XXXXXX
 * (mode 0700) in dir; 0 or -errno (dir then ""). */
int store__tls_mkdir(char *dir, size_t sz, const char *parent);
/* Remove the tunnel directories in parent that a killed daemon left:
 * owned by uid_a or uid_b, their process gone, their socket dead (the
 * file's top comment).  How many were removed. */
int store__tls_sweep(const char *parent, uid_t uid_a, uid_t uid_b);

#endif
