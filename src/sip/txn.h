/*
 * txn.h - the SIP transaction layer (RFC 3261 section 17, with the
 * RFC 6026 "Accepted" state): server transactions for what a stateful
 * proxy receives, client transactions for what it forwards.
 *
 * One layer (struct sip_txl) per event-loop thread.  It owns every
 * transaction it creates; the proxy holds borrowed pointers and learns
 * through the gone callbacks when to drop them.  The layer sends through
 * a callback, so it depends on neither transport/ nor proxy/.
 *
 * Lifetime rules (STYLE.md 5):
 * - every transaction handed out (a NEW server transaction, a client
 *   transaction from sip_ctx_new()) gets exactly one gone callback, and
 *   is freed right after it returns;
 * - a transaction that ends is only marked (it stops matching and its
 *   timers stop) and is freed at the next safe point: a zero-delay timer
 *   on the wheel, or sip_txl_reap().  So a pointer stays valid for the
 *   whole callback in which a transaction ends, and calls on an ended
 *   transaction are refused with -ESRCH instead of touching freed memory;
 * - no callback frees anything: it is never re-entered from inside.
 *
 * Deviations from the text of RFC 3261, on purpose:
 * - RFC 6026: an INVITE server transaction that sends a 2xx goes to
 *   Accepted for Timer L (64*T1) instead of Terminated, absorbing INVITE
 *   retransmissions (which would otherwise be forwarded again as new
 *   requests); 2xx retransmissions the proxy forwards still go out
 *   through it.  An INVITE client transaction that receives a 2xx stays
 *   Accepted for Timer M (64*T1) and delivers every further 2xx (from
 *   retransmissions or other forks) to the proxy.
 * - every provisional response is delivered (17.1.1.2/17.1.2.2): absorbing
 *   a repeated one would break RFC 3262 reliable provisionals, which the
 *   UAS retransmits end to end.
 * - after a non-2xx final, an INVITE server transaction still lets a 2xx
 *   through (RFC 3261 16.7 step 10: a proxy forwards every 2xx).
 */
#ifndef SIPGUARD_SIP_TXN_H
#define SIPGUARD_SIP_TXN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/str.h"
#include "core/tmr.h"
#include "sip/sip.h"
#include "sip/sip_peer.h"

struct sip_txl;
struct sip_stx;
struct sip_ctx;

enum {
	SIP_TXN_T1_MS = 500, /* RFC 3261 17.1.1.1 defaults */
	SIP_TXN_T2_MS = 4000,
	SIP_TXN_T4_MS = 5000,
	SIP_TXN_TD_MS = 32000, /* Timer D on unreliable transports */
	SIP_TXN_MAX_DEFAULT = 65536,
	SIP_TXN_MAX_BYTES_MIN = 4 * 65536, /* floor of conf.max_bytes */
	SIP_TXN_MAX_CAP = 1 << 24,         /* ceiling of conf.max_txn */
	SIP_TXN_T1_MAX_MS = 60000, /* ceiling of T1 (64*T1 fits easily) */
	/* "z9hG4bK" + 32 hex digits of a 128-bit keyed PRF output. */
	SIP_TXN_BRANCH_LEN = 7 + 32,
	SIP_TXN_MAX_BRANCH = 256, /* longest branch sip_ctx_new accepts */
};

/* The magic cookie of RFC 3261 branches (8.1.1.7). */
#define SIP_TXN_COOKIE "z9hG4bK"

struct sip_txn_conf {
	uint32_t t1_ms;   /* RTT estimate: 1..SIP_TXN_T1_MAX_MS */
	uint32_t t2_ms;   /* retransmit cap for non-INVITE: >= t1 */
	uint32_t t4_ms;   /* max lifetime of a message in the net */
	uint32_t td_ms;   /* Timer D (unreliable), RFC: >= 32 s */
	uint32_t max_txn; /* live transactions, 1..SIP_TXN_MAX_CAP */
	/* Bytes they may hold (structs, copies, kept responses), at least
	 * SIP_TXN_MAX_BYTES_MIN: a count alone would let big messages
	 * (up to SIP_MAX_MSG_SIZE each) multiply the memory used. */
	size_t max_bytes;
};

/* The RFC defaults, SIP_TXN_MAX_DEFAULT transactions, 128 MiB. */
extern const struct sip_txn_conf sip_txn_conf_default;

enum sip_txn_state {
	SIP_TXN_TRYING = 0, /* non-INVITE, both sides */
	SIP_TXN_CALLING,    /* INVITE client */
	SIP_TXN_PROCEEDING,
	SIP_TXN_COMPLETED,
	SIP_TXN_CONFIRMED,  /* INVITE server */
	SIP_TXN_ACCEPTED,   /* INVITE after a 2xx (RFC 6026) */
	SIP_TXN_TERMINATED, /* ended: waiting to be freed */
};

