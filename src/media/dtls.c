/*
 * dtls.c - the DTLS-SRTP engine of a media leg (RFC 5763, RFC 5764) on
 * OpenSSL 3's DTLS 1.2, driven entirely by the caller: datagrams in,
 * datagrams out, time as a parameter.
 *
 * - I/O: one custom BIO per connection.  Its read side hands OpenSSL the
 *   single datagram being processed (datagram semantics, nothing is
 *   buffered between calls); its write side keeps each record write as
 *   one datagram in a fixed queue of DTLS_OUT_QUEUE slots of DTLS_MTU
 *   bytes (OpenSSL fragments the handshake to DTLS_MTU, RFC 6347
 *   4.2.3).  A full queue drops, as a socket would.
 * - Authentication: no CA.  The certificate verify callback compares the
 *   peer's leaf certificate with the a=fingerprint digests of its SDP
 *   (RFC 5763 5, RFC 8122 5) and fails the handshake on a mismatch.  A
 *   certificate is required from both sides.
 * - Keys: use_srtp (RFC 5764 4.1) with four profiles; after the handshake
 *   the exporter "EXTRACTOR-dtls_srtp" (RFC 5764 4.2) gives the master
 *   keys and salts.  They are wiped with the connection.
 * - Bounds: inputs are refused unread when not DTLS (RFC 7983), larger
 *   than DTLS_MAX_DGRAM, or beyond DTLS_MAX_INPUTS during the handshake;
 *   OpenSSL's own reassembly is bounded by DTLS_MAX_CERT_LIST and its
 *   10-message window; the handshake has a deadline.
 * - Time: see dtls.h.  OpenSSL's DTLS timer runs on the wall clock; its
 *   remaining time is re-read after every call and expressed in the
 *   caller's clock, so a jump only moves one retransmission.
 */
#include "media/dtls_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "core/mem.h"

struct dtls_ctx {
	SSL_CTX *ssl;
	BIO_METHOD *meth;
	struct sdp_dtls_fp fp; /* ours, sha-256 */
	uint32_t hs_timeout_ms;
};

struct dtls_dgram {
	uint16_t len;
	uint8_t data[DTLS_MTU];
};

/* One per leg; owned by the leg, used by one thread at a time. */
struct dtls_conn {
	SSL *ssl;
	bool client;
	bool fp_ok; /* the verify callback matched a digest */
	bool fp_mismatch;
	enum dtls_state state;
	char reason[96];
	struct sdp_dtls_fp peer[SDP_DTLS_MAX_FP];
	unsigned npeer;
	const uint8_t *in; /* the datagram being processed */
	size_t in_len;
	struct dtls_dgram out[DTLS_OUT_QUEUE];
	unsigned out_head, out_n;
	uint64_t now; /* latest caller time seen */
	uint64_t hs_deadline;
	uint64_t tmr_deadline;    /* OpenSSL's retransmission timer */
	uint64_t linger_deadline; /* connected: when OpenSSL's state goes */
	unsigned ninputs;         /* datagrams read during the handshake */
	unsigned nearly;          /* of which with epoch 1 records */
	struct dtls_srtp_keys keys;
	struct dtls_conn_stats st;
};

static const struct {
	enum dtls_srtp_profile id;
	unsigned bit;
	const char *openssl; /* name in SSL_CTX_set_tlsext_use_srtp */
	const char *name;
	uint8_t key_len, salt_len;
} profiles[] = {
	/* Our preference: the RFC 5764 mandatory one first, as every
	 * libsrtp peer has it; then GCM (RFC 7714 salt is 12 bytes). */
	{DTLS_SRTP_AES128_CM_SHA1_80, DTLS_P_AES128_CM_SHA1_80,
	 "SRTP_AES128_CM_SHA1_80", "AES128_CM_SHA1_80", 16, 14},
	{DTLS_SRTP_AEAD_AES_128_GCM, DTLS_P_AEAD_AES_128_GCM,
	 "SRTP_AEAD_AES_128_GCM", "AEAD_AES_128_GCM", 16, 12},
	{DTLS_SRTP_AEAD_AES_256_GCM, DTLS_P_AEAD_AES_256_GCM,
	 "SRTP_AEAD_AES_256_GCM", "AEAD_AES_256_GCM", 32, 12},
	{DTLS_SRTP_AES128_CM_SHA1_32, DTLS_P_AES128_CM_SHA1_32,
	 "SRTP_AES128_CM_SHA1_32", "AES128_CM_SHA1_32", 16, 14},
};
enum { NPROFILES = sizeof(profiles) / sizeof(profiles[0]) };

