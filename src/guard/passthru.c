/*
 * passthru.c - pass-through mode: the PBX authenticates, sipguard
 * watches.  It counts the PBX's refusals of credentials (RFC 3261 22.2:
 * 401/407 again after credentials were sent, or 403) per source, user
 * and user@source, remembers sources that authenticated (2xx), and
 * rewrites the answers that tell an unknown user from a known one.
 *
 * Anti-enumeration (docs/anti-enumeration.md has the reasoning).  Many
 * PBXs challenge a known user but answer 404 (or 403, 484, 604) for an
 * unknown one.  sipguard learns, per method class (REGISTER, INVITE,
 * other), the PBX's genuine answers:
 *   tmpl[cls][0]  its challenge to a request without credentials,
 *   tmpl[cls][1]  its refusal of wrong credentials (a fresh challenge,
 *                 or failing that a 403),
 * as the header lines the PBX wrote, minus the per-transaction ones.  A
 * revealing answer is replaced by the matching template, with every
 * nonce replaced by a made-up one of the same shape (mimic()).  The
 * made-up nonces are remembered in a fixed table: when the client comes
 * back with credentials on one of them, the user was unknown to the PBX,
 * and sipguard answers with the PBX's learnt refusal itself.
 *
 * Only REGISTER answers to credentials are normalised: to an INVITE that
 * authenticated, a 404 is about the callee, not the caller.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/rand.h>

#include "core/buf.h"
#include "guard/auth_int.h"

static const char CLEN0[] = "Content-Length: 0\r\n";

/* ------------------------------------------------------- made-up nonces */

static uint64_t fake_key(const struct auth *a, struct str nonce)
{
	return siphash24(nonce.p, nonce.len, a->hkey) | 1;
}

static void fake_add(struct auth *a, struct str nonce, uint64_t now)
{
	uint64_t key = fake_key(a, nonce);
	struct auth__fake *b = &a->fake[(key & a->fake_mask) * AUTH__WAYS];
	struct auth__fake *victim = &b[0];
	unsigned i;

	for (i = 0; i < AUTH__WAYS; i++) {
		if (!b[i].key || b[i].key == key || b[i].until <= now) {
			victim = &b[i];
			break;
		}
		if (b[i].until < victim->until)
			victim = &b[i];
	}
	victim->key = key;
	victim->until = now + a->conf.nonce_ttl_ms;
}

bool auth__pt_fake(struct auth *a, struct str nonce, uint64_t now_ms)
{
	uint64_t key = fake_key(a, nonce);
	struct auth__fake *b = &a->fake[(key & a->fake_mask) * AUTH__WAYS];
	unsigned i;

	for (i = 0; i < AUTH__WAYS; i++)
		if (b[i].key == key)
			return b[i].until > now_ms;
	return false;
}

/* -------------------------------------------------------------- mimicry */

static bool is_alnum(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z');
}

static const char *run_alphabet(const char *s, size_t n, bool *digitsp)
{
	bool dig = true, lhex = true, uhex = true;
	size_t i;

	for (i = 0; i < n; i++) {
		char c = s[i];
		bool d = c >= '0' && c <= '9';

		dig &= d;
		lhex &= d || (c >= 'a' && c <= 'f');
		uhex &= d || (c >= 'A' && c <= 'F');
	}
	*digitsp = dig;
	if (dig)
		return "0123456789";
	if (lhex)
		return "0123456789abcdef";
	if (uhex)
		return "0123456789ABCDEF";
	return "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
}

/*
 * A fresh nonce shaped like the PBX's: punctuation kept, each run of
 * letters and digits redrawn from the alphabet it uses (digits, hex,
 * alphanumeric).  A digit run keeps its first half, so a timestamp stays
 * a plausible timestamp.  Returns 0 or -EIO.
 */
static int mimic(char *dst, const char *tmpl, size_t n)
{
	uint8_t rnd[AUTH__NONCE_MAX];
	size_t i = 0, j, k;

	if (n > sizeof(rnd) || RAND_bytes(rnd, (int)n) != 1)
		return -EIO;
	while (i < n) {
		const char *abc;
		bool digits;
		size_t len;

		if (!is_alnum(tmpl[i])) {
			dst[i] = tmpl[i];
			i++;
			continue;
		}
		for (j = i; j < n && is_alnum(tmpl[j]); j++)
			;
		abc = run_alphabet(tmpl + i, j - i, &digits);
		len = strlen(abc);
		for (k = i; k < j; k++)
			dst[k] = (digits && k - i < (j - i) / 2)
					 ? tmpl[k]
					 : abc[rnd[k] % len];
		i = j;
	}
	return 0;
}

/* ------------------------------------------------------------ templates */

