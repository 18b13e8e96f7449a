/*
 * conn.c - the TCP connection table of a transport: creation under the
 * caps, lookup by id, by remote address and by alias (RFC 5923 reuse),
 * per-source counting, the connect/idle timer, and closing.
 *
 * Caps (admission control, STYLE.md 5): at most conf.max_conns
 * connections in all and conf.max_conns_per_ip accepted ones per source.
 * IPv4 sources are counted per address, IPv6 per /64, since one IPv6
 * host owns a whole /64 and could otherwise open a connection from each.
 *
 * Idle: each connection embeds one timer.  Traffic only records the
 * loop time in c->last; when the timer fires it closes the connection
 * if it was silent for idle_ms and otherwise re-arms for the remainder,
 * so a busy connection costs one timer move per idle period, not one
 * per packet.  While connecting, the same timer is the connect timeout.
 *
 * Closing never frees: tp__conn_close() makes the connection unreachable
 * (tables, fd, timer) and puts it on the dead list; the reaper, a
 * zero-delay timer, frees the dead list on the next loop turn and tells
 * the close callback.  So no connection is freed inside its own
 * callback, and a handler up the stack can still look at c->state.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "core/loop.h"
#include "core/mem.h"
#include "transport/tp_int.h"

/* Family, then port (when with_port), then address bytes. */
static size_t addr_key(const struct sg_addr *a, bool with_port, size_t v6_bytes,
		       uint8_t key[19])
{
	size_t n = 0;

	key[n++] = (uint8_t)a->u.sa.sa_family;
	if (with_port) {
		uint16_t port = sg_addr_port(a);

		key[n++] = (uint8_t)(port >> 8);
		key[n++] = (uint8_t)port;
	}
	if (a->u.sa.sa_family == AF_INET6) {
		memcpy(key + n, &a->u.in6.sin6_addr, v6_bytes);
		n += v6_bytes;
	} else {
		memcpy(key + n, &a->u.in.sin_addr, 4);
		n += 4;
	}
	return n;
}

static uint64_t addr_hash(const struct htab *h, const struct sg_addr *a)
{
	uint8_t key[19];

	return htab_hash(h, key, addr_key(a, true, 16, key));
}

static bool eq_id(const struct hnode *n, const void *key)
{
	return HTAB_ENTRY(n, const struct tp_conn, by_id)->id ==
	       *(const uint64_t *)key;
}

static bool eq_addr(const struct hnode *n, const void *key)
{
	return sg_addr_eq(&HTAB_ENTRY(n, const struct tp_conn, by_addr)->peer,
			  key);
}

static bool eq_alias(const struct hnode *n, const void *key)
{
	return sg_addr_eq(&HTAB_ENTRY(n, const struct tp_conn, by_alias)->alias,
			  key);
}

struct src_key {
	uint8_t b[19];
	size_t len;
};

static bool eq_src(const struct hnode *n, const void *key)
{
	const struct tp_src *s = HTAB_ENTRY(n, const struct tp_src, node);
	const struct src_key *k = key;

	return s->keylen == k->len && memcmp(s->key, k->b, k->len) == 0;
}

/* The per-source entry of a, created when `create`; NULL if none/OOM. */
static struct tp_src *src_get(struct transport *tp, const struct sg_addr *a,
			      bool create)
{
	struct src_key k;
	struct tp_src *s;
	struct hnode *n;
	uint64_t hv;

	k.len = addr_key(a, false, TP_SRC_V6_PREFIX, k.b);
	hv = htab_hash(&tp->by_src, k.b, k.len);
	n = htab_find(&tp->by_src, hv, eq_src, &k);
	if (n || !create)
		return n ? HTAB_ENTRY(n, struct tp_src, node) : NULL;
	s = mem_zalloc(sizeof(*s));
	if (!s)
		return NULL;
	memcpy(s->key, k.b, k.len);
	s->keylen = (uint8_t)k.len;
	htab_insert(&tp->by_src, &s->node, hv);
	return s;
}

static void src_put(struct transport *tp, struct tp_src *s)
{
	if (!s || --s->n > 0)
		return;
	htab_remove(&tp->by_src, &s->node);
	mem_free(s);
}

static void conn_free(struct tp_conn *c)
{
	tp__tls_free(c);
	mem_free(c->rx);
	tp__tx_wipe(c);
	mem_free(c->tx);
	mem_free(c);
}