/* AEAD suites only (the same policy as our SIP TLS); RSA ones for peers
 * with RSA certificates when we are the client. */
static const char cipher_list[] =
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256:"
	"ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305";

const char *dtls_srtp_profile_name(enum dtls_srtp_profile p)
{
	unsigned i;

	for (i = 0; i < NPROFILES; i++)
		if (profiles[i].id == p)
			return profiles[i].name;
	return "";
}

/* ------------------------------------------------------------- the BIO */

static int bio_write(BIO *b, const char *p, int n)
{
	struct dtls_conn *c = BIO_get_data(b);
	struct dtls_dgram *d;

	BIO_clear_retry_flags(b);
	if (!c || n < 0)
		return -1;
	if (c->out_n == DTLS_OUT_QUEUE || (size_t)n > DTLS_MTU) {
		c->st.out_dropped++;
		return n; /* lost on the way, as with a full socket */
	}
	d = &c->out[(c->out_head + c->out_n) % DTLS_OUT_QUEUE];
	memcpy(d->data, p, (size_t)n);
	d->len = (uint16_t)n;
	c->out_n++;
	c->st.out_dgrams++;
	return n;
}

static int bio_read(BIO *b, char *p, int size)
{
	struct dtls_conn *c = BIO_get_data(b);
	size_t n;

	BIO_clear_retry_flags(b);
	if (!c || size <= 0)
		return -1;
	if (!c->in_len) {
		BIO_set_retry_read(b);
		return -1;
	}
	/* A datagram is read whole or truncated, never split. */
	n = c->in_len < (size_t)size ? c->in_len : (size_t)size;
	memcpy(p, c->in, n);
	c->in = NULL;
	c->in_len = 0;
	return (int)n;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	struct dtls_conn *c = BIO_get_data(b);

	(void)num;
	(void)ptr;
	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1;
	case BIO_CTRL_PENDING:
		return c ? (long)c->in_len : 0;
	case BIO_CTRL_DGRAM_QUERY_MTU:
	case BIO_CTRL_DGRAM_GET_FALLBACK_MTU:
		return DTLS_MTU;
	default:
		return 0; /* WPENDING, MTU overhead, timeouts: nothing */
	}
}

static int bio_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

static BIO_METHOD *bio_method(void)
{
	BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK,
				     "sipguard-dtls");

	if (m && BIO_meth_set_write(m, bio_write) &&
	    BIO_meth_set_read(m, bio_read) && BIO_meth_set_ctrl(m, bio_ctrl) &&
	    BIO_meth_set_create(m, bio_create))
		return m;
	BIO_meth_free(m);
	return NULL;
}

/* --------------------------------------------------------- verification */

/*
 * Replaces OpenSSL's chain verification: the leaf certificate must hash
 * to one of the peer's a=fingerprint digests, with that digest's hash.
 */
static int verify_cert(X509_STORE_CTX *xs, void *arg)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(
		xs, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct dtls_conn *c = ssl ? SSL_get_app_data(ssl) : NULL;
	X509 *leaf = X509_STORE_CTX_get0_cert(xs);
	unsigned i;

	(void)arg;
	if (!c || !leaf)
		return 0;
	for (i = 0; i < c->npeer; i++) {
		struct sdp_dtls_fp got;

		if (dtls__cert_digest(&got, leaf, c->peer[i].hash) == 0 &&
		    sdp_dtls_fp_eq(&got, &c->peer[i])) {
			c->fp_ok = true;
			return 1;
		}
	}
	c->fp_mismatch = true;
	X509_STORE_CTX_set_error(xs, X509_V_ERR_CERT_REJECTED);
	return 0;
}

/* ------------------------------------------------------------- context */

static int ctx_profiles(SSL_CTX *s, unsigned mask)
{
	char list[128] = "";
	unsigned i;

	for (i = 0; i < NPROFILES; i++) {
		if (!(mask & profiles[i].bit))
			continue;
		if (list[0])
			strcat(list, ":");
		strcat(list, profiles[i].openssl);
	}
	/* Note the inverted convention: 0 is success here. */
	return list[0] && SSL_CTX_set_tlsext_use_srtp(s, list) == 0 ? 0
								    : -EINVAL;
}

