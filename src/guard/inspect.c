/*
 * inspect.c - the guard's post-parse checks: per-source rate limits by
 * method class, the per-target-user limit, scanner detection (fingerprint,
 * structure, behaviour) and overload protection.  See inspect.h for the
 * rules and why each one drops, answers or bans.
 *
 * State lives in two fixed tables allocated at creation: sources (keyed
 * by struct guard_src: IPv4 address or IPv6 /64) and target users (keyed
 * by the keyed hash of the case-folded user).  Each table is an array of
 * slots indexed by an intrusive SipHash table and threaded on an LRU
 * list; a full table recycles its least recently used slot.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/htab.h"
#include "core/mem.h"
#include "guard/inspect.h"
#include "guard/window.h"

enum { NIL = UINT32_MAX };

/* Common head of a table entry. */
struct slot {
	struct hnode node;
	uint32_t prev, next;	/* LRU list: head = least recently used */
};

struct table {
	struct htab h;
	unsigned char *mem;
	size_t esize;
	uint32_t nslots, nused;
	uint32_t head, tail;
};

struct insp_src {
	struct slot s;
	struct guard_src key;
	uint8_t held_rule;
	uint64_t held_until;	/* > now: known scanner */
	struct win_ctr rate[INSPECT_C__COUNT];
	struct win_ctr fail, ok;
	struct win_bits tried, resolved;	/* scanner-users */
	struct win_bits opt;			/* scanner-options */
};

/* Keyed by the full 64-bit keyed hash alone: a false match needs a
 * SipHash collision under a key nobody outside the process knows. */
struct insp_user {
	struct slot s;
	struct win_ctr ctr;
};

struct inspect {
	struct inspect_conf conf;
	struct table src, user;
	struct inspect_fps fps;
	unsigned load;
	uint64_t hits[INSPECT_R__COUNT];
	inspect_rate_hook_fn *hook;	/* rate_share.c; NULL: none */
	void *hook_arg;
};

static const char *const rule_names[INSPECT_R__COUNT] = {
	[INSPECT_R_RATE_INVITE] = "rate-invite",
	[INSPECT_R_RATE_REGISTER] = "rate-register",
	[INSPECT_R_RATE_OPTIONS] = "rate-options",
	[INSPECT_R_RATE_SUBSCRIBE] = "rate-subscribe",
	[INSPECT_R_RATE_MESSAGE] = "rate-message",
	[INSPECT_R_RATE_OTHER] = "rate-other",
	[INSPECT_R_RATE_USER] = "rate-user",
	[INSPECT_R_SCANNER_UA] = "scanner-ua",
	[INSPECT_R_SCANNER_STRUCTURE] = "scanner-structure",
	[INSPECT_R_SCANNER_USERS] = "scanner-users",
	[INSPECT_R_SCANNER_OPTIONS] = "scanner-options",
	[INSPECT_R_SCANNER_FAILURES] = "scanner-failures",
	[INSPECT_R_SCANNER_HELD] = "scanner-held",
	[INSPECT_R_OVERLOAD] = "overload",
};

static const char *const rule_why[INSPECT_R__COUNT] = {
	[INSPECT_R_RATE_INVITE] = "INVITE rate of this source over limit",
	[INSPECT_R_RATE_REGISTER] = "REGISTER rate of this source over limit",
	[INSPECT_R_RATE_OPTIONS] = "OPTIONS rate of this source over limit",
	[INSPECT_R_RATE_SUBSCRIBE] =
		"SUBSCRIBE rate of this source over limit",
	[INSPECT_R_RATE_MESSAGE] = "MESSAGE rate of this source over limit",
	[INSPECT_R_RATE_OTHER] = "request rate of this source over limit",
	[INSPECT_R_RATE_USER] = "request rate to this user over limit",
	[INSPECT_R_SCANNER_UA] = "User-Agent of a known scanner",
	[INSPECT_R_SCANNER_STRUCTURE] = "message built like a known scanner's",
	[INSPECT_R_SCANNER_USERS] = "one source trying many users",
	[INSPECT_R_SCANNER_OPTIONS] = "OPTIONS sweep",
	[INSPECT_R_SCANNER_FAILURES] = "many failed requests (401/403/404)",
	[INSPECT_R_SCANNER_HELD] = "source found scanning earlier",
	[INSPECT_R_OVERLOAD] = "overloaded: new calls refused",
};

