/*
 * auth.c - local Digest authentication of untrusted-zone requests:
 * challenges, nonces, response verification and the nc replay table.
 *
 * RFC 3261 22.1-22.4 (401/407, WWW-/Proxy-Authenticate, Authorization/
 * Proxy-Authorization), RFC 8760 (SHA-256 offered before MD5, one
 * challenge header each), RFC 7616 3.4.1-3.4.3 (response with qop=auth).
 *
 * Nonce = hex(ts[8] || salt[8] || mac[16]) with mac = HMAC-SHA-256(
 * secret, ts || salt || source || realm) truncated to 128 bits: it is
 * self-validating, so no per-challenge state is kept and a flood of
 * credential-less requests costs no memory.  ts is the monotonic clock
 * (the secret is per process, so nonces die with it).  The source is the
 * guard_src key (IPv4 address or IPv6 /64): a nonce obtained from one
 * address is worthless from another.
 *
 * State is kept only for nonces that authenticated: the highest nc seen,
 * in a fixed table.  When a live entry must be evicted its timestamp
 * raises nc_floor, and any nonce not newer than the floor that is no
 * longer in the table is answered stale=true: the client silently takes
 * a fresh nonce, and a replay of an evicted nonce is still refused.
 *
 * Anti-enumeration: a user without credentials in the file is verified
 * against a dummy HA1 derived from a secret, through the same code path,
 * and fails with the same 403 as a wrong password.  Challenges never
 * depend on the user.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "core/mem.h"
#include "guard/auth_int.h"

enum {
	NONCE_TS = 8,
	NONCE_SALT = 8,
	NONCE_MAC = 16,
	NONCE_BIN = NONCE_TS + NONCE_SALT + NONCE_MAC,
	NONCE_HEX = 2 * NONCE_BIN,
	NONCE_SKEW_MS = 1000, /* a ts this far ahead is forged */
};

enum verify {
	V_OK = 0,
	V_FAIL,     /* wrong password, unknown user, bad parameters */
	V_STALE,    /* right password, nonce expired or forgotten */
	V_BADNONCE, /* not a nonce of ours for this source */
	V_REPLAY,   /* nc not above the last accepted */
	V_ERR,      /* crypto failure */
};

void auth_conf_default(struct auth_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->mode = AUTH_OFF;
	c->algs = AUTH_ALG_MD5 | AUTH_ALG_SHA256;
	c->nonce_ttl_ms = 300 * 1000;
	c->nonce_slots = 4096;
	c->match_identity = true;
	c->normalise = true;
	c->fake_nonce_slots = 4096;
	c->fail.window_ms = 600 * 1000;
	c->fail.ip_max = 10;
	c->fail.ip_known_good_max = 100;
	c->fail.user_max = 20;
	c->fail.userip_max = 5;
	c->fail.user_lock_ms = 900 * 1000;
	c->fail.userip_block_ms = 900 * 1000;
	c->fail.known_good_ms = 24u * 3600 * 1000;
	c->fail.ip_slots = 4096;
	c->fail.user_slots = 4096;
	c->fail.userip_slots = 8192;
}

/* ------------------------------------------------------------- crypto */

int auth__hash(unsigned alg, const struct str *parts, unsigned n, uint8_t *out)
{
	const EVP_MD *md = alg == AUTH_ALG_SHA256 ? EVP_sha256() : EVP_md5();
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned i, len = 0;
	int ok = ctx && EVP_DigestInit_ex(ctx, md, NULL);

	for (i = 0; ok && i < n; i++)
		ok = EVP_DigestUpdate(ctx, parts[i].p, parts[i].len);
	ok = ok && EVP_DigestFinal_ex(ctx, out, &len);
	EVP_MD_CTX_free(ctx);
	return ok ? (int)len : -EIO;
}

void auth__hex(char *dst, const uint8_t *src, size_t n)
{
	static const char hx[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		dst[2 * i] = hx[src[i] >> 4];
		dst[2 * i + 1] = hx[src[i] & 15];
	}
	dst[2 * n] = '\0';
}