static bool tmpl_skip(enum sip_hdr_id id)
{
	switch (id) {
	case SIP_HDR_VIA:
	case SIP_HDR_FROM:
	case SIP_HDR_TO:
	case SIP_HDR_CALL_ID:
	case SIP_HDR_CSEQ:
	case SIP_HDR_DATE:
	case SIP_HDR_TIMESTAMP:
	case SIP_HDR_CONTENT_LENGTH:
	case SIP_HDR_CONTENT_TYPE:
		return true;
	default:
		return false;
	}
}

static bool is_challenge_hdr(enum sip_hdr_id id)
{
	return id == SIP_HDR_WWW_AUTHENTICATE ||
	       id == SIP_HDR_PROXY_AUTHENTICATE;
}

/* Note where the nonce of a challenge line sits in the template. */
static void tmpl_nonce(struct auth__tmpl *t, const struct sip_hdr *h)
{
	struct sip_digest d;
	struct sip_perr e;

	if (sip_digest_parse(&d, h->value, &e) || !d.nonce.len ||
	    d.nonce.len > AUTH__NONCE_MAX || t->nnonce >= AUTH__TMPL_NONCES)
		return;
	t->nonce[t->nnonce].off =
		(uint16_t)(t->len + (size_t)(d.nonce.p - h->line.p));
	t->nonce[t->nnonce].len = (uint16_t)d.nonce.len;
	t->nnonce++;
}

/* Learn a PBX answer as template t; an oversized one is not learnt. */
static void learn(struct auth__tmpl *t, const struct sip_msg *r, bool challenge)
{
	unsigned i;

	memset(t, 0, sizeof(*t));
	t->status = r->status;
	t->challenge = challenge;
	if (str_copy_cstr(t->reason, sizeof(t->reason), r->reason))
		return;
	for (i = 0; i < r->nhdr; i++) {
		const struct sip_hdr *h = &r->hdr[i];

		if (tmpl_skip(h->id))
			continue;
		if (h->line.len > sizeof(t->hdrs) - sizeof(CLEN0) - t->len)
			return;
		if (is_challenge_hdr(h->id))
			tmpl_nonce(t, h);
		memcpy(t->hdrs + t->len, h->line.p, h->line.len);
		t->len += h->line.len;
	}
	t->set = true;
}

/* Write t into v with fresh nonces (equal ones stay equal). */
static int render(struct auth *a, const struct auth__tmpl *t,
		  struct guard_verdict *v, uint64_t now, const char *rule)
{
	char fresh[AUTH__TMPL_NONCES][AUTH__NONCE_MAX];
	size_t at = 0, n = 0;
	unsigned i, j;

	guard_verdict_pass(v);
	for (i = 0; i < t->nnonce; i++) {
		const char *orig = t->hdrs + t->nonce[i].off;

		for (j = 0; j < i; j++)
			if (t->nonce[j].len == t->nonce[i].len &&
			    !memcmp(t->hdrs + t->nonce[j].off, orig,
				    t->nonce[i].len))
				break;
		if (j < i)
			memcpy(fresh[i], fresh[j], t->nonce[i].len);
		else if (mimic(fresh[i], orig, t->nonce[i].len))
			return -EIO;
	}
	for (i = 0; i <= t->nnonce; i++) {
		size_t end = i < t->nnonce ? t->nonce[i].off : t->len;

		memcpy(v->extra + n, t->hdrs + at, end - at);
		n += end - at;
		if (i == t->nnonce)
			break;
		memcpy(v->extra + n, fresh[i], t->nonce[i].len);
		fake_add(a, str_make(v->extra + n, t->nonce[i].len), now);
		n += t->nonce[i].len;
		at = end + t->nonce[i].len;
	}
	memcpy(v->extra + n, CLEN0, sizeof(CLEN0) - 1);
	v->extra_len = n + sizeof(CLEN0) - 1;
	v->action = GUARD_REPLY;
	v->status = t->status;
	v->reason = t->reason;
	v->rule = rule;
	v->why = "answer made uniform for known and unknown users";
	return 0;
}

/* Our own challenge in the PBX's realm, before any was learnt. */
static int own_challenge(struct auth *a, struct guard_verdict *v,
			 enum auth__cls cls, const struct guard_src *src,
			 uint64_t now, const char *rule)
{
	const char *p, *end;
	int rc = auth__challenge(a, v, cls, src, now, false, rule);

	if (rc)
		return rc;
	/* Remember its nonce(s) as made up: a retry on it is unknown. */
	for (p = v->extra, end = v->extra + v->extra_len;
	     (p = memmem(p, (size_t)(end - p), "nonce=\"", 7)); p += 7) {
		const char *q = memchr(p + 7, '"', (size_t)(end - p - 7));

		if (q)
			fake_add(a, str_span(p + 7, q), now);
	}
	if (v->extra_len + sizeof(CLEN0) - 1 > sizeof(v->extra))
		return -EINVAL;
	memcpy(v->extra + v->extra_len, CLEN0, sizeof(CLEN0) - 1);
	v->extra_len += sizeof(CLEN0) - 1;
	return 0;
}