const char *inspect_rule_name(enum inspect_rule r)
{
	return (unsigned)r < INSPECT_R__COUNT ? rule_names[r] : "";
}

enum inspect_class inspect_class_of(enum sip_method m)
{
	switch (m) {
	case SIP_METHOD_INVITE:
		return INSPECT_C_INVITE;
	case SIP_METHOD_REGISTER:
		return INSPECT_C_REGISTER;
	case SIP_METHOD_OPTIONS:
		return INSPECT_C_OPTIONS;
	case SIP_METHOD_SUBSCRIBE:
		return INSPECT_C_SUBSCRIBE;
	case SIP_METHOD_MESSAGE:
		return INSPECT_C_MESSAGE;
	default:
		return INSPECT_C_OTHER;
	}
}

struct str inspect_target_user(const struct sip_msg *m)
{
	if (m->mid == SIP_METHOD_REGISTER || m->ruri.user.len == 0)
		return m->to.uri.user;
	return m->ruri.user;
}

void inspect_conf_default(struct inspect_conf *c)
{
	static const uint32_t rate_max[INSPECT_C__COUNT] = {
		[INSPECT_C_INVITE] = 20, [INSPECT_C_REGISTER] = 30,
		[INSPECT_C_OPTIONS] = 20, [INSPECT_C_SUBSCRIBE] = 100,
		[INSPECT_C_MESSAGE] = 20, [INSPECT_C_OTHER] = 100,
	};
	unsigned i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < INSPECT_C__COUNT; i++) {
		c->rate[i].max = rate_max[i];
		c->rate[i].window_ms = 1000;
	}
	c->rate_in_dialog = true;
	c->user = (struct inspect_rate){ 100, 10000 };
	c->fingerprints = true;
	c->structure = true;
	c->users_window_ms = 10000;
	c->users_grace_ms = 4000;
	c->users_max = 8;
	c->users_burst = 32;
	c->options_targets = (struct inspect_rate){ 6, 60000 };
	c->fail = (struct inspect_rate){ 20, 60000 };
	c->scanner_hold_ms = 600000;
	c->src_slots = 8192;
	c->user_slots = 4096;
	c->overload_invite_pct = 80;
	c->overload_all_pct = 95;
	c->overload_retry_after = 30;
}

/* ------------------------------------------------------------ tables */

static struct slot *slot_at(const struct table *t, uint32_t i)
{
	return (struct slot *)(void *)(t->mem + (size_t)i * t->esize);
}

static uint32_t slot_index(const struct table *t, const struct slot *s)
{
	return (uint32_t)(((const unsigned char *)s - t->mem) / t->esize);
}

static int table_init(struct table *t, uint32_t nslots, size_t esize)
{
	int r;

	memset(t, 0, sizeof(*t));
	t->mem = mem_zalloc((size_t)nslots * esize);
	if (!t->mem)
		return -ENOMEM;
	r = htab_init(&t->h, nslots);
	if (r < 0) {
		mem_free(t->mem);
		t->mem = NULL;
		return r;
	}
	t->esize = esize;
	t->nslots = nslots;
	t->head = t->tail = NIL;
	return 0;
}

static void table_fini(struct table *t)
{
	htab_fini(&t->h);
	mem_free(t->mem);
	t->mem = NULL;
}

static void lru_unlink(struct table *t, struct slot *s)
{
	if (s->prev != NIL)
		slot_at(t, s->prev)->next = s->next;
	else
		t->head = s->next;
	if (s->next != NIL)
		slot_at(t, s->next)->prev = s->prev;
	else
		t->tail = s->prev;
}

static void lru_append(struct table *t, struct slot *s)
{
	uint32_t i = slot_index(t, s);

	s->prev = t->tail;
	s->next = NIL;
	if (t->tail != NIL)
		slot_at(t, t->tail)->next = i;
	else
		t->head = i;
	t->tail = i;
}