static int hexval(char c, bool upper_ok)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (upper_ok && c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int unhex(uint8_t *dst, struct str hex, size_t n, bool upper_ok)
{
	size_t i;

	if (hex.len != 2 * n)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		int hi = hexval(hex.p[2 * i], upper_ok);
		int lo = hexval(hex.p[2 * i + 1], upper_ok);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		dst[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int auth__unhex(uint8_t *dst, struct str hex, size_t n)
{
	return unhex(dst, hex, n, false);
}

static size_t alg_len(unsigned alg)
{
	return alg == AUTH_ALG_SHA256 ? 32 : 16;
}

static const char *alg_name(unsigned alg)
{
	return alg == AUTH_ALG_SHA256 ? "SHA-256" : "MD5";
}

/* mac = HMAC(secret, ts || salt || src || realm)[0..16) */
static int nonce_mac(const struct auth *a, const uint8_t *ts_salt,
		     const struct guard_src *src, uint8_t *mac)
{
	uint8_t buf[NONCE_TS + NONCE_SALT + 1 + 8 + AUTH_REALM_MAX];
	uint8_t out[EVP_MAX_MD_SIZE];
	unsigned olen = 0;
	size_t n = NONCE_TS + NONCE_SALT;

	memcpy(buf, ts_salt, n);
	buf[n++] = src->family;
	memcpy(buf + n, src->b, src->len);
	n += src->len;
	memcpy(buf + n, a->realm.p, a->realm.len);
	n += a->realm.len;
	if (!HMAC(EVP_sha256(), a->secret, sizeof(a->secret), buf, n, out,
		  &olen) ||
	    olen < NONCE_MAC)
		return -EIO;
	memcpy(mac, out, NONCE_MAC);
	mem_secclean(out, sizeof(out));
	return 0;
}

static int nonce_make(const struct auth *a, const struct guard_src *src,
		      uint64_t now, char hex[NONCE_HEX + 1])
{
	uint8_t bin[NONCE_BIN];
	unsigned i;

	for (i = 0; i < NONCE_TS; i++)
		bin[i] = (uint8_t)(now >> (56 - 8 * i));
	/* The salt keeps two challenges of one millisecond to one NAT
	 * address apart: they must not share an nc sequence. */
	if (RAND_bytes(bin + NONCE_TS, NONCE_SALT) != 1 ||
	    nonce_mac(a, bin, src, bin + NONCE_TS + NONCE_SALT))
		return -EIO;
	auth__hex(hex, bin, NONCE_BIN);
	return 0;
}

/* V_OK (fresh), V_STALE (expired), V_BADNONCE, V_ERR; *tsp its time. */
static enum verify nonce_check(const struct auth *a, struct str nonce,
			       const struct guard_src *src, uint64_t now,
			       uint64_t *tsp)
{
	uint8_t bin[NONCE_BIN], mac[NONCE_MAC];
	uint64_t ts = 0;
	unsigned i;

	if (unhex(bin, nonce, NONCE_BIN, false))
		return V_BADNONCE;
	if (nonce_mac(a, bin, src, mac))
		return V_ERR;
	if (CRYPTO_memcmp(mac, bin + NONCE_TS + NONCE_SALT, NONCE_MAC))
		return V_BADNONCE;
	for (i = 0; i < NONCE_TS; i++)
		ts = ts << 8 | bin[i];
	*tsp = ts;
	if (ts > now + NONCE_SKEW_MS)
		return V_BADNONCE;
	if (now > ts && now - ts > a->conf.nonce_ttl_ms)
		return V_STALE;
	return V_OK;
}

/* ---------------------------------------------------------- verdicts */

void auth__forbidden(struct guard_verdict *v, const char *rule)
{
	guard_verdict_pass(v);
	v->action = GUARD_REPLY;
	v->status = 403;
	v->reason = "Forbidden";
	v->rule = rule;
	v->why = "authentication failed";
}

void auth__outcome(struct guard_verdict *v, enum authfail_outcome o)
{
	if (o == AUTHFAIL_COUNTED)
		return;
	guard_verdict_pass(v);
	v->action = GUARD_DROP;
	if (o == AUTHFAIL_BAN_IP) {
		v->ban = true;
		v->rule = "auth-bruteforce-ip";
		v->why = "too many authentication failures from this source";
	} else {
		v->rule = "auth-bruteforce-userip";
		v->why = "too many authentication failures for this user "
			 "from this source";
	}
}

static void drop_error(struct guard_verdict *v)
{
	guard_verdict_pass(v);
	v->action = GUARD_DROP;
	v->rule = "auth-error";
	v->why = "internal authentication failure";
}

int auth__challenge(struct auth *a, struct guard_verdict *v, enum auth__cls cls,
		    const struct guard_src *src, uint64_t now_ms, bool stale,
		    const char *rule)
{
	static const unsigned order[] = {AUTH_ALG_SHA256, AUTH_ALG_MD5};
	bool reg = cls == AUTH__CLS_REGISTER;
	char nonce[NONCE_HEX + 1];
	size_t i, n = 0;
	int w;

	guard_verdict_pass(v);
	if (nonce_make(a, src, now_ms, nonce))
		return drop_error(v), -EIO;
	v->action = GUARD_REPLY;
	v->status = reg ? 401 : 407;
	v->reason = reg ? "Unauthorized" : "Proxy Authentication Required";
	v->rule = rule;
	v->why = stale ? "nonce expired" : "credentials required";
	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (!(a->conf.algs & order[i]))
			continue;
		/* algorithm before qop: some tools read "algorithm=" up to
		 * the next comma. */
		w = snprintf(v->extra + n, sizeof(v->extra) - n,
			     "%s: Digest realm=\"%.*s\", nonce=\"%s\", "
			     "algorithm=%s, qop=\"auth\"%s\r\n",
			     reg ? "WWW-Authenticate" : "Proxy-Authenticate",
			     STR_FMT(a->realm), nonce, alg_name(order[i]),
			     stale ? ", stale=true" : "");
		if (w < 0 || (size_t)w >= sizeof(v->extra) - n)
			return drop_error(v), -EINVAL;
		n += (size_t)w;
	}
	v->extra_len = n;
	return 0;
}

/* ------------------------------------------------------- request facts */

bool auth__exempt(const struct sip_msg *m)
{
	return m->mid == SIP_METHOD_ACK || m->mid == SIP_METHOD_CANCEL ||
	       m->to.tag.len > 0;
}

enum auth__cls auth__class(enum sip_method m)
{
	if (m == SIP_METHOD_REGISTER)
		return AUTH__CLS_REGISTER;
	return m == SIP_METHOD_INVITE ? AUTH__CLS_INVITE : AUTH__CLS_OTHER;
}

struct str auth__unquote(char *buf, size_t bufsz, struct str q)
{
	size_t i, n = 0;

	for (i = 0; i < q.len && n < bufsz; i++) {
		if (q.p[i] == '\\' && i + 1 < q.len)
			i++;
		buf[n++] = q.p[i];
	}
	return str_make(buf, n);
}

/*
 * The credentials of our realm: 1 and *dp when there is exactly one,
 * 0 when none, -1 when several or one of ours does not parse.
 */
static int find_cred(const struct auth *a, const struct sip_msg *m,
		     struct sip_digest *dp, const struct sip_hdr **hp)
{
	enum sip_hdr_id id = m->mid == SIP_METHOD_REGISTER
				     ? SIP_HDR_AUTHORIZATION
				     : SIP_HDR_PROXY_AUTHORIZATION;
	const struct sip_hdr *h;
	struct sip_digest d;
	struct sip_perr e;
	int found = 0;

	for (h = sip_msg_hdr(m, id); h; h = sip_hdr_next(m, h)) {
		if (sip_digest_parse(&d, h->value, &e) ||
		    !str_caseeq_cstr(d.scheme, "Digest")) {
			/* Unparsable: it may have been meant for us. */
			found = -1;
			continue;
		}
		if (!str_eq(d.realm, a->realm))
			continue;
		if (found)
			return -1;
		found = 1;
		*dp = d;
		if (hp)
			*hp = h;
	}
	return found;
}

const struct sip_hdr *auth_cred_hdr(const struct auth *a,
				    const struct sip_msg *m)
{
	const struct sip_hdr *h = NULL;
	struct sip_digest d;

	if (!a || !m || a->conf.mode != AUTH_LOCAL)
		return NULL;
	return find_cred(a, m, &d, &h) == 1 ? h : NULL;
}

/* ----------------------------------------------------------- verifying */

/* The HA1 to verify against: the user's, or a secret dummy. */
static int get_ha1(const struct auth *a, struct str user, unsigned alg,
		   char *ha1, bool *knownp)
{
	const char *h = creds_ha1(a->creds, user, a->realm, alg);
	uint8_t out[EVP_MAX_MD_SIZE];
	unsigned olen = 0;
	uint8_t tag = (uint8_t)alg;

	*knownp = h != NULL;
	if (!HMAC(EVP_sha256(), a->dummy, sizeof(a->dummy),
		  (const unsigned char *)user.p, user.len, out, &olen) ||
	    olen < alg_len(alg))
		return -EIO;
	out[0] ^= tag;
	/* Both computed every time: the same work known or not. */
	auth__hex(ha1, out, alg_len(alg));
	if (h)
		memcpy(ha1, h, 2 * alg_len(alg) + 1);
	mem_secclean(out, sizeof(out));
	return 0;
}

int auth__response(unsigned alg, struct str ha1, struct str nonce,
		   struct str nc, struct str cnonce, struct str qop,
		   struct str method, struct str uri, uint8_t *dig)
{
	char ha2[2 * AUTH__HASH_MAX + 1];
	size_t dl = alg_len(alg);
	struct str p[11];

	p[0] = method, p[1] = STR(":"), p[2] = uri;
	if (auth__hash(alg, p, 3, dig) < 0)
		return -EIO;
	auth__hex(ha2, dig, dl);
	p[0] = ha1, p[1] = STR(":"), p[2] = nonce, p[3] = STR(":");
	p[4] = nc, p[5] = STR(":"), p[6] = cnonce, p[7] = STR(":");
	p[8] = qop, p[9] = STR(":"), p[10] = str_make(ha2, 2 * dl);
	return auth__hash(alg, p, 11, dig);
}

/* Verify d's response; *okp true only for a known user's right one. */
static int check_response(const struct auth *a, const struct sip_msg *m,
			  const struct sip_digest *d, unsigned alg,
			  struct str user, bool *okp)
{
	char ha1[2 * AUTH__HASH_MAX + 1];
	uint8_t dig[AUTH__HASH_MAX], got[AUTH__HASH_MAX];
	size_t dl = alg_len(alg);
	bool known, hexok;
	int rc;

	if (get_ha1(a, user, alg, ha1, &known))
		return -EIO;
	rc = auth__response(alg, str_make(ha1, 2 * dl), d->nonce, d->nc,
			    d->cnonce, d->qop, m->method, d->uri, dig);
	mem_secclean(ha1, sizeof(ha1));
	if (rc < 0)
		return -EIO;
	/* Clients may send upper-case hex; compare the bytes in constant
	 * time so the answer takes as long for every user. */
	hexok = unhex(got, d->response, dl, true) == 0;
	if (!hexok)
		memset(got, 0, sizeof(got));
	*okp = (CRYPTO_memcmp(got, dig, dl) == 0) & hexok & known;
	return 0;
}

/* Parameters a valid answer must have; false fails like a password. */
static bool params_ok(const struct auth *a, const struct sip_msg *m,
		      const struct sip_digest *d, unsigned *algp,
		      struct str user)
{
	const struct sip_uri *id =
		m->mid == SIP_METHOD_REGISTER ? &m->to.uri : &m->from.uri;
	char ubuf[AUTH_USER_MAX];
	uint8_t nc[4];
	ssize_t n;

	if (!d->algorithm.len || str_caseeq_cstr(d->algorithm, "MD5"))
		*algp = AUTH_ALG_MD5;
	else if (str_caseeq_cstr(d->algorithm, "SHA-256"))
		*algp = AUTH_ALG_SHA256;
	else
		return false;
	if (!(a->conf.algs & *algp) || !d->username.len || d->userhash.len)
		return false;
	if (!str_caseeq_cstr(d->qop, "auth") || !d->cnonce.len ||
	    unhex(nc, d->nc, sizeof(nc), true) ||
	    (nc[0] | nc[1] | nc[2] | nc[3]) == 0)
		return false;
	/* RFC 7616 3.4.6: the digest-uri must be the Request-URI, or a
	 * captured answer could be replayed against another target. */
	if (!str_eq(d->uri, m->ruri_raw))
		return false;
	if (!a->conf.match_identity)
		return true;
	n = sip_unescape(ubuf, sizeof(ubuf), id->user);
	return n >= 0 && str_eq(str_make(ubuf, (size_t)n), user);
}

static uint32_t nc_value(struct str nc)
{
	uint8_t b[4] = {0};

	unhex(b, nc, 4, true);
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	       (uint32_t)b[2] << 8 | b[3];
}

/* Accept nc for a nonce of time ts unless replayed: V_OK/REPLAY/STALE. */
static enum verify nc_accept(struct auth *a, struct str nonce, uint64_t ts,
			     uint32_t nc, uint64_t now)
{
	uint64_t key = siphash24(nonce.p, nonce.len, a->hkey) | 1;
	struct auth__nc *b = &a->nc[(key & a->nc_mask) * AUTH__WAYS];
	struct auth__nc *victim = &b[0];
	unsigned i;

	for (i = 0; i < AUTH__WAYS; i++) {
		if (b[i].key != key)
			continue;
		if (nc <= b[i].nc)
			return V_REPLAY;
		b[i].nc = nc;
		return V_OK;
	}
	if (ts <= a->nc_floor)
		return V_STALE; /* evicted: cannot tell a replay */
	for (i = 0; i < AUTH__WAYS; i++) {
		if (!b[i].key || b[i].ts + a->conf.nonce_ttl_ms < now) {
			victim = &b[i];
			break;
		}
		if (b[i].ts < victim->ts)
			victim = &b[i];
	}
	if (victim->key && victim->ts + a->conf.nonce_ttl_ms >= now &&
	    victim->ts > a->nc_floor)
		a->nc_floor = victim->ts;
	victim->key = key;
	victim->ts = ts;
	victim->nc = nc;
	return V_OK;
}

static enum verify verify(struct auth *a, const struct sip_msg *m,
			  const struct sip_digest *d, struct str user,
			  const struct guard_src *src, uint64_t now)
{
	enum verify ns;
	unsigned alg = AUTH_ALG_MD5;
	uint64_t ts = 0;
	bool ok = false, pok;

	ns = nonce_check(a, d->nonce, src, now, &ts);
	if (ns == V_BADNONCE || ns == V_ERR)
		return ns;
	pok = params_ok(a, m, d, &alg, user);
	if (check_response(a, m, d, alg, user, &ok))
		return V_ERR;
	if (!ok || !pok)
		return V_FAIL;
	if (ns == V_STALE)
		return V_STALE;
	return nc_accept(a, d->nonce, ts, nc_value(d->nc), now);
}

/* ------------------------------------------------------------ the check */

static int on_failure(struct auth *a, const struct authfail_key *k,
		      bool count_user, const char *rule, uint64_t now,
		      struct guard_verdict *v)
{
	auth__forbidden(v, rule);
	auth__outcome(v, authfail_failure(a->fail, k, count_user, now));
	return 0;
}

static int locked(struct auth *a, const struct authfail_key *k,
		  enum authfail_state st, uint64_t now, struct guard_verdict *v)
{
	on_failure(a, k, false, "auth-user-locked", now, v);
	if (st == AUTHFAIL_PAIR_BLOCKED && v->action != GUARD_DROP)
		auth__outcome(v, AUTHFAIL_BLOCK_PAIR);
	return 0;
}

/* in_dialog: check a request with a To-tag too (auth_check_dialog). */
static int check(struct auth *a, const struct sip_msg *m,
		 const struct sg_addr *from, uint64_t now_ms,
		 struct guard_verdict *v, bool in_dialog)
{
	enum auth__cls cls;
	struct guard_src src;
	struct authfail_key k;
	struct sip_digest d;
	enum authfail_state st;
	char ubuf[AUTH_USER_MAX];
	struct str user = STR_NULL;
	int found;

	if (!v)
		return -EINVAL;
	guard_verdict_pass(v);
	if (!a || !m || !from || !m->is_request)
		return drop_error(v), -EINVAL;
	if (a->conf.mode != AUTH_LOCAL ||
	    (in_dialog ? m->mid == SIP_METHOD_ACK || m->mid == SIP_METHOD_CANCEL
		       : auth__exempt(m)))
		return 0;
	cls = auth__class(m->mid);
	guard_src_from_addr(&src, from);
	found = find_cred(a, m, &d, NULL);
	if (found == 0)
		return auth__challenge(a, v, cls, &src, now_ms, false,
				       "auth-challenge");
	if (found > 0)
		user = auth__unquote(ubuf, sizeof(ubuf), d.username);
	authfail_key(a->fail, &k, from, user);
	st = authfail_check(a->fail, &k, now_ms);
	if (st != AUTHFAIL_OK)
		return locked(a, &k, st, now_ms, v);
	if (found < 0)
		return on_failure(a, &k, true, "auth-failed", now_ms, v);
	switch (verify(a, m, &d, user, &src, now_ms)) {
	case V_OK:
		authfail_success(a->fail, &k, now_ms);
		return 0;
	case V_STALE:
		return auth__challenge(a, v, cls, &src, now_ms, true,
				       "auth-stale");
	case V_REPLAY:
		return auth__challenge(a, v, cls, &src, now_ms, true,
				       "auth-nonce-replay");
	case V_BADNONCE:
		return auth__challenge(a, v, cls, &src, now_ms, false,
				       "auth-challenge");
	case V_FAIL:
		return on_failure(a, &k, true, "auth-failed", now_ms, v);
	case V_ERR:
		break;
	}
	drop_error(v);
	return -EIO;
}

int auth_check(struct auth *a, const struct sip_msg *m,
	       const struct sg_addr *from, uint64_t now_ms,
	       struct guard_verdict *v)
{
	return check(a, m, from, now_ms, v, false);
}

int auth_check_dialog(struct auth *a, const struct sip_msg *m,
		      const struct sg_addr *from, uint64_t now_ms,
		      struct guard_verdict *v)
{
	return check(a, m, from, now_ms, v, true);
}

/* ------------------------------------------------------------ lifetime */

static bool realm_ok(const char *r)
{
	size_t i, n = strnlen(r, AUTH_REALM_MAX);

	if (n == 0 || n >= AUTH_REALM_MAX)
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)r[i] < ' ' || r[i] == 0x7f || r[i] == '"' ||
		    r[i] == '\\')
			return false;
	return true;
}

