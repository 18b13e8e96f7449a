/*
 * test_dtls.c - the DTLS-SRTP engine (media/dtls.c): two engines in one
 * process, each with its own certificate, talk through their datagram
 * queues under a fake clock.  Handshakes for every SRTP profile with
 * mirrored keys, fingerprint mismatches, lost flights retransmitted on
 * the timer, the handshake timeout, garbage and floods, close_notify,
 * allocation failures, and leaks (ours through mem.h, OpenSSL's through
 * CRYPTO_set_mem_functions).
 *
 * The fake clock: OpenSSL's DTLS timer reads gettimeofday(), so this
 * binary defines gettimeofday() (it interposes on libc's for libssl)
 * as a fixed base plus the fake time; the engine itself only sees the
 * `now` we pass.  Nothing sleeps.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "test.h"

#include <openssl/crypto.h>
#include <openssl/pem.h>

#include "media/dtls.h"
#include "media/dtls_int.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------ fake time */

static uint64_t fake_ms;
static const time_t FAKE_BASE = 1800000000; /* 2027-01-15 */

int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
	(void)tz;
	tv->tv_sec = FAKE_BASE + (time_t)(fake_ms / 1000);
	tv->tv_usec = (suseconds_t)(fake_ms % 1000) * 1000;
	return 0;
}

/* ---------------------------------------- OpenSSL's allocations, counted */

static size_t ossl_live, ossl_peak;

struct ohdr {
	size_t n;
	size_t pad; /* keep 16-byte alignment */
};

static void *o_malloc(size_t n, const char *f, int l)
{
	struct ohdr *h = malloc(sizeof(*h) + n);

	(void)f;
	(void)l;
	if (!h)
		return NULL;
	h->n = n;
	ossl_live += n;
	if (ossl_live > ossl_peak)
		ossl_peak = ossl_live;
	return h + 1;
}

static void o_free(void *p, const char *f, int l)
{
	struct ohdr *h;

	(void)f;
	(void)l;
	if (!p)
		return;
	h = (struct ohdr *)p - 1;
	ossl_live -= h->n;
	free(h);
}

static void *o_realloc(void *p, size_t n, const char *f, int l)
{
	struct ohdr *h, *nh;

	if (!p)
		return o_malloc(n, f, l);
	h = (struct ohdr *)p - 1;
	ossl_live -= h->n;
	nh = realloc(h, sizeof(*nh) + n);
	if (!nh) {
		ossl_live += h->n;
		return NULL;
	}
	nh->n = n;
	ossl_live += n;
	if (ossl_live > ossl_peak)
		ossl_peak = ossl_live;
	return nh + 1;
}

/* -------------------------------------------------------------- a pair */

struct pair {
	struct dtls_ctx *cx, *sx; /* client's and server's contexts */
	struct dtls_conn *c, *s;
	/* drop the k-th datagram sent by each side (1-based; 0: none) */
	unsigned drop_c[4], drop_s[4];
	unsigned sent_c, sent_s;
};

static struct dtls_ctx *ctx_new(unsigned profiles)
{
	struct dtls_ctx_conf conf = {.profiles = profiles};
	struct dtls_ctx *x;

	assert_int_equal(dtls_ctx_new(&x, &conf), 0);
	return x;
}

static struct sdp_dtls peer_of(const struct dtls_ctx *x)
{
	struct sdp_dtls d;

	memset(&d, 0, sizeof(d));
	d.fp[0] = *dtls_ctx_fingerprint(x);
	d.nfp = 1;
	return d;
}

static void pair_open(struct pair *p, unsigned cprof, unsigned sprof)
{
	struct sdp_dtls cpeer, speer;

	memset(p, 0, sizeof(*p));
	p->cx = ctx_new(cprof);
	p->sx = ctx_new(sprof);
	cpeer = peer_of(p->sx);
	speer = peer_of(p->cx);
	assert_int_equal(dtls_conn_new(&p->s, p->sx, false, &speer, fake_ms),
			 0);
	assert_int_equal(dtls_conn_new(&p->c, p->cx, true, &cpeer, fake_ms), 0);
}