/*
 * Find the entry with hash hv (eq decides among equal hashes) and make it
 * the most recently used; or take a free slot, or recycle the least
 * recently used one, zeroed.  *freshp says which.
 */
static struct slot *table_get(struct table *t, uint64_t hv, htab_eq_fn *eq,
			      const void *key, bool *freshp)
{
	struct hnode *n = htab_find(&t->h, hv, eq, key);
	struct slot *s;

	if (n) {
		s = HTAB_ENTRY(n, struct slot, node);
		lru_unlink(t, s);
		lru_append(t, s);
		*freshp = false;
		return s;
	}
	if (t->nused < t->nslots) {
		s = slot_at(t, t->nused++);
	} else {
		s = slot_at(t, t->head);
		lru_unlink(t, s);
		htab_remove(&t->h, &s->node);
		memset(s, 0, t->esize);
	}
	htab_insert(&t->h, &s->node, hv);
	lru_append(t, s);
	*freshp = true;
	return s;
}

static bool src_eq(const struct hnode *n, const void *key)
{
	const struct insp_src *e = HTAB_ENTRY(n, const struct insp_src, s.node);

	return guard_src_eq(&e->key, key);
}

static bool hash_eq(const struct hnode *n, const void *key)
{
	(void)n;
	(void)key;
	return true;	/* htab already compared the full 64-bit hash */
}

static struct insp_src *src_get(struct inspect *in, const struct sg_addr *a)
{
	struct guard_src key;
	struct insp_src *e;
	bool fresh;
	uint64_t hv;

	guard_src_from_addr(&key, a);
	hv = htab_hash(&in->src.h, &key, sizeof(key));
	e = (struct insp_src *)(void *)table_get(&in->src, hv, src_eq, &key,
						 &fresh);
	if (fresh)
		e->key = key;
	return e;
}

static uint64_t user_hash(const struct inspect *in, struct str user)
{
	return htab_hash_case(&in->user.h, user.p, user.len);
}

/* ------------------------------------------------------ create, free */

static int conf_check(const struct inspect_conf *c, char *err, size_t errsz)
{
	const char *bad = NULL;
	unsigned i;

#define WIN_OK(w) ((w) >= 1 && (w) <= INSPECT_MAX_WINDOW_MS)
	for (i = 0; i < INSPECT_C__COUNT; i++)
		if (!WIN_OK(c->rate[i].window_ms))
			bad = "rate window_ms";
	if (!WIN_OK(c->user.window_ms))
		bad = "user window_ms";
	if (!WIN_OK(c->users_window_ms))
		bad = "users_window_ms";
	else if (c->users_grace_ms >= c->users_window_ms)
		bad = "users_grace_ms (must be below users_window_ms)";
	if (!WIN_OK(c->options_targets.window_ms))
		bad = "options_targets window_ms";
	if (!WIN_OK(c->fail.window_ms))
		bad = "fail window_ms";
#undef WIN_OK
	if (c->src_slots < 1 || c->src_slots > INSPECT_MAX_SLOTS)
		bad = "src_slots";
	if (c->user_slots < 1 || c->user_slots > INSPECT_MAX_SLOTS)
		bad = "user_slots";
	if (c->overload_retry_after > INSPECT_RETRY_AFTER_MAX)
		bad = "overload_retry_after";
	if (!bad)
		return 0;
	if (err && errsz)
		snprintf(err, errsz, "inspect: bad %s", bad);
	return -EINVAL;
}

int inspect_new(struct inspect **inp, const struct inspect_conf *conf,
		char *err, size_t errsz)
{
	struct inspect *in;
	int r;

	if (!inp || !conf)
		return -EINVAL;
	r = conf_check(conf, err, errsz);
	if (r < 0)
		return r;
	in = mem_zalloc(sizeof(*in));
	if (!in)
		goto nomem;
	in->conf = *conf;
	inspect_fps_default(&in->fps);
	r = table_init(&in->src, conf->src_slots, sizeof(struct insp_src));
	if (r < 0)
		goto fail;
	r = table_init(&in->user, conf->user_slots, sizeof(struct insp_user));
	if (r < 0)
		goto fail;
	*inp = in;
	return 0;
fail:
	inspect_free(in);
	if (r != -ENOMEM) {
		if (err && errsz)
			snprintf(err, errsz, "inspect: table: %s",
				 strerror(-r));
		return r;
	}
nomem:
	if (err && errsz)
		snprintf(err, errsz, "inspect: out of memory");
	return -ENOMEM;
}