/*
 * Send n bytes to `to`.  Returns >= 0 on success or -errno.  On an
 * unreliable transport a failure only costs a retransmission; on a
 * reliable one it ends the transaction (RFC 3261 17.1.4, 17.2.4).
 */
typedef int sip_txl_send_fn(void *arg, const struct sip_peer *to, const char *p,
			    size_t n);
/* A response for a client transaction; resp lives during the call. */
typedef void sip_ctx_response_fn(void *user, struct sip_ctx *ctx,
				 const struct sip_msg *resp,
				 const struct sip_peer *from);
/* A client transaction failed: -ETIMEDOUT (Timer B/F, or no final
 * response 64*T1 after a CANCEL) or a transport error.  It has ended. */
typedef void sip_ctx_timeout_fn(void *user, struct sip_ctx *ctx, int err);
/* The transaction is about to be freed: drop every pointer to it. */
typedef void sip_ctx_gone_fn(void *user, struct sip_ctx *ctx);
typedef void sip_stx_gone_fn(void *user, struct sip_stx *stx);

struct sip_txl_cb {
	sip_txl_send_fn *send; /* required */
	void *send_arg;
	sip_ctx_response_fn *ctx_response; /* each may be NULL */
	sip_ctx_timeout_fn *ctx_timeout;
	sip_ctx_gone_fn *ctx_gone;
	sip_stx_gone_fn *stx_gone;
};

/*
 * Create a layer on the wheel `w` (the loop's; it must outlive the
 * layer).  conf NULL means the defaults.  Draws a random key for the
 * branch generator and the matching tables.  The caller owns *txlp.
 * Returns 0, -EINVAL (bad conf, missing send), -ENOMEM, or -errno from
 * getrandom(2).
 */
int sip_txl_new(struct sip_txl **txlp, const struct sip_txn_conf *conf,
		const struct sip_txl_cb *cb, struct tmr_wheel *w);
/*
 * Free the layer and every transaction in it, without calling any
 * callback (shutdown: the proxy goes away with it).  NULL is a no-op.
 */
void sip_txl_free(struct sip_txl *txl);
/*
 * Free the transactions that have ended, calling their gone callbacks.
 * Also runs by itself from a zero-delay timer; call it only from the
 * loop, never from inside a transaction callback.
 */
void sip_txl_reap(struct sip_txl *txl);
/* Transactions allocated, ended-but-not-yet-freed ones included, and
 * the bytes they hold (what conf.max_bytes caps). */
size_t sip_txl_count(const struct sip_txl *txl);
size_t sip_txl_bytes(const struct sip_txl *txl);
/*
 * Write a new branch, SIP_TXN_COOKIE followed by 32 hex digits, and a
 * NUL into out; returns its length (SIP_TXN_BRANCH_LEN).  Unique per
 * layer and unguessable from outside (SipHash of a counter under a
 * random key), so responses cannot be forged into our transactions.
 */
size_t sip_txl_branch(struct sip_txl *txl, char out[SIP_TXN_BRANCH_LEN + 1]);

/* ------------------------------------------------------ server side */

enum sip_stx_rc {
	SIP_STX_NEW = 1,      /* fresh transaction: process the request */
	SIP_STX_ABSORBED,     /* retransmission: handled, nothing to do */
	SIP_STX_ACK_ABSORBED, /* ACK for our non-2xx final: handled */
	SIP_STX_NOMATCH,      /* an ACK matching no transaction, or the
			       * INVITE we answered 2xx: route it end to
			       * end (ACK for 2xx) */
};

/*
 * Match a parsed request against the server transactions (17.2.3:
 * branch with magic cookie, sent-by and method, ACK to its INVITE; else
 * the RFC 2543 rule on Request-URI, tags, Call-ID, CSeq and top Via).
 * A retransmission makes the transaction re-send its last response.  An
 * unmatched request other than ACK creates a transaction that copies
 * what its responses need (so req may go away afterwards), remembers
 * `from` as where responses go, and is returned in *stxp.
 * Returns an enum sip_stx_rc, -EINVAL (not a request, no Via),
 * -ENOSPC (pool full, in count or bytes: answer 503 statelessly) or
 * -ENOMEM.
 * For ABSORBED and ACK_ABSORBED *stxp is set to the transaction too.
 */
int sip_stx_receive(struct sip_txl *txl, const struct sip_msg *req,
		    const struct sip_peer *from, struct sip_stx **stxp);
