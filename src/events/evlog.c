/*
 * evlog.c - the security event log: one JSON line per event (schema in
 * docs/events.md), with repeats aggregated per key and window and a hard
 * cap on lines per second, so that an attacker who triggers events at
 * line rate cannot fill the disk or drown the interesting lines.
 *
 * Aggregation table: a fixed array of slots, chained by hash (SipHash of
 * the key under a random seed: source addresses are attacker-chosen) and
 * linked in window order, oldest first.  All windows have the same
 * length, so the oldest slot is always the next to close and flushing
 * costs only the slots that are due.  A full table recycles the oldest
 * slot after writing its repeat line.
 *
 * Lines go out with one write(2) each on an O_APPEND descriptor (or to a
 * sink function), so a line is never split or interleaved.
 */
#include "events/events.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/mem.h"
#include "core/siphash.h"

enum {
	EVLOG_RATE_MS = 1000,
	EVLOG_PATH_MAX = 4096,
};

#define NIL UINT32_MAX

struct ev_slot {
	uint64_t hash;
	uint64_t win_end;      /* monotonic ms the window closes */
	uint64_t last_wall;    /* wall clock of the last counted event */
	uint64_t count;        /* events counted since the last line */
	uint32_t next;         /* hash chain */
	uint32_t older, newer; /* window order */
	bool used;
	/* key */
	const char *type, *event, *rule;
	struct sg_addr src;
	uint8_t src_plen;
	/* attributes of the last counted event, for its repeat line */
	const char *transport, *action;
	int status;
	uint8_t zone_len, method_len, user_len, reason_len;
	char zone[EVLOG_ZONE_MAX];
	char method[EVLOG_METHOD_MAX];
	char user[EVLOG_USER_MAX];
	char reason[EVLOG_REASON_MAX];
};

struct evlog {
	int fd;
	bool own_fd;
	char *path;
	evlog_write_fn *write;
	void *write_arg;
	evlog_write_fn *tap; /* a copy of each line (HEP export) */
	void *tap_arg;
	evlog_write_fn *tap2; /* another copy (operations: live feed) */
	void *tap2_arg;
	evlog_watch_fn *watch; /* every event, before aggregation */
	void *watch_arg;
	uint32_t window_ms, lines_per_s;
	uint32_t nslots, nbuckets; /* nbuckets: power of two */
	struct ev_slot *slot;
	uint32_t *bucket;
	uint32_t free_head; /* free slots, chained by next */
	uint32_t oldest, newest;
	/* rate cap */
	uint64_t rate_start;
	uint32_t rate_lines;
	uint64_t sup_lines, sup_events, sup_wall;
	uint8_t key[SIPHASH_KEY_LEN];
	struct evlog_stats st;
	char line[EVLOG_LINE_MAX];
};

/* The printable form of one event, from an ev or from a slot. */
struct ev_view {
	const char *type, *event, *rule, *action, *transport;
	struct str zone, method, user, reason;
	const struct sg_addr *src;
	uint8_t src_plen;
	int status;
};

static struct str cut(struct str s, size_t max)
{
	if (!s.p)
		return STR_NULL;
	if (s.len > max)
		s.len = max;
	return s;
}

static struct str cut_cstr(const char *s, size_t max)
{
	return s ? cut(str_cstr(s), max) : STR_NULL;
}

/* ------------------------------------------------------------ formatting */

static int put_name(struct buf *b, const char *key, struct str v)
{
	int err = buf_append_cstr(b, key);

	if (err)
		return err;
	if (!v.p || !v.len)
		return buf_append_cstr(b, "null");
	return json_str(b, v);
}

static int put_src(struct buf *b, const struct ev_view *v)
{
	char ip[SG_ADDR_STRLEN];
	uint16_t port;
	int err;

	if (!v->src || !v->src->len)
		return buf_append_cstr(b, ",\"src\":null,\"src_port\":null");
	sg_addr_ip(v->src, ip, sizeof(ip));
	if (v->src_plen)
		err = buf_printf(b, ",\"src\":\"%s/%u\"", ip,
				 (unsigned)v->src_plen);
	else
		err = buf_printf(b, ",\"src\":\"%s\"", ip);
	port = sg_addr_port(v->src);
	if (!err && (!port || v->src_plen))
		err = buf_append_cstr(b, ",\"src_port\":null");
	else if (!err)
		err = buf_printf(b, ",\"src_port\":%u", (unsigned)port);
	return err;
}

/*
 * Append one line for v: count events, repeat marks a summary line,
 * lines > 0 adds the "lines" field of a suppressed line.
 */
