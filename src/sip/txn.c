/*
 * txn.c - the transaction layer itself (RFC 3261 section 17): the capped
 * pool of transactions, their matching tables, ending and deferred
 * freeing, sending, and the branch generator (8.1.1.7).  The state
 * machines live in txn_server.c (17.2) and txn_client.c (17.1).
 *
 * The pool caps the number of transactions, not bytes: each one is a
 * single allocation sized to what it keeps (a server transaction its
 * response skeleton, a client transaction its request), plus the last
 * response or our ACK when one must be re-sent.  A full pool is
 * admission control (STYLE.md 5): new requests are refused with 503 by
 * the proxy while existing transactions run on.
 */
#include <errno.h>
#include <string.h>

#include "core/keyline.h"
#include "core/mem.h"
#include "sip/txn_int.h"
#include "core/rand.h"

const struct sip_txn_conf sip_txn_conf_default = {
	.t1_ms = SIP_TXN_T1_MS,
	.t2_ms = SIP_TXN_T2_MS,
	.t4_ms = SIP_TXN_T4_MS,
	.td_ms = SIP_TXN_TD_MS,
	.max_txn = SIP_TXN_MAX_DEFAULT,
	.max_bytes = (size_t)128 << 20,
};

static bool conf_ok(const struct sip_txn_conf *c)
{
	return c->t1_ms >= 1 && c->t1_ms <= SIP_TXN_T1_MAX_MS &&
	       c->t2_ms >= c->t1_ms && c->t2_ms <= 64 * SIP_TXN_T1_MAX_MS &&
	       c->t4_ms >= 1 && c->t4_ms <= 64 * SIP_TXN_T1_MAX_MS &&
	       c->td_ms <= 64 * SIP_TXN_T1_MAX_MS && c->max_txn >= 1 &&
	       c->max_txn <= SIP_TXN_MAX_CAP &&
	       c->max_bytes >= SIP_TXN_MAX_BYTES_MIN;
}

static void reap_cb(void *arg)
{
	sip_txl_reap(arg);
}

int sip_txl_new(struct sip_txl **txlp, const struct sip_txn_conf *conf,
		const struct sip_txl_cb *cb, struct tmr_wheel *w)
{
	struct sip_txl *txl;
	int err;

	if (!txlp || !cb || !cb->send || !w)
		return -EINVAL;
	if (!conf)
		conf = &sip_txn_conf_default;
	if (!conf_ok(conf))
		return -EINVAL;
	txl = mem_zalloc(sizeof(*txl));
	if (!txl)
		return -ENOMEM;
	txl->conf = *conf;
	txl->cb = *cb;
	txl->w = w;
	tmr_init(&txl->reap);
	err = rand_bytes(txl->branch_key, sizeof(txl->branch_key));
	if (err)
		goto out;
	err = -ENOMEM;
	txl->scratch = mem_alloc(sizeof(*txl->scratch));
	if (!txl->scratch)
		goto out;
	err = htab_init(&txl->stx_tab, conf->max_txn);
	if (err)
		goto out;
	err = htab_init(&txl->ctx_tab, conf->max_txn);
out:
	if (err) {
		sip_txl_free(txl);
		return err;
	}
	*txlp = txl;
	return 0;
}

static void txn_free(struct sip__txn *t)
{
	struct sip_txl *txl = t->txl;

	tmr_cancel(&t->tr);
	tmr_cancel(&t->tt);
	if (t->linked)
		htab_remove(t->server ? &txl->stx_tab : &txl->ctx_tab, &t->hn);
	*t->pprev = t->next;
	if (t->next)
		t->next->pprev = t->pprev;
	txl->count--;
	txl->bytes -= t->size + t->aux_cap;
	if (t->secret) /* our SRTP keys, in a message we sent */
		mem_secclean(t->aux, t->aux_cap);
	mem_free(t->aux);
	if (t->secret)
		mem_secclean(t, t->size);
	mem_free(t);
}

void sip_txl_free(struct sip_txl *txl)
{
	if (!txl)
		return;
	tmr_cancel(&txl->reap);
	while (txl->all)
		txn_free(txl->all);
	htab_fini(&txl->stx_tab);
	htab_fini(&txl->ctx_tab);
	mem_free(txl->scratch);
	mem_secclean(txl->branch_key, sizeof(txl->branch_key));
	mem_free(txl);
}

/*
 * Pop ended transactions one at a time: a gone callback may end others
 * (they are pushed on the same list and handled in this loop).
 */
void sip_txl_reap(struct sip_txl *txl)
{
	struct sip__txn *t;

	if (!txl)
		return;
	tmr_cancel(&txl->reap);
	while ((t = txl->dead) != NULL) {
		txl->dead = t->dead_next;
		if (!t->quiet && t->server && txl->cb.stx_gone)
			txl->cb.stx_gone(t->user, (struct sip_stx *)t);
		else if (!t->quiet && !t->server && txl->cb.ctx_gone)
			txl->cb.ctx_gone(t->user, (struct sip_ctx *)t);
		txn_free(t);
	}
}

size_t sip_txl_count(const struct sip_txl *txl)
{
	return txl ? txl->count : 0;
}

size_t sip_txl_bytes(const struct sip_txl *txl)
{
	return txl ? txl->bytes : 0;
}