/* The answer to a request whose user must be refused. */
int auth__pt_fail_reply(struct auth *a, struct guard_verdict *v,
			enum auth__cls cls, uint64_t now_ms, const char *rule)
{
	if (a->tmpl[cls][1].set)
		return render(a, &a->tmpl[cls][1], v, now_ms, rule);
	if (a->tmpl[cls][0].set)
		return render(a, &a->tmpl[cls][0], v, now_ms, rule);
	auth__forbidden(v, rule);
	return 0;
}

/* ------------------------------------------------------------- request */

/* First Digest credentials of either kind, or 0 (-1: unparsable). */
static int any_cred(const struct sip_msg *m, struct sip_digest *dp)
{
	static const enum sip_hdr_id ids[] = {SIP_HDR_AUTHORIZATION,
					      SIP_HDR_PROXY_AUTHORIZATION};
	struct sip_perr e;
	unsigned i;

	for (i = 0; i < 2; i++) {
		const struct sip_hdr *h = sip_msg_hdr(m, ids[i]);

		if (!h)
			continue;
		if (sip_digest_parse(dp, h->value, &e) ||
		    !str_caseeq_cstr(dp->scheme, "Digest"))
			return -1;
		return 1;
	}
	return 0;
}

static int pt_refuse(struct auth *a, struct auth_pt_note *note,
		     enum authfail_state st, bool count_user, uint64_t now,
		     struct guard_verdict *v)
{
	enum authfail_outcome o;

	note->active = false;
	o = authfail_failure(a->fail, &note->key, count_user, now);
	if (o == AUTHFAIL_COUNTED && st == AUTHFAIL_PAIR_BLOCKED)
		o = AUTHFAIL_BLOCK_PAIR;
	if (o != AUTHFAIL_COUNTED) {
		auth__outcome(v, o);
		return 0;
	}
	return auth__pt_fail_reply(a, v, note->cls, now,
				   st == AUTHFAIL_USER_LOCKED
					   ? "auth-user-locked"
					   : "auth-failed");
}

int auth_pt_request(struct auth *a, const struct sip_msg *m,
		    const struct sg_addr *from, uint64_t now_ms,
		    struct auth_pt_note *note, struct guard_verdict *v)
{
	struct sip_digest d;
	char ubuf[AUTH_USER_MAX];
	struct str user = STR_NULL;
	enum authfail_state st;
	int c;

	if (!v || !note)
		return -EINVAL;
	guard_verdict_pass(v);
	memset(note, 0, sizeof(*note));
	if (!a || !m || !from || !m->is_request)
		return -EINVAL;
	if (a->conf.mode != AUTH_PASSTHROUGH || auth__exempt(m))
		return 0;
	note->active = true;
	note->cls = (uint8_t)auth__class(m->mid);
	c = any_cred(m, &d);
	note->creds = c != 0;
	if (c > 0)
		user = auth__unquote(ubuf, sizeof(ubuf), d.username);
	authfail_key(a->fail, &note->key, from, user);
	if (!note->creds)
		return 0;
	st = authfail_check(a->fail, &note->key, now_ms);
	if (st != AUTHFAIL_OK)
		return pt_refuse(a, note, st, false, now_ms, v);
	if (c > 0 && a->conf.normalise && auth__pt_fake(a, d.nonce, now_ms))
		return pt_refuse(a, note, st, true, now_ms, v);
	return 0;
}

/* -------------------------------------------------------------- answer */

static bool is_stale(const struct sip_msg *r)
{
	const struct sip_hdr *h;
	struct sip_digest d;
	struct sip_perr e;
	unsigned i;

	for (i = 0; i < r->nhdr; i++) {
		h = &r->hdr[i];
		if (is_challenge_hdr(h->id) &&
		    !sip_digest_parse(&d, h->value, &e) &&
		    str_caseeq_cstr(d.stale, "true"))
			return true;
	}
	return false;
}

static bool reveals(int status)
{
	return status == 403 || status == 404 || status == 484 || status == 604;
}

/* Answer to a request without credentials: learn or normalise. */
static int pt_nocreds(struct auth *a, const struct auth_pt_note *note,
		      const struct sip_msg *r, uint64_t now,
		      struct guard_verdict *v)
{
	struct auth__tmpl *t = &a->tmpl[note->cls][0];

	if ((r->status == 401 || r->status == 407) && !is_stale(r)) {
		learn(t, r, true);
		return 0;
	}
	if (!a->conf.normalise || !reveals(r->status))
		return 0;
	if (t->set)
		return render(a, t, v, now, "auth-normalised");
	if (a->realm.len)
		return own_challenge(a, v, (enum auth__cls)note->cls,
				     &note->key.src, now, "auth-normalised");
	return 0;
}

