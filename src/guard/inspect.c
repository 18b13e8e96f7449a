/*
 * inspect.c - the guard's post-parse checks: per-source rate limits by
 * method class, the per-target-user limit, scanner detection (fingerprint,
 * structure, behaviour) and overload protection.  See inspect.h for the
 * rules and why each one drops, answers or bans.  This file keeps their
 * state (tables, configuration, creation, reload); the rules themselves
 * are in inspect_rules.c.
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

#include "core/mem.h"
#include "guard/inspect_int.h"

enum { NIL = UINT32_MAX };

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
		[INSPECT_C_INVITE] = 20,  [INSPECT_C_REGISTER] = 30,
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
	c->user = (struct inspect_rate){100, 10000};
	c->fingerprints = true;
	c->structure = true;
	c->users_window_ms = 10000;
	c->users_grace_ms = 4000;
	c->users_max = 8;
	c->users_burst = 32;
	c->options_targets = (struct inspect_rate){6, 60000};
	c->fail = (struct inspect_rate){20, 60000};
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
	return true; /* htab already compared the full 64-bit hash */
}

struct insp_src *inspect__src_get(struct inspect *in, const struct sg_addr *a)
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

/* The slot of the target user hashed uh (inspect__user_hash()); recycles
 * the least recently used one when it is new and the table is full. */
struct insp_user *inspect__user_get(struct inspect *in, uint64_t uh)
{
	bool fresh;

	return (struct insp_user *)(void *)table_get(&in->user, uh, hash_eq,
						     NULL, &fresh);
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

int inspect_load_fingerprints(struct inspect *in, const char *path, char *err,
			      size_t errsz)
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