static int fmt_view(struct buf *b, const struct ev_view *v, uint64_t wall,
		    uint64_t count, bool repeat, uint64_t lines)
{
	char ts[JSON_TIME_SIZE];
	size_t len0 = b->len;
	int err;

	err = buf_printf(b, "{\"ts\":\"%s\"", json_time(ts, sizeof(ts), wall));
	if (!err)
		err = put_name(b,
			       ",\"type\":", cut_cstr(v->type, EVLOG_NAME_MAX));
	if (!err)
		err = put_name(
			b, ",\"event\":", cut_cstr(v->event, EVLOG_NAME_MAX));
	if (!err)
		err = put_name(b, ",\"zone\":", v->zone);
	if (!err)
		err = put_src(b, v);
	if (!err)
		err = put_name(b, ",\"transport\":",
			       cut_cstr(v->transport, EVLOG_NAME_MAX));
	if (!err)
		err = put_name(b, ",\"method\":", v->method);
	if (!err)
		err = put_name(b, ",\"user\":", v->user);
	if (!err)
		err = put_name(b,
			       ",\"rule\":", cut_cstr(v->rule, EVLOG_NAME_MAX));
	if (!err)
		err = put_name(
			b, ",\"action\":", cut_cstr(v->action, EVLOG_NAME_MAX));
	if (!err)
		err = put_name(b, ",\"reason\":", v->reason);
	if (!err && v->status > 0)
		err = buf_printf(b, ",\"status\":%d", v->status);
	else if (!err)
		err = buf_append_cstr(b, ",\"status\":null");
	if (!err)
		err = buf_printf(b, ",\"count\":%llu,\"repeat\":%s",
				 (unsigned long long)count,
				 repeat ? "true" : "false");
	if (!err && lines)
		err = buf_printf(b, ",\"lines\":%llu",
				 (unsigned long long)lines);
	if (!err)
		err = buf_append_cstr(b, "}\n");
	if (err)
		b->len = len0;
	return err;
}

static void view_of_ev(struct ev_view *v, const struct ev *ev)
{
	v->type = ev->type;
	v->event = ev->event;
	v->rule = ev->rule;
	v->action = ev->action;
	v->transport = ev->transport;
	v->zone = cut_cstr(ev->zone, EVLOG_ZONE_MAX);
	v->method = cut(ev->method, EVLOG_METHOD_MAX);
	v->user = cut(ev->user, EVLOG_USER_MAX);
	v->reason = cut(ev->reason, EVLOG_REASON_MAX);
	v->src = &ev->src;
	v->src_plen = ev->src_plen;
	v->status = ev->status;
}

static void view_of_slot(struct ev_view *v, const struct ev_slot *s)
{
	v->type = s->type;
	v->event = s->event;
	v->rule = s->rule;
	v->action = s->action;
	v->transport = s->transport;
	v->zone = str_make(s->zone, s->zone_len);
	v->method = str_make(s->method, s->method_len);
	v->user = str_make(s->user, s->user_len);
	v->reason = str_make(s->reason, s->reason_len);
	v->src = &s->src;
	v->src_plen = s->src_plen;
	v->status = s->status;
}

int evlog_format(struct buf *out, const struct ev *ev, uint64_t wall_ms)
{
	struct ev_view v;

	if (!out || !ev || !ev->type || !ev->event)
		return -EINVAL;
	view_of_ev(&v, ev);
	return fmt_view(out, &v, wall_ms, 1, false, 0);
}

/* --------------------------------------------------------------- output */

static int out_line(struct evlog *e, const struct buf *b)
{
	ssize_t n;

	if (e->tap)
		e->tap(e->tap_arg, b->p, b->len);
	if (e->tap2)
		e->tap2(e->tap2_arg, b->p, b->len);
	if (e->write) {
		e->write(e->write_arg, b->p, b->len);
		e->st.lines++;
		return 0;
	}
	do
		n = write(e->fd, b->p, b->len);
	while (n < 0 && errno == EINTR);
	if (n < 0 || (size_t)n != b->len) {
		e->st.errors++;
		return n < 0 ? -errno : -EIO;
	}
	e->st.lines++;
	return 0;
}

static int write_view(struct evlog *e, const struct ev_view *v, uint64_t wall,
		      uint64_t count, bool repeat, uint64_t lines)
{
	struct buf b;
	int err;

	buf_init_fixed(&b, e->line, sizeof(e->line));
	err = fmt_view(&b, v, wall, count, repeat, lines);
	if (err) {
		e->st.errors++;
		return err;
	}
	return out_line(e, &b);
}

