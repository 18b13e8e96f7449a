/*
 * inspect_rules.c - the rules of the guard's post-parse checks (inspect.h
 * says what each one does and why it drops, answers or bans): a request
 * or an answer is counted against its source's and its target user's
 * windows, then judged rule by rule; the first enforcing rule decides,
 * monitored ones only leave their verdict.  State: inspect.c.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "guard/inspect_int.h"

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
	[INSPECT_R_RATE_SUBSCRIBE] = "SUBSCRIBE rate of this source over limit",
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

/* One request or answer being judged. */
struct judge {
	struct inspect *in;
	struct guard_verdict *v;
	struct insp_src *src;
	uint64_t now;
	bool have; /* v already holds a monitored verdict */
	enum inspect_class cls;
	uint32_t rate_est;
	bool has_user; /* uh is the target user's hash */
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
	struct insp_user *u = inspect__user_get(in, uh);

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
	uh = inspect__user_hash(in, user);
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
	j.src = inspect__src_get(in, &from->addr);
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
	j.src = inspect__src_get(in, requester);
	if (j.src->held_until > now_ms) {
		fire(&j, INSPECT_R_SCANNER_HELD, GUARD_DROP, true, 0);
		return;
	}
	if (!is_failure(status)) {
		if (target_user.len && (c->users_max || c->users_burst))
			win_bits_set(&j.src->resolved, now_ms,
				     c->users_window_ms,
				     inspect__user_hash(in, target_user));
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
