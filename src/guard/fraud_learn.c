/*
 * fraud_learn.c - the anomaly rules of toll-fraud protection and the
 * per-user behaviour they learn: the hours of the day a user calls, the
 * mean calls per day, bursts of short international calls; firing a
 * rule (alert, throttle, block), and taking a challenged call back out
 * of the counts.  Hours and days come from the wall clock plus the
 * configured UTC offset; windows and penalties from the monotonic clock.
 */
#include <stdio.h>
#include <string.h>

#include "core/conf.h"
#include "guard/fraud_int.h"

uint64_t fraud__local_ms(const struct fraud *f, uint64_t wall)
{
	int64_t off = f->c->anomaly.utc_offset * FR_MIN_MS;

	return off < 0 && (uint64_t)-off > wall ? 0 : wall + (uint64_t)off;
}

/* Move u to the day of `wall`, folding the days since into the mean
 * (an exponential mean over about 8 days; idle days count as 0). */
static void roll_day(const struct fraud *f, struct fr_user *u, uint64_t wall)
{
	uint32_t day = (uint32_t)(fraud__local_ms(f, wall) / FR_DAY_MS);
	uint32_t gap, i;

	if (u->days == 0 && u->today == 0) {
		u->day = day;
		return;
	}
	if (day <= u->day)
		return;
	gap = day - u->day;
	for (i = 0; i < gap && i < FR_MAX_GAP_DAYS; i++) {
		uint32_t x = i == 0 ? u->today << FR_BASE_SHIFT : 0;

		u->base =
			u->days == 0 ? x : u->base - (u->base + 7) / 8 + x / 8;
		if (u->days < UINT16_MAX)
			u->days++;
	}
	u->day = day;
	u->today = 0;
}

/* Report a fired anomaly rule and apply its action unless monitored. */
static void fire(struct fraud *f, struct fr_user *u, const char *rule,
		 int action, struct str user, const struct sg_addr *src,
		 uint16_t zone, uint64_t now, uint64_t wall)
{
	const struct sg_conf_fraud_anomaly *a = &f->c->anomaly;
	struct fraud_alert al = {
		.rule = rule,
		.user = user,
		.src = src,
		.zone = zone,
		.why = f->why,
		.action = action == CONF_FRAUD_BLOCK      ? FRAUD_BLOCK
			  : action == CONF_FRAUD_THROTTLE ? FRAUD_THROTTLE
							  : FRAUD_ALERT,
	};

	if (f->alert && !f->alert(f->alert_arg, &al, now, wall))
		return;
	if (al.action == FRAUD_BLOCK)
		u->blocked_until = now + (uint64_t)a->block_time;
	else if (al.action == FRAUD_THROTTLE)
		u->throttled_until = now + (uint64_t)a->throttle_time;
	else
		return;
	fraud__held(u, user, rule);
	/* Every instance holds the user, not only this one. */
	fraud__hold_publish(f, user, al.action == FRAUD_BLOCK, rule,
			    (uint64_t)(al.action == FRAUD_BLOCK
					       ? a->block_time
					       : a->throttle_time),
			    wall);
}

/* Unusual hour: few of the user's learned calls within an hour of now. */
void fraud__check_hours(struct fraud *f, struct fr_user *u, struct str user,
			const struct sg_addr *src, uint16_t zone, uint64_t now,
			uint64_t wall)
{
	const struct sg_conf_fraud_hours *c = &f->c->anomaly.odd_hours;
	uint64_t lt = fraud__local_ms(f, wall);
	unsigned h = (unsigned)(lt / FR_HOUR_MS % 24);
	uint32_t hour_no = (uint32_t)(lt / FR_HOUR_MS) + 1, near;

	if (!c->after_calls || u->hours_total < (uint64_t)c->after_calls ||
	    u->hours_alerted == hour_no)
		return;
	near = (uint32_t)u->hours[(h + 23) % 24] + u->hours[h] +
	       u->hours[(h + 1) % 24];
	if ((uint64_t)near * 100 >= (uint64_t)c->rare_percent * u->hours_total)
		return;
	u->hours_alerted = hour_no;
	snprintf(f->why, sizeof(f->why),
		 "call at %02u h, outside the user's "
		 "usual hours (%u of %u calls near it)",
		 h, near, u->hours_total);
	fire(f, u, FRAUD_R_HOURS, c->action, user, src, zone, now, wall);
}