/* The summary of lines the rate cap dropped; exempt from the cap. */
static int write_suppressed(struct evlog *e)
{
	struct ev_view v = {
		.type = "suppressed",
		.event = "log-rate-limit",
	};
	int err;

	if (!e->sup_lines)
		return 0;
	err = write_view(e, &v, e->sup_wall, e->sup_events, true, e->sup_lines);
	e->sup_lines = 0;
	e->sup_events = 0;
	return err ? err : 1;
}

/* Start a new rate window when the current one is over. */
static int rate_roll(struct evlog *e, uint64_t now)
{
	if (now - e->rate_start < EVLOG_RATE_MS && now >= e->rate_start)
		return 0;
	e->rate_start = now;
	e->rate_lines = 0;
	return write_suppressed(e);
}

/*
 * Write v unless the rate cap is reached; then count it as suppressed.
 * Returns 1 when written, 0 when suppressed, or -errno.
 */
static int emit_line(struct evlog *e, const struct ev_view *v, uint64_t now,
		     uint64_t wall, uint64_t count, bool repeat)
{
	int err;

	rate_roll(e, now);
	if (e->rate_lines >= e->lines_per_s) {
		e->st.suppressed++;
		e->sup_lines++;
		e->sup_events += count;
		e->sup_wall = wall;
		return 0;
	}
	e->rate_lines++;
	err = write_view(e, v, wall, count, repeat, 0);
	return err ? err : 1;
}

/* ---------------------------------------------------- aggregation table */

static bool str_same(const char *a, const char *b)
{
	if (a == b)
		return true;
	return a && b && strcmp(a, b) == 0;
}

static size_t key_put(uint8_t *k, size_t off, size_t cap, const char *s)
{
	size_t n = s ? strnlen(s, EVLOG_NAME_MAX) : 0;

	if (n > cap - off - 1)
		n = cap - off - 1;
	memcpy(k + off, s ? s : "", n);
	k[off + n] = 0;
	return off + n + 1;
}

static uint64_t key_hash(const struct evlog *e, const struct ev *ev)
{
	uint8_t k[3 * (EVLOG_NAME_MAX + 1) + 16 + 2];
	size_t off = 0;

	off = key_put(k, off, sizeof(k), ev->type);
	off = key_put(k, off, sizeof(k), ev->event);
	off = key_put(k, off, sizeof(k), ev->rule);
	k[off++] = ev->src_plen;
	if (ev->src.len && sg_addr_family(&ev->src) == AF_INET6) {
		memcpy(k + off, &ev->src.u.in6.sin6_addr, 16);
		off += 16;
	} else if (ev->src.len) {
		memcpy(k + off, &ev->src.u.in.sin_addr, 4);
		off += 4;
	}
	return siphash24(k, off, e->key);
}

static bool key_eq(const struct ev_slot *s, uint64_t h, const struct ev *ev)
{
	if (s->hash != h || s->src_plen != ev->src_plen)
		return false;
	if (!str_same(s->type, ev->type) || !str_same(s->event, ev->event) ||
	    !str_same(s->rule, ev->rule))
		return false;
	if (!s->src.len || !ev->src.len)
		return s->src.len == ev->src.len;
	return sg_addr_ip_eq(&s->src, &ev->src);
}

static uint32_t *chain_of(struct evlog *e, uint64_t h)
{
	return &e->bucket[h & (e->nbuckets - 1)];
}

static uint32_t slot_find(struct evlog *e, uint64_t h, const struct ev *ev)
{
	uint32_t i;

	for (i = *chain_of(e, h); i != NIL; i = e->slot[i].next)
		if (key_eq(&e->slot[i], h, ev))
			return i;
	return NIL;
}

static void age_unlink(struct evlog *e, uint32_t i)
{
	struct ev_slot *s = &e->slot[i];

	if (s->older != NIL)
		e->slot[s->older].newer = s->newer;
	else
		e->oldest = s->newer;
	if (s->newer != NIL)
		e->slot[s->newer].older = s->older;
	else
		e->newest = s->older;
	s->older = s->newer = NIL;
}

static void age_append(struct evlog *e, uint32_t i)
{
	struct ev_slot *s = &e->slot[i];

	s->older = e->newest;
	s->newer = NIL;
	if (e->newest != NIL)
		e->slot[e->newest].newer = i;
	else
		e->oldest = i;
	e->newest = i;
}

static void slot_remove(struct evlog *e, uint32_t i)
{
	struct ev_slot *s = &e->slot[i];
	uint32_t *pp = chain_of(e, s->hash);

	while (*pp != i)
		pp = &e->slot[*pp].next;
	*pp = s->next;
	age_unlink(e, i);
	s->used = false;
	s->next = e->free_head;
	e->free_head = i;
}