void tp__tx_wipe(struct tp_conn *c)
{
	if (!c->tx_secret)
		return;
	mem_secclean(c->tx, c->tx_cap);
	c->tx_secret = false;
}

/* Zero-delay timer: free what closed since the last turn. */
static void reap(void *arg)
{
	struct transport *tp = arg;
	struct tp_conn *c, *next;
	struct sip_peer peer;

	c = tp->dead;
	tp->dead = NULL;
	for (; c; c = next) {
		next = c->next;
		if (tp->close_fn) {
			tp__conn_peer(c, &peer);
			tp->close_fn(tp->close_arg, &peer, c->why);
		}
		conn_free(c);
	}
}

int tp__conns_init(struct transport *tp)
{
	size_t nb = tp->conf.max_conns;
	int err;

	if (nb > HTAB_MAX_BUCKETS)
		nb = HTAB_MAX_BUCKETS;
	tmr_init(&tp->reaper);
	err = htab_init(&tp->by_id, nb);
	if (!err)
		err = htab_init(&tp->by_addr, nb);
	if (!err)
		err = htab_init(&tp->by_alias, nb);
	if (!err)
		err = htab_init(&tp->by_src, nb);
	return err;
}

/* Shutdown: close and free every connection without callbacks. */
void tp__conns_fini(struct transport *tp)
{
	struct tp_conn *c, *next;

	while (tp->live)
		tp__conn_close(tp->live, TP_CLOSE_LOCAL);
	tmr_cancel(&tp->reaper);
	for (c = tp->dead; c; c = next) {
		next = c->next;
		conn_free(c);
	}
	tp->dead = NULL;
	htab_fini(&tp->by_id);
	htab_fini(&tp->by_addr);
	htab_fini(&tp->by_alias);
	htab_fini(&tp->by_src);
	tp__tls_fini(tp);
}

int tp__conn_new(struct tp_conn **cp, struct transport *tp, int fd,
		 bool inbound, const struct sg_addr *peer, uint16_t local,
		 uint16_t zone)
{
	struct tp_src *src = NULL;
	struct tp_conn *c;

	if (tp->st.conns_open >= tp->conf.max_conns)
		return -EMFILE;
	if (inbound) {
		src = src_get(tp, peer, false);
		if (src && src->n >= tp->conf.max_conns_per_ip)
			return -EUSERS;
	}
	c = mem_zalloc(sizeof(*c));
	if (!c)
		return -ENOMEM;
	if (inbound && !src && !(src = src_get(tp, peer, true))) {
		mem_free(c);
		return -ENOMEM;
	}
	if (src)
		src->n++;
	c->src = src;
	c->tp = tp;
	c->id = ((uint64_t)tp->conf.shard << 48) | ++tp->next_id;
	c->fd = fd;
	c->inbound = inbound;
	c->state = inbound ? TP_CONN_OPEN : TP_CONN_CONNECTING;
	c->peer = *peer;
	c->local = local;
	c->zone = zone;
	c->last = loop_now(tp->loop);
	tmr_init(&c->tmr);
	htab_insert(&tp->by_id, &c->by_id,
		    htab_hash(&tp->by_id, &c->id, sizeof(c->id)));
	htab_insert(&tp->by_addr, &c->by_addr, addr_hash(&tp->by_addr, peer));
	c->next = tp->live;
	if (tp->live)
		tp->live->prev = c;
	tp->live = c;
	tp->st.conns_open++;
	*cp = c;
	return 0;
}

void tp__conn_close(struct tp_conn *c, enum tp_close_why why)
{
	struct transport *tp = c->tp;

	if (c->state == TP_CONN_CLOSED)
		return;
	if (c->ssl && why != TP_CLOSE_ERROR)
		tp__tls_close(c);
	c->state = TP_CONN_CLOSED;
	c->why = why;
	tp->st.closed[why]++;
	tp->st.conns_open--;
	if (c->events)
		loop_fd_del(tp->loop, c->fd);
	c->events = 0;
	close(c->fd);
	c->fd = -1;
	tmr_cancel(&c->tmr);
	htab_remove(&tp->by_id, &c->by_id);
	htab_remove(&tp->by_addr, &c->by_addr);
	if (c->has_alias)
		htab_remove(&tp->by_alias, &c->by_alias);
	c->has_alias = false;
	src_put(tp, c->src);
	c->src = NULL;
	if (c->prev)
		c->prev->next = c->next;
	else
		tp->live = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = NULL;
	c->next = tp->dead;
	tp->dead = c;
	if (!tmr_pending(&tp->reaper))
		tmr_start(loop_timers(tp->loop), &tp->reaper, 0, reap, tp);
}