static int check_creds(const struct auth *a, struct creds *creds, char *err,
		       size_t errsz)
{
	struct str u = STR_NULL;

	if (!creds) {
		if (err)
			snprintf(err, errsz,
				 "auth: local mode needs a "
				 "credentials file");
		return -EINVAL;
	}
	if (creds_check_algs(creds, a->realm, a->conf.algs, &u)) {
		if (err)
			snprintf(err, errsz,
				 "auth: user %.*s has no HA1 for "
				 "every offered algorithm",
				 STR_FMT(u));
		return -EINVAL;
	}
	return 0;
}

static int conf_ok(const struct auth_conf *c, char *err, size_t errsz)
{
	const char *why = NULL;

	if (c->mode > AUTH_PASSTHROUGH)
		why = "bad mode";
	else if (c->mode == AUTH_LOCAL && !realm_ok(c->realm))
		why = "local mode needs a realm without quotes or controls";
	else if (c->realm[0] && !realm_ok(c->realm))
		why = "bad realm";
	else if (!c->algs || (c->algs & ~(AUTH_ALG_MD5 | AUTH_ALG_SHA256)))
		why = "bad algorithm set";
	else if (!c->nonce_ttl_ms || !c->nonce_slots || !c->fake_nonce_slots)
		why = "nonce lifetime and table sizes must be positive";
	else if (!c->fail.window_ms || !c->fail.ip_slots ||
		 !c->fail.user_slots || !c->fail.userip_slots)
		why = "failure window and table sizes must be positive";
	if (why && err)
		snprintf(err, errsz, "auth: %s", why);
	return why ? -EINVAL : 0;
}