/* Write the repeat line of slot i, if it counted anything. */
static int slot_report(struct evlog *e, uint32_t i, uint64_t now)
{
	struct ev_slot *s = &e->slot[i];
	struct ev_view v;
	uint64_t n = s->count;

	if (!n)
		return 0;
	s->count = 0;
	view_of_slot(&v, s);
	return emit_line(e, &v, now, s->last_wall, n, true);
}

/*
 * Close the window of slot i: a slot that counted repeats reports them
 * and starts a new window (the flood goes on); an idle one is freed.
 * Returns true when the slot stays.
 */
static bool slot_close(struct evlog *e, uint32_t i, uint64_t now,
		       unsigned *linesp)
{
	struct ev_slot *s = &e->slot[i];

	if (!s->count) {
		slot_remove(e, i);
		return false;
	}
	if (slot_report(e, i, now) > 0)
		(*linesp)++;
	s->win_end = now + e->window_ms;
	age_unlink(e, i);
	age_append(e, i);
	return true;
}

static void copy_attr(char *dst, uint8_t *lenp, struct str s, size_t max)
{
	s = cut(s, max);
	if (s.len)
		memcpy(dst, s.p, s.len);
	*lenp = (uint8_t)s.len;
}

/* Keep the attributes of the latest event for the repeat line. */
static void slot_attrs(struct ev_slot *s, const struct ev *ev, uint64_t wall)
{
	s->last_wall = wall;
	s->transport = ev->transport;
	s->action = ev->action;
	s->status = ev->status;
	s->src = ev->src;
	copy_attr(s->zone, &s->zone_len, cut_cstr(ev->zone, EVLOG_ZONE_MAX),
		  EVLOG_ZONE_MAX);
	copy_attr(s->method, &s->method_len, ev->method, EVLOG_METHOD_MAX);
	copy_attr(s->user, &s->user_len, ev->user, EVLOG_USER_MAX);
	copy_attr(s->reason, &s->reason_len, ev->reason, EVLOG_REASON_MAX);
}

/* A free slot; a full table first reports and frees the oldest. */
static uint32_t slot_take(struct evlog *e, uint64_t now)
{
	uint32_t i;

	if (e->free_head == NIL) {
		i = e->oldest;
		slot_report(e, i, now);
		slot_remove(e, i);
		e->st.evicted++;
	}
	i = e->free_head;
	e->free_head = e->slot[i].next;
	return i;
}

static void slot_insert(struct evlog *e, const struct ev *ev, uint64_t h,
			uint64_t now, uint64_t wall)
{
	uint32_t i = slot_take(e, now), *head = chain_of(e, h);
	struct ev_slot *s = &e->slot[i];

	s->used = true;
	s->hash = h;
	s->type = ev->type;
	s->event = ev->event;
	s->rule = ev->rule;
	s->src_plen = ev->src_plen;
	s->count = 0;
	s->win_end = now + e->window_ms;
	slot_attrs(s, ev, wall);
	s->next = *head;
	*head = i;
	age_append(e, i);
}

/* ------------------------------------------------------------ interface */

int evlog_emit(struct evlog *e, const struct ev *ev, uint64_t now_ms,
	       uint64_t wall_ms)
{
	struct ev_view v;
	unsigned lines = 0;
	uint64_t h;
	uint32_t i;
	int rc;

	if (!e || !ev || !ev->type || !ev->event)
		return -EINVAL;
	e->st.events++;
	if (e->watch)
		e->watch(e->watch_arg, ev);
	h = key_hash(e, ev);
	i = slot_find(e, h, ev);
	/* A late flush timer must not stretch a window. */
	if (i != NIL && now_ms >= e->slot[i].win_end &&
	    !slot_close(e, i, now_ms, &lines))
		i = NIL;
	if (i != NIL) {
		e->slot[i].count++;
		e->st.aggregated++;
		slot_attrs(&e->slot[i], ev, wall_ms);
		return 0;
	}
	slot_insert(e, ev, h, now_ms, wall_ms);
	view_of_ev(&v, ev);
	rc = emit_line(e, &v, now_ms, wall_ms, 1, false);
	return rc < 0 ? rc : 0;
}

unsigned evlog_flush(struct evlog *e, uint64_t now_ms)
{
	unsigned lines = 0;
	uint32_t i;

	if (!e)
		return 0;
	if (rate_roll(e, now_ms) > 0)
		lines++;
	while ((i = e->oldest) != NIL && e->slot[i].win_end <= now_ms) {
		/* A restarted window goes to the tail; stop at the first
		 * slot that is not due, the rest are younger. */
		slot_close(e, i, now_ms, &lines);
	}
	return lines;
}