void inspect_free(struct inspect *in)
{
	if (!in)
		return;
	table_fini(&in->src);
	table_fini(&in->user);
	mem_free(in);
}

int inspect_load_fingerprints(struct inspect *in, const char *path,
			      char *err, size_t errsz)
{
	struct inspect_fps fps;
	unsigned line = 0;
	char *text;
	size_t n;
	FILE *f;
	int r;

	if (!in || !path)
		return -EINVAL;
	f = fopen(path, "rb");
	if (!f) {
		r = -errno;
		if (err && errsz)
			snprintf(err, errsz, "%s: %s", path, strerror(-r));
		return r;
	}
	/* One byte more than allowed, to see an over-long file. */
	text = mem_alloc(INSPECT_FP_FILE_MAX + 1);
	if (!text) {
		fclose(f);
		return -ENOMEM;
	}
	n = fread(text, 1, INSPECT_FP_FILE_MAX + 1, f);
	r = ferror(f) ? -EIO : 0;
	fclose(f);
	if (r == 0 && n > INSPECT_FP_FILE_MAX)
		r = -EFBIG;
	if (r == 0)
		r = inspect_fps_parse(&fps, str_make(text, n), &line);
	mem_free(text);
	if (r < 0) {
		if (err && errsz && r == -EINVAL)
			snprintf(err, errsz, "%s:%u: bad fingerprint entry",
				 path, line);
		else if (err && errsz)
			snprintf(err, errsz, "%s: %s", path, strerror(-r));
		return r;
	}
	in->fps = fps;
	return 0;
}

/* ---------------------------------------------------------- verdicts */

/* One request or answer being judged. */
struct judge {
	struct inspect *in;
	struct guard_verdict *v;
	struct insp_src *src;
	uint64_t now;
	bool have;		/* v already holds a monitored verdict */
	enum inspect_class cls;
	uint32_t rate_est;
	bool has_user;		/* uh is the target user's hash */
	uint64_t uh;
};

/*
 * Rule r fired: count it and write the verdict.  A monitored rule only
 * leaves its verdict (the first one) with monitor set and lets evaluation
 * go on; an enforcing one decides, and a banning one also holds the
 * source as a scanner.  Returns true when evaluation stops.
 */
static bool fire(struct judge *j, enum inspect_rule r, enum guard_action act,
		 bool ban, unsigned retry_after)
{
	struct inspect *in = j->in;
	struct guard_verdict *v = j->v;
	bool mon = (in->conf.monitor_mask >> r) & 1u;
	int n;

	in->hits[r]++;
	if (mon && j->have)
		return false;
	guard_verdict_pass(v);
	v->action = act;
	v->rule = rule_names[r];
	v->why = rule_why[r];
	v->ban = ban;
	v->monitor = mon;
	if (act == GUARD_REPLY) {
		v->status = 503;
		v->reason = sip_status_reason(503);
		n = snprintf(v->extra, sizeof(v->extra), "Retry-After: %u\r\n",
			     retry_after);
		v->extra_len = n > 0 ? (size_t)n : 0;
	}
	j->have = true;
	if (mon)
		return false;
	if (ban)
		j->src->held_until = j->now + in->conf.scanner_hold_ms;
	return true;
}

static bool has_credentials(const struct sip_msg *m)
{
	return sip_msg_hdr(m, SIP_HDR_AUTHORIZATION) ||
	       sip_msg_hdr(m, SIP_HDR_PROXY_AUTHORIZATION);
}