/*
 * The live INVITE server transaction that a CANCEL request targets
 * (9.2: same matching as 17.2.3, method aside), or NULL.  Only one still
 * in SIP_TXN_PROCEEDING can be answered 487; later states mean a final
 * response went out already (the CANCEL still gets its 200).
 */
struct sip_stx *sip_stx_find_invite(struct sip_txl *txl,
				    const struct sip_msg *cancel);
/*
 * Send a response built by the proxy (forwarded from downstream),
 * status 100..699 matching the bytes, and drive the machine
 * (17.2.1/17.2.2).  The transaction keeps a copy when it may have to
 * re-send it.  Returns 0, -EINVAL (bad status), -EALREADY (a final
 * response was already sent and this one may not follow: only 2xx may
 * follow on INVITE), -ESRCH (transaction ended), or the send error.
 */
int sip_stx_send_response(struct sip_stx *stx, const char *p, size_t n,
			  int status);
/*
 * Build and send a response of our own (100 Trying, 408, 487, 503...)
 * from the copy of the request (8.2.6): status line, every Via (the top
 * one with received/rport per RFC 3581), From, To (plus ;tag=to_tag
 * when the request had none and status > 100), Call-ID, CSeq, the
 * `extra` lines verbatim (each ending in CRLF), "Content-Length: 0".
 * reason empty -> the standard phrase.  Same returns as above, and
 * -ENOMEM.
 */
int sip_stx_reply_local(struct sip_stx *stx, int status, struct str reason,
			struct str to_tag, struct str extra);
/* End the transaction without an answer (request dropped). */
void sip_stx_terminate(struct sip_stx *stx);

void *sip_stx_user(const struct sip_stx *stx);
void sip_stx_set_user(struct sip_stx *stx, void *user);
enum sip_txn_state sip_stx_state(const struct sip_stx *stx);
/* Method of the request (SIP_METHOD_UNKNOWN for extensions). */
enum sip_method sip_stx_method(const struct sip_stx *stx);
/* Where responses go. */
const struct sip_peer *sip_stx_peer(const struct sip_stx *stx);
/* Status of the last response sent, 0 if none. */
int sip_stx_status(const struct sip_stx *stx);

/* ------------------------------------------------------ client side */

enum sip_ctx_rc {
	SIP_CTX_DELIVERED = 1, /* ctx_response was called */
	SIP_CTX_ABSORBED,      /* retransmission (ACK re-sent if due) */
	SIP_CTX_NOMATCH,       /* stray: the proxy decides */
};

/*
 * Send a request the proxy built (its top Via carries `branch`, made by
 * sip_txl_branch()) to `to`, and keep a copy for retransmissions
 * (17.1.1: Timer A/B for INVITE, 17.1.2: Timer E/F).  method is the
 * request's method name; ACK is refused (ACK for 2xx is sent without a
 * transaction).  On success *ctxp is the transaction, owned by the
 * layer.  Returns 0, -EINVAL (bad arguments or branch without the
 * cookie), -ENOSPC (pool full), -ENOMEM, or the error of the first send
 * (then no transaction exists and no callback will come).
 */
int sip_ctx_new(struct sip_ctx **ctxp, struct sip_txl *txl,
		const struct sip_peer *to, struct str branch, struct str method,
		const char *p, size_t n, void *user);
/*
 * Match a parsed response (17.1.3: top Via branch and CSeq method) and
 * drive the machine.  A non-2xx final to INVITE is acknowledged by the
 * transaction itself (17.1.1.3).  Returns an enum sip_ctx_rc, or
 * -EINVAL when resp is not a response.
 */
int sip_ctx_receive(struct sip_txl *txl, const struct sip_msg *resp,
		    const struct sip_peer *from);
/*
 * Cancel an INVITE hop by hop (9.1): send a CANCEL built from the stored
 * INVITE in its own transaction now if a provisional response arrived,
 * else as soon as one does.  The INVITE transaction then waits 64*T1
 * for its final response before timing out.  Returns 0 (also when there
 * is nothing left to cancel), -EINVAL (not an INVITE), -ESRCH (ended),
 * -ENOMEM.
 */
int sip_ctx_cancel(struct sip_ctx *ctx);
/* End the transaction silently (the proxy abandons the branch). */
void sip_ctx_terminate(struct sip_ctx *ctx);

void *sip_ctx_user(const struct sip_ctx *ctx);
void sip_ctx_set_user(struct sip_ctx *ctx, void *user);
enum sip_txn_state sip_ctx_state(const struct sip_ctx *ctx);
const struct sip_peer *sip_ctx_peer(const struct sip_ctx *ctx);
/* The branch of our top Via (slice into the transaction). */
struct str sip_ctx_branch(const struct sip_ctx *ctx);

#endif