size_t sip_txl_branch(struct sip_txl *txl, char out[SIP_TXN_BRANCH_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	uint64_t ctr = txl->branch_ctr++, v[2];
	size_t i, o = sizeof(SIP_TXN_COOKIE) - 1;

	v[0] = siphash24(&ctr, sizeof(ctr), txl->branch_key[0]);
	v[1] = siphash24(&ctr, sizeof(ctr), txl->branch_key[1]);
	memcpy(out, SIP_TXN_COOKIE, o);
	for (i = 0; i < 32; i++)
		out[o++] = hex[(v[i / 16] >> (4 * (i % 16))) & 0xf];
	out[o] = '\0';
	return o;
}

void *sip__txn_alloc(struct sip_txl *txl, size_t size, bool server,
		     bool uncapped, int *errp)
{
	struct sip__txn *t;

	if (!uncapped && (txl->count >= txl->conf.max_txn ||
			  size > txl->conf.max_bytes - txl->bytes)) {
		*errp = -ENOSPC;
		return NULL;
	}
	t = mem_zalloc(size);
	if (!t) {
		*errp = -ENOMEM;
		return NULL;
	}
	t->txl = txl;
	t->size = size;
	t->server = server;
	tmr_init(&t->tr);
	tmr_init(&t->tt);
	t->next = txl->all;
	if (t->next)
		t->next->pprev = &t->next;
	txl->all = t;
	t->pprev = &txl->all;
	txl->count++;
	txl->bytes += size;
	return t;
}

void sip__txn_discard(struct sip__txn *t)
{
	if (t)
		txn_free(t);
}

void sip__txn_end(struct sip__txn *t)
{
	struct sip_txl *txl = t->txl;

	if (t->state == SIP_TXN_TERMINATED)
		return;
	t->state = SIP_TXN_TERMINATED;
	tmr_cancel(&t->tr);
	tmr_cancel(&t->tt);
	if (t->linked)
		htab_remove(t->server ? &txl->stx_tab : &txl->ctx_tab, &t->hn);
	t->linked = false;
	if (!t->server)
		sip__ctx_ended((struct sip_ctx *)t);
	t->dead_next = txl->dead;
	txl->dead = t;
	if (!tmr_pending(&txl->reap))
		tmr_start(txl->w, &txl->reap, 0, reap_cb, txl);
}

int sip__txn_send(struct sip__txn *t, const char *p, size_t n)
{
	struct sip_txl *txl = t->txl;
	int rc = txl->cb.send(txl->cb.send_arg, &t->peer, p, n);

	return rc < 0 ? rc : 0;
}

/* A bigger aux block; a secret old one is wiped, never left to
 * realloc() to free as it is. */
static char *aux_grow(struct sip__txn *t, size_t n)
{
	char *np;

	if (!t->secret)
		return mem_realloc(t->aux, n);
	np = mem_alloc(n);
	if (np) {
		mem_secclean(t->aux, t->aux_cap);
		mem_free(t->aux);
	}
	return np;
}

int sip__txn_keep(struct sip__txn *t, const char *p, size_t n)
{
	struct sip_txl *txl = t->txl;
	char *np;

	if (n == 0)
		return -EINVAL;
	if (n > t->aux_cap) {
		if (n - t->aux_cap > txl->conf.max_bytes - txl->bytes)
			return -ENOSPC;
		np = aux_grow(t, n);
		if (!np)
			return -ENOMEM;
		txl->bytes += n - t->aux_cap;
		t->aux = np;
		t->aux_cap = n;
	} else if (t->secret && n < t->aux_len) {
		mem_secclean(t->aux + n, t->aux_len - n);
	}
	memcpy(t->aux, p, n);
	t->aux_len = n;
	t->secret = t->secret || keyline_in(p, n);
	return 0;
}

void sip__txn_adopt(struct sip__txn *t, char *p, size_t n, size_t cap)
{
	struct sip_txl *txl = t->txl;

	txl->bytes += cap - t->aux_cap;
	if (t->secret)
		mem_secclean(t->aux, t->aux_cap);
	mem_free(t->aux);
	t->aux = p;
	t->aux_len = n;
	t->aux_cap = cap;
	t->secret = t->secret || keyline_in(p, n);
}

int sip__put_folded(struct buf *out, struct str v)
{
	size_t i, run;
	int err = 0;

	for (i = 0; !err && i < v.len; i += run) {
		char c = v.p[i];

		if (c == '\r' || c == '\n') {
			/* A fold (CRLF + WSP) reads as one SP (RFC 3261 7.3.1).
			 */
			for (run = 1;
			     i + run < v.len && str_is_lws(v.p[i + run]); run++)
				;
			err = buf_append(out, " ", 1);
			continue;
		}
		for (run = 1; i + run < v.len && v.p[i + run] != '\r' &&
			      v.p[i + run] != '\n';
		     run++)
			;
		err = buf_append(out, v.p + i, run);
	}
	return err;
}

int sip__put_hdr(struct buf *out, struct str name, struct str value)
{
	int err = buf_append_str(out, name);

	err = err ? err : buf_append(out, ": ", 2);
	err = err ? err : sip__put_folded(out, value);
	return err ? err : buf_append(out, "\r\n", 2);
}
