/*
 * dialog_int.h - what the dialog files share: the table, the record
 * pool and string block, lookups by key, state changes and the end of a
 * record (dialog.c); the message handling lives in dialog_msg.c, the BYE
 * builder in dialog_bye.c.
 */
#ifndef SIPGUARD_SIP_DIALOG_INT_H
#define SIPGUARD_SIP_DIALOG_INT_H

#include "sip/dialog.h"

/* Owner: whoever called sip_dlgs_new(). */
struct sip_dlgs {
	struct sip_dlg_conf conf;
	struct tmr_wheel *w;
	struct sip_dlg_cbs cb;
	void *arg;
	struct htab h;              /* live records, key Call-ID + caller tag */
	struct slab *slab;          /* records and their strings (core/slab.h:
				     * packed apart from short-lived memory) */
	size_t n[SIP_DLG__NSTATES]; /* records per state */
	size_t total;               /* all records, dead ones included */
	struct sip_dlg *dead;       /* ended, freed at the next safe point */
	struct tmr gc;              /* that safe point: the next wheel run */
	unsigned in_cb;             /* inside on_end / on_expire */
};

/* Records of one call: same Call-ID and caller tag.  At most
 * SIP_DLG_MAX_FORKS, live ones only. */
struct sip__dlg_group {
	struct sip_dlg *d[SIP_DLG_MAX_FORKS];
	unsigned n;
};

uint64_t sip__dlg_now(const struct sip_dlgs *t);
/* Collect the live records of a call. */
void sip__dlg_group(const struct sip_dlgs *t, struct str call_id,
		    struct str caller_tag, struct sip__dlg_group *g);
/* The live record with exactly these caller and callee tags, or NULL. */
struct sip_dlg *sip__dlg_lookup(const struct sip_dlgs *t, struct str call_id,
				struct str caller_tag, struct str callee_tag);

/*
 * A new record holding strings v (slices may point anywhere, even into
 * another record's block).  When src is given its other fields are
 * copied (a fork), else they are zero and state is TRYING.  Counted and
 * linked; the timer is not armed.  Returns 0, -ENOSPC, -E2BIG, -ENOMEM.
 */
int sip__dlg_create(struct sip_dlgs *t, const struct str v[SIP_DLG_S__COUNT],
		    const struct sip_dlg *src, struct sip_dlg **dp);
/* Current strings of d into v. */
void sip__dlg_strs(const struct sip_dlg *d, struct str v[SIP_DLG_S__COUNT]);
/* Replace d's strings with v (one new block; the old one is freed after
 * copying, so v may point into it).  0, -E2BIG, -ENOMEM (d unchanged). */
int sip__dlg_set_strs(struct sip_dlg *d, const struct str v[SIP_DLG_S__COUNT]);

/* Move d to state st (not TERMINATED: use sip__dlg_finish), keep counts. */
void sip__dlg_set_state(struct sip_dlg *d, enum sip_dlg_state st);
/* (Re)start d's timer for its nearest deadline. */
void sip__dlg_arm(struct sip_dlg *d);
/* End d: unlink, queue for freeing, call on_end.  Idempotent. */
void sip__dlg_finish(struct sip_dlg *d, enum sip_dlg_reason r);

#endif