static int ctx_ssl(struct dtls_ctx *x, EVP_PKEY *key, X509 *cert, unsigned mask)
{
	SSL_CTX *s = SSL_CTX_new(DTLS_method());

	if (!s)
		return -ENOMEM;
	x->ssl = s;
	if (!SSL_CTX_set_min_proto_version(s, DTLS1_2_VERSION) ||
	    !SSL_CTX_set_max_proto_version(s, DTLS1_2_VERSION) ||
	    !SSL_CTX_set_cipher_list(s, cipher_list) ||
	    !SSL_CTX_set1_groups_list(s, "X25519:P-256:P-384") ||
	    SSL_CTX_use_certificate(s, cert) != 1 ||
	    SSL_CTX_use_PrivateKey(s, key) != 1 ||
	    SSL_CTX_check_private_key(s) != 1)
		return -EIO;
	if (ctx_profiles(s, mask))
		return -EINVAL;
	SSL_CTX_set_options(s, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET |
				       SSL_OP_NO_QUERY_MTU |
				       SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_mode(s, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_max_cert_list(s, DTLS_MAX_CERT_LIST);
	SSL_CTX_set_session_cache_mode(s, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_verify(s, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
			   NULL);
	SSL_CTX_set_cert_verify_callback(s, verify_cert, NULL);
	return dtls__cert_digest(&x->fp, cert, SDP_DTLS_HASH_SHA256);
}

int dtls_ctx_new(struct dtls_ctx **ctxp, const struct dtls_ctx_conf *conf)
{
	struct dtls_ctx *x;
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	unsigned mask;
	int err;

	if (!ctxp || !conf || !conf->cert_file != !conf->key_file ||
	    (conf->profiles & ~(unsigned)DTLS_P_ALL))
		return -EINVAL;
	*ctxp = NULL;
	mask = conf->profiles ? conf->profiles : DTLS_P_ALL;
	x = mem_zalloc(sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->hs_timeout_ms = conf->handshake_timeout_ms
				   ? conf->handshake_timeout_ms
				   : DTLS_HANDSHAKE_TIMEOUT_MS;
	err = conf->cert_file ? dtls__cert_load(&key, &cert, conf->cert_file,
						conf->key_file)
			      : dtls__cert_generate(&key, &cert);
	if (!err)
		err = ctx_ssl(x, key, cert, mask);
	if (!err && !(x->meth = bio_method()))
		err = -ENOMEM;
	/* The SSL_CTX holds its own references. */
	EVP_PKEY_free(key);
	X509_free(cert);
	ERR_clear_error();
	if (err) {
		dtls_ctx_free(x);
		return err;
	}
	*ctxp = x;
	return 0;
}

void dtls_ctx_free(struct dtls_ctx *ctx)
{
	if (!ctx)
		return;
	SSL_CTX_free(ctx->ssl);
	BIO_meth_free(ctx->meth);
	mem_free(ctx);
}

const struct sdp_dtls_fp *dtls_ctx_fingerprint(const struct dtls_ctx *ctx)
{
	return ctx ? &ctx->fp : NULL;
}

/* ---------------------------------------------------------- connection */

static void fail(struct dtls_conn *c, const char *why)
{
	if (c->state == DTLS_FAILED)
		return;
	c->state = DTLS_FAILED;
	snprintf(c->reason, sizeof(c->reason), "%s", why);
}

/* The reason of a failed OpenSSL call: ours first (fingerprint), then
 * OpenSSL's static reason string (never data from the peer). */
static void fail_ssl(struct dtls_conn *c)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;
	char buf[sizeof(c->reason)];

	if (c->fp_mismatch) {
		fail(c, "peer certificate does not match a=fingerprint");
		return;
	}
	snprintf(buf, sizeof(buf), "handshake failed: %s",
		 r ? r : "unknown OpenSSL error");
	fail(c, buf);
}

static const char EXPORTER_LABEL[] = "EXTRACTOR-dtls_srtp";

/* RFC 5764 4.2: client key | server key | client salt | server salt. */
static int export_keys(struct dtls_conn *c, unsigned i)
{
	uint8_t km[2 * (DTLS_MAX_KEY + DTLS_MAX_SALT)];
	size_t kl = profiles[i].key_len, sl = profiles[i].salt_len;
	const uint8_t *ck = km, *sk = km + kl, *cs = km + 2 * kl,
		      *ss = km + 2 * kl + sl;
	struct dtls_srtp_keys *k = &c->keys;
	int err = 0;

	if (SSL_export_keying_material(
		    c->ssl, km, 2 * (kl + sl), EXPORTER_LABEL,
		    sizeof(EXPORTER_LABEL) - 1, NULL, 0, 0) != 1) {
		err = -EIO;
		goto out;
	}
	k->profile = profiles[i].id;
	k->key_len = (uint8_t)kl;
	k->salt_len = (uint8_t)sl;
	memcpy(k->local_key, c->client ? ck : sk, kl);
	memcpy(k->remote_key, c->client ? sk : ck, kl);
	memcpy(k->local_salt, c->client ? cs : ss, sl);
	memcpy(k->remote_salt, c->client ? ss : cs, sl);
out:
	OPENSSL_cleanse(km, sizeof(km));
	return err;
}

static void handshake_done(struct dtls_conn *c)
{
	const SRTP_PROTECTION_PROFILE *p =
		SSL_get_selected_srtp_profile(c->ssl);
	unsigned i;

	/* The callback ran (a certificate is required both ways), but do
	 * not let a change of OpenSSL defaults open a hole. */
	if (!c->fp_ok) {
		fail(c, "peer certificate was not verified");
		return;
	}
	if (!p) {
		fail(c, "peer did not negotiate use_srtp");
		return;
	}
	for (i = 0; i < NPROFILES; i++)
		if (profiles[i].id == (enum dtls_srtp_profile)p->id)
			break;
	if (i == NPROFILES) {
		fail(c, "unknown SRTP profile selected");
		return;
	}
	if (export_keys(c, i)) {
		fail(c, "SRTP key export failed");
		return;
	}
	c->state = DTLS_CONNECTED;
	c->linger_deadline = c->now + DTLS_LINGER_MS;
}

static void update_timer(struct dtls_conn *c)
{
	struct timeval tv;

	c->tmr_deadline = UINT64_MAX;
	if (c->state > DTLS_CONNECTED || !c->ssl)
		return;
	if (DTLSv1_get_timeout(c->ssl, &tv) > 0)
		c->tmr_deadline = c->now + (uint64_t)tv.tv_sec * 1000 +
				  ((uint64_t)tv.tv_usec + 999) / 1000;
}

/* After the handshake: records are alerts, retransmitted Finished (to
 * which OpenSSL answers with our last flight) or data we do not use. */
static void read_records(struct dtls_conn *c)
{
	uint8_t scratch[DTLS_MAX_DGRAM];
	int rc, e, n;

	for (n = 0; n < 4; n++) {
		rc = SSL_read(c->ssl, scratch, sizeof(scratch));
		if (rc > 0)
			continue;
		e = SSL_get_error(c->ssl, rc);
		if (e == SSL_ERROR_ZERO_RETURN) {
			c->state = DTLS_CLOSED;
			snprintf(c->reason, sizeof(c->reason),
				 "peer sent close_notify");
		} else if (e == SSL_ERROR_SSL) {
			fail_ssl(c);
		}
		break;
	}
	OPENSSL_cleanse(scratch, sizeof(scratch));
}

static void drive(struct dtls_conn *c)
{
	int rc, e;

	ERR_clear_error();
	if (c->state == DTLS_HANDSHAKE) {
		rc = SSL_do_handshake(c->ssl);
		if (rc == 1) {
			handshake_done(c);
		} else {
			e = SSL_get_error(c->ssl, rc);
			if (e != SSL_ERROR_WANT_READ &&
			    e != SSL_ERROR_WANT_WRITE)
				fail_ssl(c);
		}
	} else if (c->state == DTLS_CONNECTED) {
		read_records(c);
	}
	ERR_clear_error();
	update_timer(c);
}

int dtls_conn_new(struct dtls_conn **connp, struct dtls_ctx *ctx, bool client,
		  const struct sdp_dtls *peer, uint64_t now)
{
	struct dtls_conn *c;
	BIO *b;

	if (!connp || !ctx || !peer || !peer->nfp ||
	    peer->nfp > SDP_DTLS_MAX_FP)
		return -EINVAL;
	*connp = NULL;
	c = mem_zalloc(sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->ssl = SSL_new(ctx->ssl);
	b = c->ssl ? BIO_new(ctx->meth) : NULL;
	if (!b) {
		SSL_free(c->ssl);
		mem_free(c);
		ERR_clear_error();
		return -ENOMEM;
	}
	BIO_set_data(b, c);
	SSL_set_bio(c->ssl, b, b); /* one reference, owned by the SSL */
	SSL_set_app_data(c->ssl, c);
	DTLS_set_link_mtu(c->ssl, DTLS_MTU);
	if (client)
		SSL_set_connect_state(c->ssl);
	else
		SSL_set_accept_state(c->ssl);
	c->client = client;
	memcpy(c->peer, peer->fp, peer->nfp * sizeof(peer->fp[0]));
	c->npeer = peer->nfp;
	c->now = now;
	c->hs_deadline = now + ctx->hs_timeout_ms;
	c->tmr_deadline = UINT64_MAX;
	if (client)
		drive(c); /* the ClientHello */
	*connp = c;
	return 0;
}

void dtls_conn_free(struct dtls_conn *c)
{
	if (!c)
		return;
	SSL_free(c->ssl); /* frees the BIO, wipes OpenSSL's secrets */
	mem_secclean(c, sizeof(*c));
	mem_free(c);
}

/*
 * Structural check of a datagram before OpenSSL sees it (RFC 6347 4.1,
 * 4.2.2): a chain of records that fills it exactly, each of a known
 * content type with a DTLS version; a plaintext (epoch 0) handshake
 * record holds one fragment consistent with its message length, which
 * is bounded.  OpenSSL treats a malformed handshake message as fatal,
 * so without this one stray packet would end a leg's handshake.
 */
static int records_epoch(const uint8_t *p, size_t n)
{
	int epoch = 0;

	while (n) {
		size_t len, mlen, foff, flen;

		if (n < 13 || p[0] < 20 || p[0] > 23 || p[1] != 0xfe)
			return -1;
		len = (size_t)p[11] << 8 | p[12];
		if (len > n - 13)
			return -1;
		if ((p[3] << 8 | p[4]) > epoch)
			epoch = p[3] << 8 | p[4];
		if (p[0] == 22 && p[3] == 0 && p[4] == 0) {
			const uint8_t *h = p + 13;

			if (len < 12)
				return -1;
			mlen = (size_t)h[1] << 16 | (size_t)h[2] << 8 | h[3];
			foff = (size_t)h[6] << 16 | (size_t)h[7] << 8 | h[8];
			flen = (size_t)h[9] << 16 | (size_t)h[10] << 8 | h[11];
			if (flen != len - 12 || mlen > DTLS_MAX_CERT_LIST ||
			    foff > mlen || flen > mlen - foff)
				return -1;
		}
		p += 13 + len;
		n -= 13 + len;
	}
	return epoch;
}

/*
 * Whether OpenSSL may read this datagram.  OpenSSL keeps records of the
 * next epoch for later, each in a copy of its whole read buffer (about
 * 18 KB): a handshake legitimately sees one or two such datagrams (the
 * peer's Finished arriving before its ChangeCipherSpec), so only
 * DTLS_MAX_EARLY are read between two steps of the handshake (a stray
 * packet cannot use the allowance up for good); after the handshake the read
 * epoch is 1 for good (no renegotiation), and epoch 0 is the peer
 * retransmitting its last flight, which OpenSSL must see to resend ours.
 */
static bool may_read(struct dtls_conn *c, const uint8_t *p, size_t n)
{
	int epoch = records_epoch(p, n);

	if (epoch < 0 || epoch > 1)
		return false;
	if (c->state == DTLS_CONNECTED)
		return true;
	if (c->ninputs >= DTLS_MAX_INPUTS)
		return false;
	if (epoch == 1 && c->nearly >= DTLS_MAX_EARLY)
		return false;
	c->nearly += epoch == 1;
	c->ninputs++;
	return true;
}

static void set_now(struct dtls_conn *c, uint64_t now)
{
	if (now > c->now)
		c->now = now;
	if (c->state == DTLS_HANDSHAKE && c->now >= c->hs_deadline)
		fail(c, "handshake timeout");
}

int dtls_conn_input(struct dtls_conn *c, const uint8_t *p, size_t n,
		    uint64_t now)
{
	OSSL_HANDSHAKE_STATE hs;

	if (!c)
		return -EINVAL;
	set_now(c, now);
	if (!p || !dtls_is_record(p, n) || n > DTLS_MAX_DGRAM ||
	    c->state > DTLS_CONNECTED || !c->ssl || !may_read(c, p, n)) {
		c->st.in_refused++;
		return -EINVAL;
	}
	c->st.in_dgrams++;
	c->in = p;
	c->in_len = n;
	hs = SSL_get_state(c->ssl);
	drive(c);
	if (SSL_get_state(c->ssl) != hs)
		c->nearly = 0; /* the handshake moved on */
	/* Whatever OpenSSL did not read is dropped with the datagram. */
	c->in = NULL;
	c->in_len = 0;
	return (int)c->state;
}

int dtls_conn_output(struct dtls_conn *c, uint8_t *buf, size_t size)
{
	struct dtls_dgram *d;
	int n;

	if (!c || !buf)
		return -EINVAL;
	if (!c->out_n)
		return 0;
	d = &c->out[c->out_head];
	if (size < d->len)
		return -ENOSPC;
	memcpy(buf, d->data, d->len);
	n = d->len;
	c->out_head = (c->out_head + 1) % DTLS_OUT_QUEUE;
	c->out_n--;
	return n;
}

uint64_t dtls_conn_deadline(const struct dtls_conn *c)
{
	if (!c || c->state > DTLS_CONNECTED || !c->ssl)
		return UINT64_MAX;
	if (c->state == DTLS_HANDSHAKE && c->hs_deadline < c->tmr_deadline)
		return c->hs_deadline;
	if (c->state == DTLS_CONNECTED && c->linger_deadline < c->tmr_deadline)
		return c->linger_deadline;
	return c->tmr_deadline;
}

void dtls_conn_shrink(struct dtls_conn *c)
{
	if (!c || c->state != DTLS_CONNECTED || !c->ssl)
		return;
	SSL_free(c->ssl); /* wipes its secrets; our keys stay */
	c->ssl = NULL;
	c->tmr_deadline = UINT64_MAX;
	c->linger_deadline = UINT64_MAX;
}

int dtls_conn_timer(struct dtls_conn *c, uint64_t now)
{
	int rc;

	if (!c)
		return -EINVAL;
	set_now(c, now);
	if (c->state == DTLS_CONNECTED && c->now >= c->linger_deadline) {
		dtls_conn_shrink(c);
		return (int)c->state;
	}
	if (c->state > DTLS_CONNECTED || !c->ssl || c->now < c->tmr_deadline)
		return (int)c->state;
	ERR_clear_error();
	rc = DTLSv1_handle_timeout(c->ssl);
	if (rc > 0)
		c->st.retransmits++;
	else if (rc < 0)
		fail_ssl(c); /* too many timeouts: OpenSSL gave up */
	ERR_clear_error();
	update_timer(c);
	return (int)c->state;
}

enum dtls_state dtls_conn_state(const struct dtls_conn *c)
{
	return c ? c->state : DTLS_FAILED;
}

const char *dtls_conn_reason(const struct dtls_conn *c)
{
	return c ? c->reason : "";
}

int dtls_conn_keys(const struct dtls_conn *c, struct dtls_srtp_keys *keysp)
{
	if (!c || !keysp)
		return -EINVAL;
	if (c->state == DTLS_HANDSHAKE)
		return -EAGAIN;
	if (c->state != DTLS_CONNECTED)
		return -EINVAL;
	*keysp = c->keys;
	return 0;
}

void dtls_conn_close(struct dtls_conn *c)
{
	if (!c || c->state > DTLS_CONNECTED)
		return;
	if (c->state == DTLS_CONNECTED && c->ssl) {
		ERR_clear_error();
		(void)SSL_shutdown(c->ssl);
		ERR_clear_error();
	}
	c->state = DTLS_CLOSED;
	snprintf(c->reason, sizeof(c->reason), "closed by us");
	c->tmr_deadline = UINT64_MAX;
}

size_t dtls_conn_size(void)
{
	return sizeof(struct dtls_conn);
}

void dtls_conn_stats(const struct dtls_conn *c, struct dtls_conn_stats *sp)
{
	if (!sp)
		return;
	memset(sp, 0, sizeof(*sp));
	if (c)
		*sp = c->st;
}