void evlog_stats(const struct evlog *e, struct evlog_stats *sp)
{
	if (!sp)
		return;
	if (!e) {
		memset(sp, 0, sizeof(*sp));
		return;
	}
	*sp = e->st;
}

static int open_path(const char *path, int *fdp, bool *ownp)
{
	int fd;

	if (strcmp(path, "-") == 0) {
		*fdp = STDERR_FILENO;
		*ownp = false;
		return 0;
	}
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	*fdp = fd;
	*ownp = true;
	return 0;
}

static uint32_t pow2_at_least(uint32_t n)
{
	uint32_t p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

static int evlog_init(struct evlog *e, const struct evlog_conf *c)
{
	uint32_t i;

	e->window_ms = c && c->window_ms ? c->window_ms : EVLOG_WINDOW_MS;
	e->nslots = c && c->slots ? c->slots : EVLOG_SLOTS;
	e->lines_per_s =
		c && c->lines_per_s ? c->lines_per_s : EVLOG_LINES_PER_S;
	e->write = c ? c->write : NULL;
	e->write_arg = c ? c->write_arg : NULL;
	if (e->nslots > EVLOG_MAX_SLOTS)
		return -EINVAL;
	e->nbuckets = pow2_at_least(e->nslots * 2);
	e->slot = mem_zalloc(sizeof(*e->slot) * e->nslots);
	e->bucket = mem_alloc(sizeof(*e->bucket) * e->nbuckets);
	if (!e->slot || !e->bucket)
		return -ENOMEM;
	for (i = 0; i < e->nbuckets; i++)
		e->bucket[i] = NIL;
	for (i = 0; i < e->nslots; i++) {
		e->slot[i].next = i + 1 < e->nslots ? i + 1 : NIL;
		e->slot[i].older = e->slot[i].newer = NIL;
	}
	e->free_head = 0;
	e->oldest = e->newest = NIL;
	e->fd = -1;
	/* Not fatal without entropy: the seed only spreads the chains. */
	if (getrandom(e->key, sizeof(e->key), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(e->key))
		memset(e->key, 0x5a, sizeof(e->key));
	return 0;
}

int evlog_open(struct evlog **ep, const char *path,
	       const struct evlog_conf *conf)
{
	struct evlog *e;
	int err;

	if (!ep || (!(conf && conf->write) && (!path || !*path)))
		return -EINVAL;
	if (path && strnlen(path, EVLOG_PATH_MAX) >= EVLOG_PATH_MAX)
		return -EINVAL;
	e = mem_zalloc(sizeof(*e));
	if (!e)
		return -ENOMEM;
	err = evlog_init(e, conf);
	if (!err && !e->write) {
		size_t n = strlen(path) + 1;

		e->path = mem_alloc(n);
		if (!e->path)
			err = -ENOMEM;
		else
			memcpy(e->path, path, n);
	}
	if (!err && !e->write)
		err = open_path(path, &e->fd, &e->own_fd);
	if (err) {
		evlog_close(e);
		return err;
	}
	*ep = e;
	return 0;
}

void evlog_set_tap(struct evlog *e, evlog_write_fn *fn, void *arg)
{
	if (!e)
		return;
	e->tap = fn;
	e->tap_arg = arg;
}

void evlog_set_tap2(struct evlog *e, evlog_write_fn *fn, void *arg)
{
	if (!e)
		return;
	e->tap2 = fn;
	e->tap2_arg = arg;
}

void evlog_set_watch(struct evlog *e, evlog_watch_fn *fn, void *arg)
{
	if (!e)
		return;
	e->watch = fn;
	e->watch_arg = arg;
}

int evlog_reopen(struct evlog *e)
{
	bool own = false;
	int fd = -1, err;

	if (!e)
		return -EINVAL;
	if (e->write || !e->own_fd)
		return 0;
	err = open_path(e->path, &fd, &own);
	if (err)
		return err;
	close(e->fd);
	e->fd = fd;
	return 0;
}

void evlog_close(struct evlog *e)
{
	uint32_t i;

	if (!e)
		return;
	/* Shutdown is no flood: every pending count gets its line. */
	if (e->slot && e->bucket) {
		e->lines_per_s = UINT32_MAX;
		while ((i = e->oldest) != NIL) {
			slot_report(e, i, e->rate_start);
			slot_remove(e, i);
		}
		write_suppressed(e);
	}
	if (e->own_fd && e->fd >= 0)
		close(e->fd);
	mem_free(e->path);
	mem_free(e->slot);
	mem_free(e->bucket);
	mem_free(e);
}