struct tp_conn *tp__conn_by_id(const struct transport *tp, uint64_t id)
{
	struct hnode *n;

	if (!id)
		return NULL;
	n = htab_find(&tp->by_id, htab_hash(&tp->by_id, &id, sizeof(id)), eq_id,
		      &id);
	return n ? HTAB_ENTRY(n, struct tp_conn, by_id) : NULL;
}

/* A live connection to a, or aliased to a.  Open ones are preferred
 * over ones still connecting, so a failed reconnect attempt does not
 * hide a working connection. */
struct tp_conn *tp__conn_by_addr(const struct transport *tp,
				 const struct sg_addr *a, bool tls)
{
	struct tp_conn *best = NULL, *c;
	struct hnode *n;

	n = htab_find(&tp->by_addr, addr_hash(&tp->by_addr, a), eq_addr, a);
	for (; n; n = htab_find_next(n, eq_addr, a)) {
		c = HTAB_ENTRY(n, struct tp_conn, by_addr);
		if ((c->ssl != NULL) != tls)
			continue;
		if (c->state == TP_CONN_OPEN)
			return c;
		best = best ? best : c;
	}
	n = htab_find(&tp->by_alias, addr_hash(&tp->by_alias, a), eq_alias, a);
	for (; n; n = htab_find_next(n, eq_alias, a)) {
		c = HTAB_ENTRY(n, struct tp_conn, by_alias);
		if ((c->ssl != NULL) != tls)
			continue;
		if (c->state == TP_CONN_OPEN)
			return c;
		best = best ? best : c;
	}
	return best;
}

void tp__conn_set_alias(struct tp_conn *c, const struct sg_addr *a)
{
	struct transport *tp = c->tp;

	if (c->has_alias)
		htab_remove(&tp->by_alias, &c->by_alias);
	c->alias = *a;
	c->has_alias = true;
	htab_insert(&tp->by_alias, &c->by_alias, addr_hash(&tp->by_alias, a));
}

void tp__conn_touch(struct tp_conn *c)
{
	c->last = loop_now(c->tp->loop);
}

static void on_tmr(void *arg)
{
	struct tp_conn *c = arg;
	uint64_t now = loop_now(c->tp->loop), idle = c->tp->conf.idle_ms;

	if (c->state == TP_CONN_CONNECTING) {
		tp__conn_close(c, TP_CLOSE_CONNECT);
		return;
	}
	if (c->state == TP_CONN_HANDSHAKE) {
		c->tp->st.tls_failed++;
		tp__conn_close(c, TP_CLOSE_HANDSHAKE);
		return;
	}
	if (!idle)
		return;
	if (now - c->last >= idle) {
		tp__conn_close(c, TP_CLOSE_IDLE);
		return;
	}
	tmr_start(loop_timers(c->tp->loop), &c->tmr, idle - (now - c->last),
		  on_tmr, c);
}

void tp__conn_arm(struct tp_conn *c)
{
	struct transport *tp = c->tp;

	if (c->state == TP_CONN_CONNECTING)
		tmr_start(loop_timers(tp->loop), &c->tmr, tp->conf.connect_ms,
			  on_tmr, c);
	else if (c->state == TP_CONN_HANDSHAKE)
		tmr_start(loop_timers(tp->loop), &c->tmr,
			  tp__tls_handshake_ms(c), on_tmr, c);
	else if (tp->conf.idle_ms)
		tmr_start(loop_timers(tp->loop), &c->tmr, tp->conf.idle_ms,
			  on_tmr, c);
	else
		tmr_cancel(&c->tmr);
}

int tp__conn_watch(struct tp_conn *c, unsigned events)
{
	int err;

	if (c->state == TP_CONN_CLOSED || events == c->events)
		return 0;
	if (c->events)
		err = loop_fd_mod(c->tp->loop, c->fd, events);
	else
		err = loop_fd_add(c->tp->loop, c->fd, events, tp__tcp_on_event,
				  c);
	if (!err)
		c->events = events;
	return err;
}

void tp__conn_peer(const struct tp_conn *c, struct sip_peer *pp)
{
	memset(pp, 0, sizeof(*pp));
	pp->tp = c->ssl ? SIP_TP_TLS : SIP_TP_TCP;
	pp->addr = c->peer;
	pp->conn_id = c->id;
	pp->local = c->local;
	pp->zone = c->zone;
}
