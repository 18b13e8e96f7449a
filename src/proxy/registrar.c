/*
 * registrar.c - registrations of remote users through the controller.
 *
 * We keep sipguard in the path by Contact rewriting, not by Path
 * (RFC 3327): a REGISTER from the untrusted zone reaches the registrar
 * with each Contact replaced by <sip:sg<token>@<our trusted address>>,
 * and we keep a binding token -> (the user's own Contact, the transport
 * address and connection the REGISTER came from, expiry).  A call from
 * the PBX to that contact comes to us; we send it to the address the user
 * registered from (NAT) with the user's Contact as Request-URI.
 *
 * Why not Path: it needs the registrar to support RFC 3327, and the PBX
 * would still see (and might try to reach) the user's private Contact.
 * Rewriting works with any registrar and hides the remote user's address
 * from the trusted side.  The token is a keyed hash of AOR and Contact,
 * so a refresh maps to the same binding and the registrar sees one
 * stable Contact per device.
 *
 * A binding is created with a short provisional lifetime when the
 * REGISTER goes out; the registrar's 2xx sets the real expiry (from the
 * Contact's expires parameter, else the Expires header), and expires=0
 * removes it.  Only that 2xx confirms a binding and sets (or moves) the
 * address calls go to: a REGISTER the registrar refuses changes nothing
 * (registration hijack, issue 5; the policy is in regguard.c).  Calls
 * never go to an unconfirmed binding.  "Contact: *" is passed through
 * unchanged; when the registrar accepts it (or any removal), the
 * bindings it names go here too (proxy__reg_drop).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/mem.h"
#include "core/siphash.h"
#include "proxy/proxy_int.h"

enum {
	REG_TOKEN_LEN = 16,
	REG_PENDING_MS = 32000, /* until the registrar answers */
	REG_DEFAULT_EXPIRES = 3600,
	REG_MAX_BINDINGS = 100000,
	REG_BUCKETS = 1 << 14,
	REG_MAX_CONTACT = SIP_MAX_URI,
};

/* One binding.  Owner: struct proxy_reg (hash table). */
struct binding {
	struct hnode hn;
	struct tmr tmr; /* expiry */
	struct proxy_reg *r;
	char token[REG_TOKEN_LEN + 1];
	struct sip_peer peer; /* where the accepted REGISTER came from */
	struct hnode an;      /* p->reg->aors, key: aor */
	uint64_t aor;         /* keyed hash of the AOR (To URI) */
	uint64_t ua;          /* keyed hash of its User-Agent */
	uint64_t refreshed;   /* loop ms of the last 2xx */
	uint64_t expires;     /* loop ms: registrar's expiry */
	uint64_t shared;      /* loop ms: expiry last published */
	uint16_t lis;         /* listener our Contact names */
	bool confirmed;       /* a 2xx from the registrar seen */
	size_t contact_len, aor_len;
	char *aor_text; /* the To URI, after contact[] */
	char contact[]; /* the user's own Contact URI */
};

struct proxy_reg {
	struct proxy *p;
	struct htab h;
	struct htab aors; /* the same bindings, by AOR */
	size_t n;
	size_t npending; /* not confirmed yet */
};

