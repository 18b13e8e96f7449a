/*
 * txn_int.h - private structures of the transaction layer, shared by
 * txn.c (layer, pool, reaping), txn_server.c and txn_client.c.
 * Not for use outside src/sip/.
 */
#ifndef SIPGUARD_SIP_TXN_INT_H
#define SIPGUARD_SIP_TXN_INT_H

#include "core/buf.h"
#include "core/htab.h"
#include "sip/txn.h"

/*
 * What every transaction has.  It is the first member of struct sip_stx
 * and struct sip_ctx.  Owner: the layer (txl), through the `all` list;
 * the matching table only indexes it.
 */
struct sip__txn {
	struct hnode hn;                /* stx or ctx table */
	struct sip__txn *next, **pprev; /* txl->all */
	struct sip__txn *dead_next;     /* txl->dead, once ended */
	struct sip_txl *txl;
	void *user;
	struct tmr tr;        /* retransmission: Timer A, E, G */
	struct tmr tt;        /* the other timers: B D F H I J K L M */
	struct sip_peer peer; /* where we send */
	uint64_t rt_ms;       /* current retransmission interval */
	char *aux;            /* stx: last response; ctx: our ACK */
	size_t aux_len;
	size_t aux_cap; /* bytes allocated at aux */
	size_t size;    /* bytes of this allocation */
	enum sip_txn_state state;
	enum sip_method mid;
	bool server;
	bool invite;
	bool reliable;
	bool linked; /* in its matching table */
	bool quiet;  /* internal (our CANCEL): no callbacks */
	bool secret; /* a copy held an SDES key line: wiped before freed */
};

/* Owner: whoever called sip_txl_new(). */
struct sip_txl {
	struct sip_txn_conf conf;
	struct sip_txl_cb cb;
	struct tmr_wheel *w;
	struct htab stx_tab;   /* key: branch, or Call-ID + CSeq (2543) */
	struct htab ctx_tab;   /* key: branch */
	struct sip__txn *all;  /* every allocated transaction */
	struct sip__txn *dead; /* ended, waiting for reap */
	size_t count;          /* allocated, dead included */
	size_t bytes;          /* their allocations, aux included */
	struct tmr reap;       /* zero-delay: frees the dead at a safe point */
	uint64_t branch_ctr;
	uint8_t branch_key[2][SIPHASH_KEY_LEN];
	/* For rare re-parses (our ACK/CANCEL from a stored INVITE, a To tag
	 * from a forwarded response): never used across a callback. */
	struct sip_msg *scratch;
};

/* Server transaction (17.2).  Slices point into data[]. */
struct sip_stx {
	struct sip__txn t;
	bool rfc3261;      /* matched by branch (else the 2543 rule) */
	struct str branch; /* 3261 keys */
	struct str host;
	uint16_t port;
	bool has_port;
	struct str ruri; /* 2543 keys */
	struct str call_id;
	struct str from_tag;
	struct str to_tag;
	struct str via; /* top Via, raw */
	uint32_t cseq;
	uint64_t resp_tag_hv; /* To tag of our final response (2543 ACK) */
	bool has_resp_tag;
	struct str mname; /* request method name */
	struct str skel;  /* response header lines, see txn_server.c */
	size_t to_end;    /* in skel: where ";tag=" goes */
	bool req_has_tag;
	int status; /* last response sent */
	char data[];
};

/* Client transaction (17.1).  Slices point into data[]. */
struct sip_ctx {
	struct sip__txn t;
	struct str branch;
	struct str mname;
	struct str req;         /* the request as sent */
	struct sip_ctx *cancel; /* INVITE: our CANCEL transaction */
	struct sip_ctx *invite; /* our CANCEL: the INVITE it cancels */
	bool cancel_pending;    /* send the CANCEL at the first 1xx */
	bool cancelled;         /* CANCEL sent: 64*T1 guard running */
	char data[];
};

/* 64*T1: Timers B, F, H, J (unreliable), L, M, and the CANCEL guard. */
static inline uint64_t sip__t64(const struct sip_txl *txl)
{
	return 64 * (uint64_t)txl->conf.t1_ms;
}

/* Pool: allocate `size` zeroed bytes for a transaction, or NULL with
 * *errp set (-ENOSPC over the caps unless `uncapped`, -ENOMEM). */
void *sip__txn_alloc(struct sip_txl *txl, size_t size, bool server,
		     bool uncapped, int *errp);
/* Free a transaction that was never handed out (creation failed). */
void sip__txn_discard(struct sip__txn *t);
/* End a transaction: unlink, stop timers, queue it for reaping. */
void sip__txn_end(struct sip__txn *t);
/* Send through the layer's callback to the transaction's peer: 0 or
 * -errno.  The caller decides what a failure means (17.1.4, 17.2.4). */
int sip__txn_send(struct sip__txn *t, const char *p, size_t n);
/* Replace the kept copy (t->aux).  -ENOMEM, or -ENOSPC over the byte
 * cap, leaves the old one.  A copy that held an SDES key (t->secret) is
 * wiped before its memory is freed or reused. */
int sip__txn_keep(struct sip__txn *t, const char *p, size_t n);
/* Hand a heap block (from a struct buf) to t as its aux copy. */
void sip__txn_adopt(struct sip__txn *t, char *p, size_t n, size_t cap);

/* "Name: value\r\n" with folded line breaks collapsed to one SP. */
int sip__put_hdr(struct buf *out, struct str name, struct str value);
/* Value bytes with folds collapsed, no name, no CRLF. */
int sip__put_folded(struct buf *out, struct str value);

/* Kind-specific clean-up when a transaction ends (txn_client.c). */
void sip__ctx_ended(struct sip_ctx *ctx);

bool sip__stx_eq(const struct hnode *n, const void *key);
bool sip__ctx_eq(const struct hnode *n, const void *key);

#endif