/* What an OPTIONS sweep varies: Request-URI host and port, listener. */
static uint64_t options_target_hash(const struct inspect *in,
				    const struct sip_msg *m,
				    const struct sip_peer *from)
{
	char buf[256 + 4];
	struct str host = m->ruri.host;
	size_t n = host.len < 256 ? host.len : 256, i;

	for (i = 0; i < n; i++)
		buf[i] = host.p[i] >= 'A' && host.p[i] <= 'Z'
				 ? (char)(host.p[i] - 'A' + 'a')
				 : host.p[i];
	buf[n++] = (char)(m->ruri.port >> 8);
	buf[n++] = (char)(m->ruri.port & 0xff);
	buf[n++] = (char)(from->local >> 8);
	buf[n++] = (char)(from->local & 0xff);
	return htab_hash(&in->src.h, buf, n);
}

static uint32_t user_count(struct inspect *in, uint64_t uh, uint64_t now)
{
	bool fresh;
	struct insp_user *u = (struct insp_user *)(void *)table_get(
		&in->user, uh, hash_eq, NULL, &fresh);

	return win_ctr_add(&u->ctr, now, in->conf.user.window_ms, 1);
}

/*
 * Update the source's counters before any decision: requests that end up
 * dropped still count (a flood stays over its limit).  The per-user
 * counter, shared by all sources, is fed later by limit_checks(), so
 * that traffic dropped as a scanner's does not use up a user's budget.
 */
static void count_request(struct judge *j, const struct sip_msg *m,
			  const struct sip_peer *from, bool in_dialog)
{
	struct inspect *in = j->in;
	const struct inspect_conf *c = &in->conf;
	struct insp_src *s = j->src;
	struct str user = inspect_target_user(m);
	uint64_t uh;

	j->cls = inspect_class_of(m->mid);
	if (c->rate[j->cls].max && (!in_dialog || c->rate_in_dialog))
		j->rate_est = win_ctr_add(&s->rate[j->cls], j->now,
					  c->rate[j->cls].window_ms, 1);
	if (in->hook && c->rate[j->cls].max &&
	    (!in_dialog || c->rate_in_dialog))
		in->hook(in->hook_arg, &s->key, (unsigned)j->cls, j->rate_est,
			 c->rate[j->cls].max, c->rate[j->cls].window_ms,
			 j->now);
	/* ACK and CANCEL ride on an INVITE already counted. */
	if (in_dialog || m->mid == SIP_METHOD_ACK ||
	    m->mid == SIP_METHOD_CANCEL)
		return;
	if (m->mid == SIP_METHOD_OPTIONS && c->options_targets.max)
		win_bits_set(&s->opt, j->now, c->options_targets.window_ms,
			     options_target_hash(in, m, from));
	if (user.len == 0)
		return;
	uh = user_hash(in, user);
	j->has_user = true;
	j->uh = uh;
	if (c->users_max || c->users_burst) {
		win_bits_set(&s->tried, j->now, c->users_window_ms, uh);
		if (has_credentials(m))
			win_bits_set(&s->resolved, j->now, c->users_window_ms,
				     uh);
	}
}

/* Unresolved distinct users (see scanner-users in inspect.h). */
static bool users_over(struct judge *j)
{
	const struct inspect_conf *c = &j->in->conf;
	struct insp_src *s = j->src;
	uint64_t un[WIN_BITS_WORDS];
	unsigned i;

	win_bits_rotate(&s->tried, j->now, c->users_window_ms);
	win_bits_rotate(&s->resolved, j->now, c->users_window_ms);
	if (c->users_burst) {
		for (i = 0; i < WIN_BITS_WORDS; i++)
			un[i] = s->tried.cur[i] &
				~(s->resolved.cur[i] | s->resolved.prev[i]);
		if (win_bits_estimate(win_bits_popcount(un)) > c->users_burst)
			return true;
	}
	/* Only once every user of the previous window had grace_ms to be
	 * resolved: bits of prev were all set before cur began. */
	if (c->users_max && j->now >= s->tried.start + c->users_grace_ms) {
		for (i = 0; i < WIN_BITS_WORDS; i++)
			un[i] = s->tried.prev[i] &
				~(s->resolved.cur[i] | s->resolved.prev[i]);
		if (win_bits_estimate(win_bits_popcount(un)) > c->users_max)
			return true;
	}
	return false;
}