int auth_pt_answer(struct auth *a, const struct auth_pt_note *note,
		   const struct sip_msg *r, uint64_t now_ms,
		   struct guard_verdict *v)
{
	struct auth__tmpl *t;
	bool chal, reg;
	int st;

	if (!v)
		return -EINVAL;
	guard_verdict_pass(v);
	if (!a || !note || !r || r->is_request)
		return -EINVAL;
	st = r->status;
	if (a->conf.mode != AUTH_PASSTHROUGH || !note->active || st < 200 ||
	    note->cls >= AUTH__CLASSES)
		return 0;
	if (!note->creds)
		return pt_nocreds(a, note, r, now_ms, v);
	if (st < 300) {
		authfail_success(a->fail, &note->key, now_ms);
		return 0;
	}
	reg = note->cls == AUTH__CLS_REGISTER;
	chal = (st == 401 || st == 407) && !is_stale(r);
	if (!chal && !(reg && reveals(st)))
		return 0;
	t = &a->tmpl[note->cls][1];
	/* A re-challenge is the PBX's answer to a wrong password; a 403
	 * only stands for it until a re-challenge has been seen. */
	if (chal || (st == 403 && !t->challenge))
		learn(t, r, chal);
	auth__outcome(v, authfail_failure(a->fail, &note->key, true, now_ms));
	if (v->action != GUARD_PASS || chal || !a->conf.normalise)
		return 0;
	if (st == 403 && t->set && !t->challenge)
		return 0; /* the PBX's own refusal: already uniform */
	return auth__pt_fail_reply(a, v, (enum auth__cls)note->cls, now_ms,
				   "auth-normalised");
}

/* ------------------------------------------------------------ building */

static bool keep_hdr(enum sip_hdr_id id)
{
	return id == SIP_HDR_VIA || id == SIP_HDR_FROM || id == SIP_HDR_TO ||
	       id == SIP_HDR_CALL_ID || id == SIP_HDR_CSEQ;
}

static bool ends_clen(const struct guard_verdict *v)
{
	size_t cl = sizeof(CLEN0) - 1;

	return v->extra_len >= cl &&
	       !memcmp(v->extra + v->extra_len - cl, CLEN0, cl);
}

int auth_pt_apply(struct auth *a, struct sip_bld *b, const struct sip_msg *r,
		  const struct guard_verdict *v)
{
	const char *run = NULL, *run_end = NULL;
	unsigned i;
	int w;

	if (!a || !b || !r || !v || v->action != GUARD_REPLY || r->is_request ||
	    !r->body.p || r->body.p < r->raw.p + 2)
		return -EINVAL;
	w = snprintf(a->line, sizeof(a->line), "SIP/2.0 %d %s", v->status,
		     v->reason ? v->reason : "");
	if (w < 0 || (size_t)w >= sizeof(a->line))
		return -EINVAL;
	sip_bld_start_line(b, str_make(a->line, (size_t)w));
	/* Remove runs of adjacent header lines in one edit each. */
	for (i = 0; i <= r->nhdr; i++) {
		const struct sip_hdr *h = i < r->nhdr ? &r->hdr[i] : NULL;

		if (h && !keep_hdr(h->id) && run && h->line.p == run_end) {
			run_end = h->line.p + h->line.len;
			continue;
		}
		if (run)
			sip_bld_replace_range(b, str_span(run, run_end),
					      STR_NULL);
		run = NULL;
		if (h && !keep_hdr(h->id)) {
			run = h->line.p;
			run_end = h->line.p + h->line.len;
		}
	}
	if (r->body.len)
		sip_bld_replace_range(b, r->body, STR_NULL);
	/* The new lines go just before the blank line; every answer keeps
	 * a Content-Length (mandatory on streams). */
	sip_bld_replace_range(b, str_make(r->body.p - 2, 0),
			      str_make(v->extra, v->extra_len));
	if (!ends_clen(v))
		sip_bld_replace_range(b, str_make(r->body.p - 2, 0),
				      str_make(CLEN0, sizeof(CLEN0) - 1));
	return b->err ? -EINVAL : 0;
}

int auth_pt_reply(struct buf *out, const struct sip_msg *req, struct str to_tag,
		  const struct guard_verdict *v)
{
	size_t n;

	if (!out || !req || !v || v->action != GUARD_REPLY)
		return -EINVAL;
	n = v->extra_len;
	if (ends_clen(v))
		n -= sizeof(CLEN0) - 1;
	return sip_reply(out, req, v->status,
			 v->reason ? str_cstr(v->reason) : STR_NULL, to_tag,
			 str_make(v->extra, n));
}