static void pair_close(struct pair *p)
{
	dtls_conn_free(p->c);
	dtls_conn_free(p->s);
	dtls_ctx_free(p->cx);
	dtls_ctx_free(p->sx);
	memset(p, 0, sizeof(*p));
}

static bool dropped(const unsigned *list, unsigned k)
{
	unsigned i;

	for (i = 0; i < 4; i++)
		if (list[i] == k)
			return true;
	return false;
}

/* Move every queued datagram across, both ways, until both are quiet. */
static void pump(struct pair *p)
{
	uint8_t buf[DTLS_MTU];
	int n, rounds;
	bool moved = true;

	for (rounds = 0; moved && rounds < 100; rounds++) {
		moved = false;
		while ((n = dtls_conn_output(p->c, buf, sizeof(buf))) > 0) {
			moved = true;
			if (!dropped(p->drop_c, ++p->sent_c))
				(void)dtls_conn_input(p->s, buf, (size_t)n,
						      fake_ms);
		}
		while ((n = dtls_conn_output(p->s, buf, sizeof(buf))) > 0) {
			moved = true;
			if (!dropped(p->drop_s, ++p->sent_s))
				(void)dtls_conn_input(p->c, buf, (size_t)n,
						      fake_ms);
		}
	}
	assert_true(rounds < 100);
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* Pump and fire timers until both sides are done or nothing is due. */
static void run(struct pair *p)
{
	int turns;

	for (turns = 0; turns < 1000; turns++) {
		uint64_t d;

		pump(p);
		if (dtls_conn_state(p->c) != DTLS_HANDSHAKE &&
		    dtls_conn_state(p->s) != DTLS_HANDSHAKE)
			return;
		d = min_u64(dtls_conn_deadline(p->c), dtls_conn_deadline(p->s));
		if (d == UINT64_MAX)
			return;
		if (d > fake_ms)
			fake_ms = d;
		(void)dtls_conn_timer(p->c, fake_ms);
		(void)dtls_conn_timer(p->s, fake_ms);
	}
	fail_msg("handshake did not settle");
}

static bool all_zero(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static void check_mirrored(struct pair *p, enum dtls_srtp_profile want)
{
	struct dtls_srtp_keys kc, ks;

	assert_int_equal(dtls_conn_state(p->c), DTLS_CONNECTED);
	assert_int_equal(dtls_conn_state(p->s), DTLS_CONNECTED);
	assert_int_equal(dtls_conn_keys(p->c, &kc), 0);
	assert_int_equal(dtls_conn_keys(p->s, &ks), 0);
	assert_int_equal(kc.profile, want);
	assert_int_equal(ks.profile, want);
	assert_int_equal(kc.key_len,
			 want == DTLS_SRTP_AEAD_AES_256_GCM ? 32 : 16);
	assert_int_equal(kc.salt_len,
			 want == DTLS_SRTP_AEAD_AES_128_GCM ||
					 want == DTLS_SRTP_AEAD_AES_256_GCM
				 ? 12
				 : 14);
	assert_memory_equal(kc.local_key, ks.remote_key, kc.key_len);
	assert_memory_equal(kc.remote_key, ks.local_key, kc.key_len);
	assert_memory_equal(kc.local_salt, ks.remote_salt, kc.salt_len);
	assert_memory_equal(kc.remote_salt, ks.local_salt, kc.salt_len);
	assert_memory_not_equal(kc.local_key, kc.remote_key, kc.key_len);
	assert_false(all_zero(kc.local_key, kc.key_len));
	assert_false(all_zero(kc.local_salt, kc.salt_len));
	assert_string_equal(dtls_conn_reason(p->c), "");
	mem_secclean(&kc, sizeof(kc));
	mem_secclean(&ks, sizeof(ks));
}

/* ---------------------------------------------------------------- tests */

static void test_profiles(void **state)
{
	static const struct {
		unsigned cprof, sprof;
		enum dtls_srtp_profile want;
	} cases[] = {
		{DTLS_P_AES128_CM_SHA1_80, DTLS_P_ALL,
		 DTLS_SRTP_AES128_CM_SHA1_80},
		{DTLS_P_AES128_CM_SHA1_32, DTLS_P_ALL,
		 DTLS_SRTP_AES128_CM_SHA1_32},
		{DTLS_P_AEAD_AES_128_GCM, DTLS_P_ALL,
		 DTLS_SRTP_AEAD_AES_128_GCM},
		{DTLS_P_ALL, DTLS_P_AEAD_AES_256_GCM,
		 DTLS_SRTP_AEAD_AES_256_GCM},
		/* both offer all: the server's preference, RFC 5764's MTI */
		{DTLS_P_ALL, DTLS_P_ALL, DTLS_SRTP_AES128_CM_SHA1_80},
		{DTLS_P_AES128_CM_SHA1_32 | DTLS_P_AEAD_AES_256_GCM, DTLS_P_ALL,
		 DTLS_SRTP_AEAD_AES_256_GCM},
	};
	struct pair p;
	size_t i;

	(void)state;
	for (i = 0; i < N(cases); i++) {
		uint64_t t0 = fake_ms;

		pair_open(&p, cases[i].cprof, cases[i].sprof);
		run(&p);
		check_mirrored(&p, cases[i].want);
		/* no loss: no timer was needed */
		assert_int_equal(fake_ms, t0);
		assert_string_equal(
			dtls_srtp_profile_name(cases[i].want),
			i == 0 ? "AES128_CM_SHA1_80"
			       : dtls_srtp_profile_name(cases[i].want));
		pair_close(&p);
	}
}

static void test_no_common_profile(void **state)
{
	struct pair p;
	struct dtls_srtp_keys k;

	(void)state;
	pair_open(&p, DTLS_P_AES128_CM_SHA1_80, DTLS_P_AEAD_AES_128_GCM);
	run(&p);
	assert_int_equal(dtls_conn_state(p.c), DTLS_FAILED);
	assert_int_equal(dtls_conn_state(p.s), DTLS_FAILED);
	assert_string_equal(dtls_conn_reason(p.c),
			    "peer did not negotiate use_srtp");
	assert_int_equal(dtls_conn_keys(p.c, &k), -EINVAL);
	pair_close(&p);
}

/* Which side gets the wrong fingerprint, and how. */
static void mismatch(bool client_side, int how)
{
	struct pair p;
	struct sdp_dtls bad;
	struct dtls_conn **victim;

	pair_open(&p, DTLS_P_ALL, DTLS_P_ALL);
	victim = client_side ? &p.c : &p.s;
	bad = peer_of(client_side ? p.sx : p.cx);
	if (how == 0)
		bad.fp[0].md[7] ^= 0x40; /* one bit off */
	else if (how == 1)
		bad = peer_of(client_side ? p.cx : p.sx); /* our own */
	else
		bad.fp[0].hash = SDP_DTLS_HASH_SHA1, bad.fp[0].len = 20;
	dtls_conn_free(*victim);
	assert_int_equal(dtls_conn_new(victim, client_side ? p.cx : p.sx,
				       client_side, &bad, fake_ms),
			 0);
	run(&p);
	assert_int_equal(dtls_conn_state(*victim), DTLS_FAILED);
	assert_string_equal(dtls_conn_reason(*victim),
			    "peer certificate does not match a=fingerprint");
	/* the other side learns it from the alert */
	assert_int_equal(dtls_conn_state(client_side ? p.s : p.c), DTLS_FAILED);
	assert_int_not_equal(strlen(dtls_conn_reason(client_side ? p.s : p.c)),
			     0);
	pair_close(&p);
}

static void test_fingerprint_mismatch(void **state)
{
	int how;

	(void)state;
	for (how = 0; how < 3; how++) {
		mismatch(true, how);
		mismatch(false, how);
	}
}

static void test_several_fingerprints(void **state)
{
	struct pair p;
	struct sdp_dtls d;
	X509 *x;
	EVP_PKEY *k;

	(void)state;
	pair_open(&p, DTLS_P_ALL, DTLS_P_ALL);
	/* A wrong sha-256 first, then the right digest with sha-512. */
	d = peer_of(p.sx);
	d.fp[0].md[0] ^= 1;
	assert_int_equal(dtls__cert_generate(&k, &x), 0);
	assert_int_equal(dtls__cert_digest(&d.fp[1], x, SDP_DTLS_HASH_SHA512),
			 0); /* an unrelated certificate's: still wrong */
	d.nfp = 2;
	dtls_conn_free(p.c);
	assert_int_equal(dtls_conn_new(&p.c, p.cx, true, &d, fake_ms), 0);
	run(&p);
	assert_int_equal(dtls_conn_state(p.c), DTLS_FAILED);
	pair_close(&p);
	X509_free(x);
	EVP_PKEY_free(k);

	/* Wrong one first, right one second: accepted. */
	pair_open(&p, DTLS_P_ALL, DTLS_P_ALL);
	d = peer_of(p.sx);
	d.fp[1] = d.fp[0];
	d.fp[0].md[0] ^= 1;
	d.nfp = 2;
	dtls_conn_free(p.c);
	assert_int_equal(dtls_conn_new(&p.c, p.cx, true, &d, fake_ms), 0);
	run(&p);
	check_mirrored(&p, DTLS_SRTP_AES128_CM_SHA1_80);
	pair_close(&p);
}

/* Drop datagrams of each flight once: the timer brings them back. */
static void test_retransmit(void **state)
{
	static const struct {
		unsigned drop_c, drop_s;
		uint64_t min_ms; /* at least this long */
	} cases[] = {
		{1, 0, 1000}, /* ClientHello */
		{0, 1, 1000}, /* server's first flight */
		{2, 0, 1000}, /* client's second flight */
		{0, 2, 1000}, /* server's ChangeCipherSpec+Finished */
		{1, 1, 1000},
	};
	struct dtls_conn_stats st;
	struct pair p;
	size_t i;

	(void)state;
	for (i = 0; i < N(cases); i++) {
		uint64_t t0 = fake_ms;

		pair_open(&p, DTLS_P_ALL, DTLS_P_ALL);
		p.drop_c[0] = cases[i].drop_c;
		p.drop_s[0] = cases[i].drop_s;
		run(&p);
		check_mirrored(&p, DTLS_SRTP_AES128_CM_SHA1_80);
		assert_true(fake_ms - t0 >= cases[i].min_ms);
		assert_true(fake_ms - t0 < 10000);
		dtls_conn_stats(p.c, &st);
		if (cases[i].drop_c == 1 || cases[i].drop_s == 1)
			assert_true(st.retransmits >= 1);
		pair_close(&p);
	}
}

static void test_timeout(void **state)
{
	struct dtls_ctx *x = ctx_new(0);
	struct dtls_conn *c;
	struct sdp_dtls d = peer_of(x);
	struct dtls_conn_stats st;
	uint8_t buf[DTLS_MTU];
	uint64_t t0 = fake_ms, last = t0, gaps[16];
	unsigned n = 0;

	(void)state;
	assert_int_equal(dtls_conn_new(&c, x, true, &d, fake_ms), 0);
	while (dtls_conn_state(c) == DTLS_HANDSHAKE && n < N(gaps)) {
		while (dtls_conn_output(c, buf, sizeof(buf)) > 0)
			; /* into the void */
		fake_ms = dtls_conn_deadline(c);
		gaps[n++] = fake_ms - last;
		last = fake_ms;
		(void)dtls_conn_timer(c, fake_ms);
	}
	assert_int_equal(dtls_conn_state(c), DTLS_FAILED);
	assert_string_equal(dtls_conn_reason(c), "handshake timeout");
	assert_int_equal(fake_ms - t0, DTLS_HANDSHAKE_TIMEOUT_MS);
	/* RFC 6347 4.2.4.1: 1 s, then doubling */
	assert_true(n >= 4);
	assert_int_equal(gaps[0], 1000);
	assert_int_equal(gaps[1], 2000);
	assert_int_equal(gaps[2], 4000);
	dtls_conn_stats(c, &st);
	assert_int_equal(st.retransmits, n - 1);
	assert_int_equal(dtls_conn_deadline(c), UINT64_MAX);
	dtls_conn_free(c);
	dtls_ctx_free(x);
}

static void fill_garbage(uint8_t *b, size_t n, unsigned seed)
{
	size_t i;

	for (i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		b[i] = (uint8_t)(seed >> 16);
	}
}

static void test_garbage(void **state)
{
	static uint8_t big[DTLS_MAX_DGRAM + 1];
	uint8_t g[300];
	struct dtls_conn_stats st;
	struct pair p;
	size_t before, i;
	unsigned k;

	(void)state;
	pair_open(&p, DTLS_P_ALL, DTLS_P_ALL);
	/* Refused unread: RTP, STUN, empty, too long. */
	g[0] = 0x80;
	assert_int_equal(dtls_conn_input(p.s, g, 100, fake_ms), -EINVAL);
	g[0] = 0x00;
	assert_int_equal(dtls_conn_input(p.s, g, 20, fake_ms), -EINVAL);
	assert_int_equal(dtls_conn_input(p.s, g, 0, fake_ms), -EINVAL);
	big[0] = 22;
	assert_int_equal(dtls_conn_input(p.s, big, sizeof(big), fake_ms),
			 -EINVAL);
	assert_int_equal(dtls_conn_input(p.s, NULL, 10, fake_ms), -EINVAL);
	/* DTLS-looking garbage (refused by the record check), and
	 * records with a handshake header claiming a huge message:
	 * neither changes the state. */
	before = ossl_live;
	for (k = 0; k < 200; k++) {
		size_t n = 13 + 12 + k % (sizeof(g) - 25);
		int rc;

		fill_garbage(g, sizeof(g), k);
		g[0] = (uint8_t)(20 + k % 44);
		if (k % 2) {
			g[0] = 22;
			g[1] = 0xfe;
			g[2] = 0xfd; /* DTLS 1.2 */
			memset(g + 3, 0, 8);
			g[10] = (uint8_t)k; /* sequence */
			g[11] = 0;
			g[12] = (uint8_t)(n - 13); /* length */
			g[13] = 1;                 /* ClientHello */
			g[14] = 0x00;
			g[15] = 0xff;
			g[16] = 0xff; /* 64 KB message */
		}
		rc = dtls_conn_input(p.s, g, n, fake_ms);
		if (rc != -EINVAL)
			fail_msg("garbage %u: %d %s", k, rc,
				 dtls_conn_reason(p.s));
	}
	/* Well-formed records of the next epoch: the first DTLS_MAX_EARLY
	 * are read (OpenSSL keeps them), the others refused. */
	for (k = 0; k < 50; k++) {
		fill_garbage(g, sizeof(g), k);
		g[0] = 23;
		g[1] = 0xfe;
		g[2] = 0xfd;
		g[3] = 0;
		g[4] = 1; /* epoch 1 */
		g[11] = 0;
		g[12] = 100;
		assert_int_equal(dtls_conn_input(p.s, g, 113, fake_ms),
				 k < DTLS_MAX_EARLY ? DTLS_HANDSHAKE : -EINVAL);
	}
	if (ossl_live - before >= 256 * 1024)
		fail_msg("OpenSSL grew by %zu bytes", ossl_live - before);
	/* The real handshake still goes through. */
	run(&p);
	if (dtls_conn_state(p.s) != DTLS_CONNECTED)
		fail_msg("server: %s / client: %s", dtls_conn_reason(p.s),
			 dtls_conn_reason(p.c));
	check_mirrored(&p, DTLS_SRTP_AES128_CM_SHA1_80);
	/* Garbage after the handshake changes nothing either. */
	for (k = 0; k < 100; k++) {
		fill_garbage(g, sizeof(g), k + 1000);
		g[0] = (uint8_t)(20 + k % 44);
		(void)dtls_conn_input(p.c, g, sizeof(g), fake_ms);
	}
	check_mirrored(&p, DTLS_SRTP_AES128_CM_SHA1_80);
	dtls_conn_stats(p.s, &st);
	assert_int_equal(st.in_refused, 5 + 200 + 50 - DTLS_MAX_EARLY);
	assert_true(st.in_dgrams >= DTLS_MAX_EARLY + 2);
	pair_close(&p);

	/* A flood during the handshake (the ClientHello replayed: OpenSSL
	 * drops the copies as replays) stops being read at the cap. */
	pair_open(&p, DTLS_P_ALL, DTLS_P_ALL);
	{
		uint8_t hello[DTLS_MTU];
		int hn = dtls_conn_output(p.c, hello, sizeof(hello));

		assert_true(hn > 0);
		before = ossl_live;
		for (i = 0; i < 5000; i++)
			(void)dtls_conn_input(p.s, hello, (size_t)hn, fake_ms);
	}
	dtls_conn_stats(p.s, &st);
	assert_int_equal(st.in_dgrams, DTLS_MAX_INPUTS);
	assert_int_equal(st.in_refused, 5000 - DTLS_MAX_INPUTS);
	if (ossl_live - before >= 256 * 1024)
		fail_msg("OpenSSL grew by %zu bytes", ossl_live - before);
	run(&p); /* the server reads no more: the handshake times out */
	assert_int_equal(dtls_conn_state(p.s), DTLS_FAILED);
	assert_string_equal(dtls_conn_reason(p.s), "handshake timeout");
	pair_close(&p);
}

static void test_close(void **state)
{
	struct pair p;
	struct dtls_srtp_keys k;

	(void)state;
	pair_open(&p, DTLS_P_ALL, DTLS_P_ALL);
	assert_int_equal(dtls_conn_keys(p.s, &k), -EAGAIN);
	run(&p);
	check_mirrored(&p, DTLS_SRTP_AES128_CM_SHA1_80);
	dtls_conn_close(p.c);
	assert_int_equal(dtls_conn_state(p.c), DTLS_CLOSED);
	pump(&p);
	assert_int_equal(dtls_conn_state(p.s), DTLS_CLOSED);
	assert_string_equal(dtls_conn_reason(p.s), "peer sent close_notify");
	assert_int_equal(dtls_conn_deadline(p.s), UINT64_MAX);
	/* closed conns refuse input */
	{
		uint8_t g[20] = {23};

		assert_int_equal(dtls_conn_input(p.s, g, sizeof(g), fake_ms),
				 -EINVAL);
	}
	pair_close(&p);
}

/* DTLS_LINGER_MS after connecting, the timer sheds OpenSSL's state;
 * the keys stay, DTLS input is refused, close still works. */
static void test_linger(void **state)
{
	struct pair p;
	uint8_t g[20] = {23, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 9, 0, 7};
	uint64_t t0;

	(void)state;
	pair_open(&p, DTLS_P_ALL, DTLS_P_ALL);
	run(&p);
	t0 = fake_ms;
	check_mirrored(&p, DTLS_SRTP_AES128_CM_SHA1_80);
	assert_true(dtls_conn_deadline(p.s) <= t0 + DTLS_LINGER_MS);
	assert_int_equal(dtls_conn_input(p.s, g, sizeof(g), fake_ms),
			 DTLS_CONNECTED);
	fake_ms = dtls_conn_deadline(p.s);
	(void)dtls_conn_timer(p.s, fake_ms);
	fake_ms = t0 + DTLS_LINGER_MS;
	(void)dtls_conn_timer(p.s, fake_ms);
	(void)dtls_conn_timer(p.c, fake_ms);
	assert_int_equal(dtls_conn_deadline(p.s), UINT64_MAX);
	assert_int_equal(dtls_conn_deadline(p.c), UINT64_MAX);
	check_mirrored(&p, DTLS_SRTP_AES128_CM_SHA1_80);
	assert_int_equal(dtls_conn_input(p.s, g, sizeof(g), fake_ms), -EINVAL);
	dtls_conn_close(p.s);
	assert_int_equal(dtls_conn_state(p.s), DTLS_CLOSED);
	pair_close(&p);
}

static void test_args_and_oom(void **state)
{
	struct dtls_ctx_conf conf = {0};
	struct dtls_ctx *x = NULL;
	struct dtls_conn *c = NULL;
	struct sdp_dtls d;
	uint8_t small[10];
	unsigned n;
	int rc;

	(void)state;
	assert_int_equal(dtls_ctx_new(NULL, &conf), -EINVAL);
	conf.profiles = 1u << 7;
	assert_int_equal(dtls_ctx_new(&x, &conf), -EINVAL);
	conf.profiles = 0;
	conf.cert_file = "/nonexistent.pem";
	assert_int_equal(dtls_ctx_new(&x, &conf), -EINVAL);
	conf.key_file = "/nonexistent.key";
	assert_int_equal(dtls_ctx_new(&x, &conf), -EINVAL);
	conf.cert_file = conf.key_file = NULL;
	/* Every allocation of ours fails once, in turn. */
	for (n = 1; n < 10; n++) {
		mem_fail_nth(n);
		rc = dtls_ctx_new(&x, &conf);
		mem_fail_nth(0);
		if (rc == 0)
			break;
		assert_int_equal(rc, -ENOMEM);
		assert_null(x);
	}
	assert_int_equal(rc, 0);
	d = peer_of(x);
	mem_fail_nth(1);
	assert_int_equal(dtls_conn_new(&c, x, true, &d, fake_ms), -ENOMEM);
	mem_fail_nth(0);
	assert_null(c);
	d.nfp = 0;
	assert_int_equal(dtls_conn_new(&c, x, true, &d, fake_ms), -EINVAL);
	d.nfp = 1;
	assert_int_equal(dtls_conn_new(&c, x, true, &d, fake_ms), 0);
	assert_int_equal(dtls_conn_output(c, small, sizeof(small)), -ENOSPC);
	assert_int_equal(dtls_conn_timer(NULL, 0), -EINVAL);
	assert_int_equal(dtls_conn_state(NULL), DTLS_FAILED);
	dtls_conn_free(c);
	dtls_conn_free(NULL);
	dtls_ctx_free(x);
	dtls_ctx_free(NULL);
}

static int write_pem(char *path, EVP_PKEY *k, X509 *x)
{
	int fd = mkstemp(path);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	int ok;

	if (!f)
		return -1;
	ok = k ? PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL)
	       : PEM_write_X509(f, x);
	fclose(f);
	return ok ? 0 : -1;
}

static void test_load_cert(void **state)
{
	char cpath[] = "/tmp/sg-dtls-cert-XXXXXX";
	char kpath[] = "/tmp/sg-dtls-key-XXXXXX";
	char k2path[] = "/tmp/sg-dtls-key2-XXXXXX";
	struct dtls_ctx_conf conf = {0};
	struct sdp_dtls_fp want;
	struct dtls_ctx *x;
	EVP_PKEY *k, *k2;
	X509 *c, *c2;

	(void)state;
	assert_int_equal(dtls__cert_generate(&k, &c), 0);
	assert_int_equal(dtls__cert_generate(&k2, &c2), 0);
	assert_int_equal(write_pem(cpath, NULL, c), 0);
	assert_int_equal(write_pem(kpath, k, NULL), 0);
	assert_int_equal(write_pem(k2path, k2, NULL), 0);
	conf.cert_file = cpath;
	conf.key_file = kpath;
	assert_int_equal(dtls_ctx_new(&x, &conf), 0);
	assert_int_equal(dtls__cert_digest(&want, c, SDP_DTLS_HASH_SHA256), 0);
	assert_true(sdp_dtls_fp_eq(dtls_ctx_fingerprint(x), &want));
	dtls_ctx_free(x);
	conf.key_file = k2path; /* not the certificate's key */
	assert_int_equal(dtls_ctx_new(&x, &conf), -EINVAL);
	unlink(cpath);
	unlink(kpath);
	unlink(k2path);
	EVP_PKEY_free(k);
	EVP_PKEY_free(k2);
	X509_free(c);
	X509_free(c2);
}

/* Our fingerprint is of a P-256 certificate and formats for the SDP. */
static void test_own_fingerprint(void **state)
{
	struct dtls_ctx *x = ctx_new(0), *y = ctx_new(0);
	char s[SDP_DTLS_FP_STRLEN];

	(void)state;
	assert_int_equal(dtls_ctx_fingerprint(x)->hash, SDP_DTLS_HASH_SHA256);
	assert_int_equal(
		sdp_dtls_fp_format(s, sizeof(s), dtls_ctx_fingerprint(x)),
		7 + 1 + 32 * 3 - 1);
	assert_false(sdp_dtls_fp_eq(dtls_ctx_fingerprint(x),
				    dtls_ctx_fingerprint(y)));
	dtls_ctx_free(x);
	dtls_ctx_free(y);
}

/* A full cycle leaves OpenSSL's heap where it was (after a warm-up that
 * lets it build its lazy global tables). */
static void test_openssl_leaks(void **state)
{
	struct pair p;
	size_t base;
	int i;

	(void)state;
	for (i = 0; i < 2; i++) {
		base = ossl_live;
		pair_open(&p, DTLS_P_ALL, DTLS_P_ALL);
		p.drop_c[0] = 2;
		run(&p);
		check_mirrored(&p, DTLS_SRTP_AES128_CM_SHA1_80);
		pair_close(&p);
	}
	assert_int_equal(ossl_live, base);
}

/* What one leg costs: our struct, OpenSSL's heap during the handshake
 * and once connected, and handshake CPU time (printed, bounded). */
static void test_footprint(void **state)
{
	enum { NPAIRS = 50 };
	static struct pair p[NPAIRS];
	struct timespec t0, t1;
	size_t base, peak_before, connected;
	double ms;
	int i;

	(void)state;
	p[0].cx = ctx_new(0);
	p[0].sx = ctx_new(0);
	base = ossl_live;
	peak_before = ossl_peak;
	ossl_peak = ossl_live;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < NPAIRS; i++) {
		struct sdp_dtls cp = peer_of(p[0].sx), sp = peer_of(p[0].cx);

		p[i].cx = p[0].cx;
		p[i].sx = p[0].sx;
		assert_int_equal(
			dtls_conn_new(&p[i].s, p[0].sx, false, &sp, fake_ms),
			0);
		assert_int_equal(
			dtls_conn_new(&p[i].c, p[0].cx, true, &cp, fake_ms), 0);
		run(&p[i]);
		assert_int_equal(dtls_conn_state(p[i].s), DTLS_CONNECTED);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	connected = (ossl_live - base) / (2 * NPAIRS);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	     (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	printf("dtls: conn struct %zu B; OpenSSL per connected leg %zu B; "
	       "peak while connecting %zu B over base; %.2f ms CPU per "
	       "handshake (both ends)\n",
	       dtls_conn_size(), connected, ossl_peak - base, ms / NPAIRS);
	/* Once both ends have finished, OpenSSL's part goes. */
	for (i = 0; i < NPAIRS; i++) {
		dtls_conn_shrink(p[i].c);
		dtls_conn_shrink(p[i].s);
		check_mirrored(&p[i], DTLS_SRTP_AES128_CM_SHA1_80);
	}
	printf("dtls: OpenSSL per leg after dtls_conn_shrink %zu B\n",
	       (ossl_live - base) / (2 * NPAIRS));
	assert_true(ossl_live - base < 2 * NPAIRS * 512);
	for (i = 0; i < NPAIRS; i++) {
		dtls_conn_free(p[i].c);
		dtls_conn_free(p[i].s);
	}
	dtls_ctx_free(p[0].cx);
	dtls_ctx_free(p[0].sx);
	memset(p, 0, sizeof(p));
	if (peak_before > ossl_peak)
		ossl_peak = peak_before;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_profiles),
		cmocka_unit_test(test_no_common_profile),
		cmocka_unit_test(test_fingerprint_mismatch),
		cmocka_unit_test(test_several_fingerprints),
		cmocka_unit_test(test_retransmit),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_close),
		cmocka_unit_test(test_linger),
		cmocka_unit_test(test_args_and_oom),
		cmocka_unit_test(test_load_cert),
		cmocka_unit_test(test_own_fingerprint),
		cmocka_unit_test(test_openssl_leaks),
		cmocka_unit_test(test_footprint),
	};
	int rc;

	if (!CRYPTO_set_mem_functions(o_malloc, o_realloc, o_free))
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	assert_no_leaks();
	return rc;
}