int proxy__reg_new(struct proxy_reg **rp, struct proxy *p)
{
	struct proxy_reg *r = mem_zalloc(sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->p = p;
	if (htab_init(&r->h, REG_BUCKETS) != 0) {
		mem_free(r);
		return -ENOMEM;
	}
	if (htab_init(&r->aors, REG_BUCKETS) != 0) {
		htab_fini(&r->h);
		mem_free(r);
		return -ENOMEM;
	}
	*rp = r;
	return 0;
}

static void binding_free(struct binding *b)
{
	tmr_cancel(&b->tmr);
	htab_remove(&b->r->h, &b->hn);
	htab_remove(&b->r->aors, &b->an);
	b->r->n--;
	if (!b->confirmed)
		b->r->npending--;
	mem_free(b);
}

void proxy__reg_free(struct proxy_reg *r)
{
	struct htab_iter it;
	struct hnode *n;

	if (!r)
		return;
	htab_iter_init(&it, &r->h);
	while ((n = htab_iter_next(&it)))
		binding_free(HTAB_ENTRY(n, struct binding, hn));
	htab_fini(&r->h);
	htab_fini(&r->aors);
	mem_free(r);
}

size_t proxy__reg_count(const struct proxy_reg *r)
{
	return r ? r->n : 0;
}

static bool token_eq(const struct hnode *n, const void *key)
{
	const struct binding *b = HTAB_ENTRY(n, struct binding, hn);

	return memcmp(b->token, key, REG_TOKEN_LEN) == 0;
}

static bool same_flow(const struct sip_peer *a, const struct sip_peer *b)
{
	return a->tp == b->tp && a->conn_id == b->conn_id &&
	       a->local == b->local && sg_addr_eq(&a->addr, &b->addr);
}

static struct binding *find(struct proxy_reg *r, const char *token)
{
	struct hnode *n = htab_find(
		&r->h, htab_hash(&r->h, token, REG_TOKEN_LEN), token_eq, token);

	return n ? HTAB_ENTRY(n, struct binding, hn) : NULL;
}

/* Shared bindings (cluster.c, issue 9): a confirmed one is published,
 * and withdrawn when it goes. */
static void unpublish(struct binding *b)
{
	if (b->confirmed)
		proxy__cl_binding_del(b->r->p,
				      str_make(b->token, REG_TOKEN_LEN));
}

static void expire(void *arg)
{
	struct binding *b = arg;

	log_debug("binding sg%s expired", b->token);
	unpublish(b);
	binding_free(b);
}

static void arm(struct binding *b, uint64_t ms)
{
	tmr_start(loop_timers(b->r->p->loop), &b->tmr, ms, expire, b);
}

static void make_token(const struct proxy *p, const struct sip_msg *m,
		       const struct sip_nameaddr *c, char out[])
{
	uint64_t h = siphash24(m->to.uri.raw.p, m->to.uri.raw.len, p->key);

	h ^= siphash24(c->uri.raw.p, c->uri.raw.len, p->key) * 31;
	snprintf(out, REG_TOKEN_LEN + 1, "%016llx", (unsigned long long)h);
}

static uint64_t aor_key(const struct proxy *p, const struct sip_msg *m)
{
	return siphash24(m->to.uri.raw.p, m->to.uri.raw.len, p->key);
}

/* Create or refresh the binding for contact c of REGISTER m. */
static int reg_bind(struct proxy *p, const struct sip_msg *m,
		    const struct sip_nameaddr *c, const struct sip_peer *from,
		    char token[], unsigned lis)
{
	struct proxy_reg *r = p->reg;
	struct binding *b;
	struct str aor;

	make_token(p, m, c, token);
	b = find(r, token);
	if (b)
		/* A refresh, or someone else: only the registrar's 2xx may
		 * move the binding (proxy__reg_confirm). */
		return 0;
	/* REGISTERs nobody authenticated yet may hold at most half the
	 * table: a flood of them cannot crowd out real bindings. */
	if (r->n >= REG_MAX_BINDINGS || r->npending >= REG_MAX_BINDINGS / 2 ||
	    c->uri.raw.len > REG_MAX_CONTACT)
		return -ENOSPC;
	/* The AOR goes along (the token is a hash of it and the Contact,
	 * so it never changes): a resync publishes it again. */
	aor = m->to.uri.raw.len <= REG_MAX_CONTACT ? m->to.uri.raw : STR_NULL;
	b = mem_zalloc(sizeof(*b) + c->uri.raw.len + 1 + aor.len + 1);
	if (!b)
		return -ENOMEM;
	b->aor_text = b->contact + c->uri.raw.len + 1;
	if (aor.len)
		memcpy(b->aor_text, aor.p, aor.len);
	b->aor_len = aor.len;
	b->r = r;
	memcpy(b->token, token, REG_TOKEN_LEN + 1);
	b->peer = *from;
	memcpy(b->contact, c->uri.raw.p, c->uri.raw.len);
	b->contact_len = c->uri.raw.len;
	b->aor = aor_key(p, m);
	b->lis = (uint16_t)lis;
	tmr_init(&b->tmr);
	htab_insert(&r->h, &b->hn, htab_hash(&r->h, token, REG_TOKEN_LEN));
	htab_insert(&r->aors, &b->an, b->aor);
	r->n++;
	r->npending++;
	arm(b, REG_PENDING_MS);
	return 0;
}

/*
 * Replace Contact c in the message being built with the formatted text
 * (kept in p->scratch at *usedp, which must outlive the build).
 */
/* The parser keeps a Contact's header parameters without their leading
 * ';' (";expires=300" is "expires=300"): put it back. */
static const char *reg_param_sep(const struct sip_nameaddr *c)
{
	return c->params.len && c->params.p[0] != ';' ? ";" : "";
}

static int __attribute__((format(printf, 5, 6)))
put_contact(struct proxy *p, struct sip_bld *b, const struct sip_nameaddr *c,
	    size_t *usedp, const char *fmt, ...)
{
	size_t room = sizeof(p->scratch) - *usedp;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(p->scratch + *usedp, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room)
		return -ENOSPC;
	sip_bld_replace_range(b, c->raw,
			      str_make(p->scratch + *usedp, (size_t)n));
	*usedp += (size_t)n;
	return 0;
}

int proxy__reg_request(struct proxy *p, struct sip_bld *b,
		       const struct sip_msg *m, const struct sip_peer *from,
		       const struct proxy_lis *egress)
{
	size_t used = 0;
	unsigned i;

	for (i = 0; i < m->ncontact; i++) {
		const struct sip_nameaddr *c = &m->contact[i];
		char token[REG_TOKEN_LEN + 1];
		int err;

		if (c->star)
			continue;
		err = reg_bind(p, m, c, from, token,
			       (unsigned)(egress - p->lis));
		if (!err)
			err = put_contact(p, b, c, &used,
					  "<sip:sg%s@%s;transport=%s>%s%.*s",
					  token, egress->hostport,
					  proxy__tp_param(egress->tp),
					  reg_param_sep(c), STR_FMT(c->params));
		if (err)
			return err;
	}
	return 0;
}

/* "sg<token>" user at one of our addresses: our rewritten Contact. */
static struct binding *ours(struct proxy *p, const struct sip_uri *u)
{
	char token[REG_TOKEN_LEN + 1];

	if (u->user.len != 2 + REG_TOKEN_LEN || u->user.p[0] != 's' ||
	    u->user.p[1] != 'g' || !proxy__uri_is_us(p, u))
		return NULL;
	memcpy(token, u->user.p + 2, REG_TOKEN_LEN);
	token[REG_TOKEN_LEN] = '\0';
	return find(p->reg, token);
}

int proxy__reg_response(struct proxy *p, struct sip_bld *b,
			const struct sip_msg *m)
{
	size_t used = 0;
	unsigned i;

	for (i = 0; i < m->ncontact; i++) {
		const struct sip_nameaddr *c = &m->contact[i];
		struct binding *bd = ours(p, &c->uri);
		int64_t exp;
		int err;

		if (!bd)
			continue;
		exp = c->has_expires    ? (int64_t)c->expires
		      : m->expires >= 0 ? m->expires
					: REG_DEFAULT_EXPIRES;
		/* The user's own Contact is copied into scratch, so the
		 * binding may go away below. */
		err = put_contact(p, b, c, &used, "<%.*s>%s%.*s",
				  (int)bd->contact_len, bd->contact,
				  reg_param_sep(c), STR_FMT(c->params));
		if (err)
			return err;
		if (exp == 0) {
			unpublish(bd);
			binding_free(bd);
		} else {
			arm(bd, (uint64_t)exp * 1000);
			bd->expires = loop_now(p->loop) + (uint64_t)exp * 1000;
		}
	}
	return 0;
}

bool proxy__reg_lookup(struct proxy *p, const struct sip_uri *ruri,
		       struct sip_peer *peerp, struct str *contactp)
{
	struct binding *b = ours(p, ruri);

	if (!b || !b->confirmed)
		return false;
	*peerp = b->peer;
	*contactp = str_make(b->contact, b->contact_len);
	return true;
}

/* ------------------------------------- registration guard (regguard.c) */

bool proxy__reg_view(struct proxy *p, const struct sip_msg *m,
		     const struct sip_nameaddr *c, struct proxy_reg_view *v)
{
	char token[REG_TOKEN_LEN + 1];
	struct binding *b;

	memset(v, 0, sizeof(*v));
	make_token(p, m, c, token);
	b = find(p->reg, token);
	if (!b)
		return false;
	v->confirmed = b->confirmed;
	v->peer = b->peer;
	v->ua = b->ua;
	v->refreshed_ms = b->refreshed;
	return true;
}

void proxy__reg_confirm(struct proxy *p, const struct sip_msg *m,
			const struct sip_nameaddr *c,
			const struct sip_peer *from, uint64_t ua, uint64_t now)
{
	char token[REG_TOKEN_LEN + 1];
	struct binding *b;

	make_token(p, m, c, token);
	b = find(p->reg, token);
	if (!b)
		return;
	/* A refresh from the same address need not reach the cluster
	 * while half of its lifetime is still shared (cluster.c). */
	bool same = b->confirmed && same_flow(&b->peer, from) &&
		    b->shared > now && b->expires > now &&
		    b->shared - now >= (b->expires - now) / 2;

	b->peer = *from;
	b->ua = ua;
	b->refreshed = now;
	if (!b->confirmed)
		p->reg->npending--;
	b->confirmed = true;
	if (same)
		return;
	b->shared = b->expires;
	if (b->expires > now)
		proxy__cl_binding_put(p, str_make(b->token, REG_TOKEN_LEN),
				      &b->peer, b->lis, m->to.uri.raw,
				      str_make(b->contact, b->contact_len),
				      b->expires - now);
}

void proxy__reg_publish_all(struct proxy *p)
{
	uint64_t now = loop_now(p->loop);
	struct htab_iter it;
	struct hnode *n;

	htab_iter_init(&it, &p->reg->h);
	while ((n = htab_iter_next(&it))) {
		struct binding *b = HTAB_ENTRY(n, struct binding, hn);

		if (!b->confirmed || b->expires <= now)
			continue;
		b->shared = b->expires;
		proxy__cl_binding_put(
			p, str_make(b->token, REG_TOKEN_LEN), &b->peer, b->lis,
			str_make(b->aor_text, b->aor_len),
			str_make(b->contact, b->contact_len), b->expires - now);
	}
}

static bool aor_eq(const struct hnode *n, const void *key)
{
	const struct binding *b = HTAB_ENTRY(n, struct binding, an);

	return b->aor == *(const uint64_t *)key;
}

unsigned proxy__reg_aor_count(struct proxy *p, const struct sip_msg *m)
{
	uint64_t k = aor_key(p, m);
	struct hnode *n = htab_find(&p->reg->aors, k, aor_eq, &k);
	unsigned cnt = 0;

	for (; n; n = htab_find_next(n, aor_eq, &k))
		if (HTAB_ENTRY(n, struct binding, an)->confirmed)
			cnt++;
	return cnt;
}

/* The registrar accepted the removal c of m (Expires 0, or "*"): a 2xx
 * need not list removed Contacts (RFC 3261 10.3: it lists the remaining
 * ones), so the binding goes now, here and in the cluster, rather than
 * at its timer (a call handed over meanwhile would reach nobody). */
void proxy__reg_drop(struct proxy *p, const struct sip_msg *m,
		     const struct sip_nameaddr *c)
{
	char token[REG_TOKEN_LEN + 1];
	struct binding *b;
	struct hnode *n, *next;
	uint64_t k;

	if (!c->star) {
		make_token(p, m, c, token);
		b = find(p->reg, token);
		if (b) {
			unpublish(b);
			binding_free(b);
		}
		return;
	}
	k = aor_key(p, m);
	for (n = htab_find(&p->reg->aors, k, aor_eq, &k); n; n = next) {
		next = htab_find_next(n, aor_eq, &k);
		b = HTAB_ENTRY(n, struct binding, an);
		unpublish(b);
		binding_free(b);
	}
}

bool proxy__reg_is_binding(struct proxy *p, const struct sip_uri *u)
{
	return ours(p, u) != NULL;
}