static size_t buckets(uint32_t slots)
{
	size_t b = 1;

	while (b * AUTH__WAYS < slots && b < (1u << 22))
		b <<= 1;
	return b;
}

static int alloc_tables(struct auth *a)
{
	size_t nb = buckets(a->conf.nonce_slots);
	size_t fb = buckets(a->conf.fake_nonce_slots);

	a->nc = mem_zalloc(nb * AUTH__WAYS * sizeof(*a->nc));
	a->fake = mem_zalloc(fb * AUTH__WAYS * sizeof(*a->fake));
	if (!a->nc || !a->fake)
		return -ENOMEM;
	a->nc_mask = nb - 1;
	a->fake_mask = fb - 1;
	return 0;
}

int auth_new(struct auth **ap, const struct auth_conf *c, struct creds *creds,
	     char *err, size_t errsz)
{
	struct auth *a = NULL;
	int rc = -EINVAL;

	if (!ap || !c)
		goto fail;
	*ap = NULL;
	if ((rc = conf_ok(c, err, errsz)))
		goto fail;
	rc = -ENOMEM;
	if (!(a = mem_zalloc(sizeof(*a))))
		goto fail;
	a->conf = *c;
	a->realm =
		str_make(a->conf.realm, strnlen(a->conf.realm, AUTH_REALM_MAX));
	if (c->mode == AUTH_LOCAL && (rc = check_creds(a, creds, err, errsz)))
		goto fail;
	if ((rc = alloc_tables(a)) || (rc = authfail_new(&a->fail, &c->fail)))
		goto fail;
	if (RAND_bytes(a->secret, sizeof(a->secret)) != 1 ||
	    RAND_bytes(a->dummy, sizeof(a->dummy)) != 1 ||
	    RAND_bytes(a->hkey, sizeof(a->hkey)) != 1) {
		rc = -EIO;
		goto fail;
	}
	if (c->mode == AUTH_LOCAL)
		a->creds = creds;
	else
		creds_free(creds);
	*ap = a;
	return 0;
fail:
	if (rc == -ENOMEM && err)
		snprintf(err, errsz, "auth: out of memory");
	creds_free(creds);
	auth_free(a);
	return rc;
}

void auth_free(struct auth *a)
{
	if (!a)
		return;
	creds_free(a->creds);
	authfail_free(a->fail);
	mem_free(a->nc);
	mem_free(a->fake);
	mem_secclean(a, sizeof(*a));
	mem_free(a);
}

int auth_swap_creds(struct auth *a, struct creds *creds, char *err,
		    size_t errsz)
{
	int rc;

	if (!a || a->conf.mode != AUTH_LOCAL) {
		creds_free(creds);
		return -EINVAL;
	}
	if ((rc = check_creds(a, creds, err, errsz))) {
		creds_free(creds);
		return rc;
	}
	creds_free(a->creds);
	a->creds = creds;
	return 0;
}

struct authfail *auth_failures(struct auth *a)
{
	return a ? a->fail : NULL;
}