static bool options_over(struct judge *j)
{
	const struct inspect_conf *c = &j->in->conf;
	struct win_bits *b = &j->src->opt;
	uint64_t u[WIN_BITS_WORDS];
	unsigned i;

	if (!c->options_targets.max)
		return false;
	win_bits_rotate(b, j->now, c->options_targets.window_ms);
	for (i = 0; i < WIN_BITS_WORDS; i++)
		u[i] = b->cur[i] | b->prev[i];
	return win_bits_estimate(win_bits_popcount(u)) > c->options_targets.max;
}

static bool ua_is_scanner(const struct inspect *in, const struct sip_msg *m)
{
	const struct sip_hdr *h;

	for (h = sip_msg_hdr(m, SIP_HDR_USER_AGENT); h; h = sip_hdr_next(m, h))
		if (inspect_fps_match(&in->fps, h->value) >= 0)
			return true;
	return false;
}

static bool scanner_checks(struct judge *j, const struct sip_msg *m,
			   bool in_dialog)
{
	const struct inspect_conf *c = &j->in->conf;

	if (c->fingerprints && ua_is_scanner(j->in, m) &&
	    fire(j, INSPECT_R_SCANNER_UA, GUARD_DROP, true, 0))
		return true;
	/* A request inside a dialog we know is no probe. */
	if (in_dialog)
		return false;
	if (c->structure &&
	    inspect_structure_score(m, NULL) >= INSPECT_STRUCT_THRESHOLD &&
	    fire(j, INSPECT_R_SCANNER_STRUCTURE, GUARD_DROP, true, 0))
		return true;
	if ((c->users_max || c->users_burst) && users_over(j) &&
	    fire(j, INSPECT_R_SCANNER_USERS, GUARD_DROP, true, 0))
		return true;
	if (m->mid == SIP_METHOD_OPTIONS && options_over(j) &&
	    fire(j, INSPECT_R_SCANNER_OPTIONS, GUARD_DROP, true, 0))
		return true;
	return false;
}

static unsigned window_secs(uint32_t ms)
{
	return (ms + 999) / 1000;
}

static bool limit_checks(struct judge *j, const struct sip_msg *m)
{
	const struct inspect_conf *c = &j->in->conf;
	const struct inspect_rate *rt = &c->rate[j->cls];

	if (rt->max && j->rate_est > rt->max) {
		bool reply = c->rate_reply_503 && m->mid != SIP_METHOD_ACK;

		if (fire(j, (enum inspect_rule)(INSPECT_R_RATE_INVITE + j->cls),
			 reply ? GUARD_REPLY : GUARD_DROP, false,
			 window_secs(rt->window_ms)))
			return true;
	}
	return c->user.max && j->has_user &&
	       user_count(j->in, j->uh, j->now) > c->user.max &&
	       fire(j, INSPECT_R_RATE_USER, GUARD_DROP, false, 0);
}

static bool level_on(unsigned pct, unsigned load)
{
	return pct > 0 && pct <= 100 && load >= pct;
}

static void overload_check(struct judge *j, const struct sip_msg *m)
{
	const struct inspect_conf *c = &j->in->conf;
	unsigned load = j->in->load;

	if (m->mid == SIP_METHOD_ACK || m->mid == SIP_METHOD_CANCEL)
		return;
	if (level_on(c->overload_all_pct, load) ||
	    (m->mid == SIP_METHOD_INVITE &&
	     level_on(c->overload_invite_pct, load)))
		fire(j, INSPECT_R_OVERLOAD, GUARD_REPLY, false,
		     c->overload_retry_after);
}