/* Today's calls far above the learned daily mean. */
void fraud__check_baseline(struct fraud *f, struct fr_user *u, struct str user,
			   const struct sg_addr *src, uint16_t zone,
			   uint64_t now, uint64_t wall)
{
	const struct sg_conf_fraud_baseline *c = &f->c->anomaly.baseline;
	uint64_t limit;

	roll_day(f, u, wall);
	if (!c->factor || u->days < c->min_days ||
	    u->base_alerted == u->day + 1)
		return;
	limit = ((uint64_t)u->base * (uint64_t)c->factor) >> FR_BASE_SHIFT;
	if (limit < (uint64_t)c->min_calls)
		limit = (uint64_t)c->min_calls;
	if ((uint64_t)u->today + 1 <= limit)
		return;
	u->base_alerted = u->day + 1;
	snprintf(f->why, sizeof(f->why),
		 "%u calls today, usual %u.%02u a "
		 "day (limit %llu)",
		 u->today + 1, u->base >> FR_BASE_SHIFT,
		 (u->base & 15) * 100 / 16, (unsigned long long)limit);
	fire(f, u, FRAUD_R_BASELINE, c->action, user, src, zone, now, wall);
}

/* Learn a call that went through: hour of day and daily count. */
void fraud__learn(struct fraud *f, struct fr_user *u, uint64_t wall)
{
	unsigned h = (unsigned)(fraud__local_ms(f, wall) / FR_HOUR_MS % 24), i;

	roll_day(f, u, wall);
	u->today++;
	u->hours[h]++;
	u->hours_total++;
	/* Halve now and then: old habits fade, counters never overflow. */
	if (u->hours_total >= FR_HOURS_CAP) {
		u->hours_total = 0;
		for (i = 0; i < 24; i++) {
			u->hours[i] /= 2;
			u->hours_total += u->hours[i];
		}
	}
}

/* A short international call: count it, raise on a burst. */
void fraud__short_call(struct fraud *f, struct fr_user *u,
		       const struct fr_call *call, uint64_t now, uint64_t wall)
{
	const struct sg_conf_fraud_short *c = &f->c->anomaly.short_calls;
	uint32_t n;

	n = win_ctr_add(&u->shortc, now, (uint32_t)c->window, 1);
	if (n <= (uint64_t)c->count || u->short_quiet_until > now)
		return;
	u->short_quiet_until = now + (uint64_t)c->window;
	snprintf(f->why, sizeof(f->why),
		 "%u short international calls in "
		 "%lld s",
		 n, (long long)c->window / 1000);
	fire(f, u, FRAUD_R_SHORT, c->action,
	     str_make(call->user, call->user_len), &call->src, call->zone, now,
	     wall);
}

/* Take one event back from a window counter, in the window it fell in. */
static void unwin(struct win_ctr *c, uint64_t at, uint32_t period)
{
	if (at >= c->start && c->cur)
		c->cur--;
	else if (at < c->start && at + period >= c->start && c->prev)
		c->prev--;
}

/*
 * A call answered with a Digest challenge (401/407) is the first half
 * of one call: the UA repeats it with credentials at once.  Counted
 * twice, it would make calls_per_second 1 refuse every authenticated
 * call, and double the learned counts.  Take it back.
 */
void fraud__refund(struct fraud *f, struct fr_user *u, struct fr_src *s,
		   const struct fr_call *call)
{
	struct fr_cty *ct;

	if (u) {
		unwin(&u->cps, call->start, 1000);
		unwin(&u->cpm, call->start, FR_MIN_MS);
		unwin(&u->thr, call->start, FR_MIN_MS);
		if (u->day == call->day && u->today)
			u->today--;
		if (u->hours[call->hour] && u->hours_total) {
			u->hours[call->hour]--;
			u->hours_total--;
		}
	}
	if (s) {
		unwin(&s->cps, call->start, 1000);
		unwin(&s->cpm, call->start, FR_MIN_MS);
	}
	if (call->kind == DP_INTERNATIONAL &&
	    (ct = fraud__cty(f, fraud__cty_hash(f, call->user_h, call->cc), 0,
			     false)))
		unwin(&ct->hour, call->start, FR_HOUR_MS);
}
