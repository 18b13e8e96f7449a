/*
 * media_stats.c - what the media layer counted, read on the signalling
 * thread: per-stream statistics of the call record (JSON), the layer's
 * counters, and the relayed-traffic totals of /metrics and the
 * dashboard.  Live streams are read from the relay's single-writer
 * counters (MEDIA_LD), so a reading may lag the relay by a few packets;
 * closed streams are folded into the call's and the layer's totals.
 */
#include <string.h>

#include "core/buf.h"
#include "media/media_int.h"

/* Add what x counted to the totals in t (t is ours, x the relay's). */
void media__stats_add(struct media_leg_stats *t,
		      const struct media_leg_stats *x)
{
	t->pkts += MEDIA_LD(x->pkts);
	t->bytes += MEDIA_LD(x->bytes);
	t->kernel += MEDIA_LD(x->kernel);
	t->rtcp += MEDIA_LD(x->rtcp);
	t->dropped += MEDIA_LD(x->dropped);
	t->injected += MEDIA_LD(x->injected);
	t->anomalies += MEDIA_LD(x->anomalies);
	t->policed += MEDIA_LD(x->policed);
	t->srtp_auth += MEDIA_LD(x->srtp_auth);
	t->srtp_replay += MEDIA_LD(x->srtp_replay);
}

static int leg_json(struct buf *out, const char *name,
		    const struct media_leg_stats *x, bool live)
{
	return buf_printf(
		out,
		"\"%s\":{\"packets\":%llu,\"kernel\":%llu,"
		"\"bytes\":%llu,\"rtcp\":%llu,\"dropped\":%llu,\"injected\":%llu,"
		"\"anomalies\":%llu,\"policed\":%llu,"
		"\"srtp_auth_failed\":%llu,\"srtp_replayed\":%llu,"
		"\"rr_lost\":%u,\"rr_jitter\":%u}",
		name, (unsigned long long)MEDIA_LD(x->pkts),
		(unsigned long long)MEDIA_LD(x->kernel),
		(unsigned long long)MEDIA_LD(x->bytes),
		(unsigned long long)MEDIA_LD(x->rtcp),
		(unsigned long long)MEDIA_LD(x->dropped),
		(unsigned long long)MEDIA_LD(x->injected),
		(unsigned long long)MEDIA_LD(x->anomalies),
		(unsigned long long)MEDIA_LD(x->policed),
		(unsigned long long)MEDIA_LD(x->srtp_auth),
		(unsigned long long)MEDIA_LD(x->srtp_replay),
		live ? (unsigned)MEDIA_LD(x->rr_lost) : 0u,
		live ? (unsigned)MEDIA_LD(x->rr_jitter) : 0u);
}

int media_call_stats_json(const struct media_call *c, struct buf *out)
{
	bool first = true;
	unsigned i;
	int err = 0;

	if (!c)
		return 0;
	for (i = 0; i < MEDIA_MAX_STREAMS && !err; i++) {
		const struct media_stream *s = c->st[i];

		if (!s)
			continue;
		err = buf_printf(out, "%s{\"m\":%u,\"ports\":[%u,%u],",
				 first ? ",\"media\":[" : ",", i, s->port[0],
				 s->port[1]);
		if (!err)
			err = leg_json(out, "caller", &s->st[0], true);
		if (!err)
			err = buf_append_cstr(out, ",");
		if (!err)
			err = leg_json(out, "callee", &s->st[1], true);
		if (!err)
			err = buf_append_cstr(out, "}");
		first = false;
	}
	if (!err && c->ngone) {
		err = buf_printf(out, "%s{\"m\":\"closed\",\"streams\":%u,",
				 first ? ",\"media\":[" : ",", c->ngone);
		if (!err)
			err = leg_json(out, "caller", &c->gone[0], false);
		if (!err)
			err = buf_append_cstr(out, ",");
		if (!err)
			err = leg_json(out, "callee", &c->gone[1], false);
		if (!err)
			err = buf_append_cstr(out, "}");
		first = false;
	}
	if (!err && !first)
		err = buf_append_cstr(out, "]");
	return err;
}

void media_get_stats(const struct media *m, struct media_stats *st)
{
	unsigned i;

	memset(st, 0, sizeof(*st));
	if (!m)
		return;
	*st = m->st;
	st->ports_used = m->ports.used;
	for (i = 0; i < m->nrelay; i++)
		st->notes_lost += MEDIA_LD(m->relay[i].notes_lost);
}

static void traffic_of(struct media_traffic *t,
		       const struct media_leg_stats *sum)
{
	t->pkts = sum->pkts;
	t->bytes = sum->bytes;
	t->rtcp = sum->rtcp;
	t->kernel = sum->kernel;
	t->injected = sum->injected;
	t->policed = sum->policed;
	t->invalid =
		sum->dropped > sum->policed ? sum->dropped - sum->policed : 0;
	t->anomalies = sum->anomalies;
	t->srtp_auth = sum->srtp_auth;
	t->srtp_replay = sum->srtp_replay;
}

void media_call_traffic(const struct media_call *c, unsigned leg,
			struct media_traffic *t)
{
	struct media_leg_stats sum;
	unsigned i;

	memset(t, 0, sizeof(*t));
	if (!c || leg > 1)
		return;
	sum = c->gone[leg];
	for (i = 0; i < MEDIA_MAX_STREAMS; i++)
		if (c->st[i])
			media__stats_add(&sum, &c->st[i]->st[leg]);
	traffic_of(t, &sum);
}

void media_get_traffic(const struct media *m, struct media_traffic *t)
{
	struct media_leg_stats sum;
	const struct media_call *c;
	unsigned i, l;

	memset(t, 0, sizeof(*t));
	if (!m)
		return;
	sum = m->closed;
	for (c = m->list; c; c = c->next)
		for (i = 0; i < MEDIA_MAX_STREAMS; i++)
			for (l = 0; c->st[i] && l < 2; l++)
				media__stats_add(&sum, &c->st[i]->st[l]);
	traffic_of(t, &sum);
}