int inspect_request(struct inspect *in, const struct sip_msg *m,
		    const struct sip_peer *from, bool trusted_zone,
		    bool in_dialog, uint64_t now_ms, struct guard_verdict *v)
{
	struct judge j;

	if (v)
		guard_verdict_pass(v);
	if (!in || !m || !from || !v || !m->is_request)
		return -EINVAL;
	if (trusted_zone && !in->conf.limit_trusted)
		return 0;
	memset(&j, 0, sizeof(j));
	j.in = in;
	j.v = v;
	j.now = now_ms;
	j.src = src_get(in, &from->addr);
	if (j.src->held_until > now_ms &&
	    fire(&j, INSPECT_R_SCANNER_HELD, GUARD_DROP, true, 0))
		return 0;
	count_request(&j, m, from, in_dialog);
	if (scanner_checks(&j, m, in_dialog) || limit_checks(&j, m))
		return 0;
	if (!trusted_zone && !in_dialog)
		overload_check(&j, m);
	return 0;
}

static bool is_failure(int status)
{
	return status == 401 || status == 403 || status == 404 ||
	       status == 407 || status == 484;
}

void inspect_response(struct inspect *in, const struct sg_addr *requester,
		      enum sip_method m, struct str target_user, int status,
		      uint64_t now_ms, struct guard_verdict *v)
{
	const struct inspect_conf *c;
	struct judge j;
	uint32_t f, ok;

	if (v)
		guard_verdict_pass(v);
	if (!in || !requester || !v || status < 200 || status > 699)
		return;
	c = &in->conf;
	memset(&j, 0, sizeof(j));
	j.in = in;
	j.v = v;
	j.now = now_ms;
	j.src = src_get(in, requester);
	if (j.src->held_until > now_ms) {
		fire(&j, INSPECT_R_SCANNER_HELD, GUARD_DROP, true, 0);
		return;
	}
	if (!is_failure(status)) {
		if (target_user.len && (c->users_max || c->users_burst))
			win_bits_set(&j.src->resolved, now_ms,
				     c->users_window_ms,
				     user_hash(in, target_user));
		/* OPTIONS answers are free to get: no credit for them. */
		if (c->fail.max && status < 300 && m != SIP_METHOD_OPTIONS)
			win_ctr_add(&j.src->ok, now_ms, c->fail.window_ms, 1);
		return;
	}
	if (!c->fail.max)
		return;
	f = win_ctr_add(&j.src->fail, now_ms, c->fail.window_ms, 1);
	ok = win_ctr_read(&j.src->ok, now_ms, c->fail.window_ms);
	if (f > ok && f - ok > c->fail.max)
		fire(&j, INSPECT_R_SCANNER_FAILURES, GUARD_DROP, true, 0);
}

bool inspect_release(struct inspect *in, const struct guard_src *src,
		     uint64_t now_ms)
{
	struct hnode *n;
	struct insp_src *e;
	bool held;

	if (!in || !src)
		return false;
	n = htab_find(&in->src.h, htab_hash(&in->src.h, src, sizeof(*src)),
		      src_eq, src);
	if (!n)
		return false;
	e = HTAB_ENTRY(n, struct insp_src, s.node);
	held = e->held_until > now_ms;
	e->held_until = 0;
	return held;
}

void inspect_set_load(struct inspect *in, unsigned percent)
{
	if (in)
		in->load = percent > 100 ? 100 : percent;
}

uint64_t inspect_hits(const struct inspect *in, enum inspect_rule r)
{
	return in && (unsigned)r < INSPECT_R__COUNT ? in->hits[r] : 0;
}

size_t inspect_src_count(const struct inspect *in)
{
	return in ? in->src.nused : 0;
}

size_t inspect_user_count(const struct inspect *in)
{
	return in ? in->user.nused : 0;
}

/* Reload: new thresholds, same tables (their sizes and the monitor mask,
 * which the guard owns, stay). */
int inspect_reconf(struct inspect *in, const struct inspect_conf *conf,
		   char *err, size_t errsz)
{
	struct inspect_conf c;
	int r;

	if (!in || !conf)
		return -EINVAL;
	c = *conf;
	c.src_slots = in->conf.src_slots;
	c.user_slots = in->conf.user_slots;
	c.monitor_mask = in->conf.monitor_mask;
	r = conf_check(&c, err, errsz);
	if (r < 0)
		return r;
	in->conf = c;
	return 0;
}

void inspect_set_rate_hook(struct inspect *in, inspect_rate_hook_fn *fn,
			   void *arg)
{
	in->hook = fn;
	in->hook_arg = arg;
}
