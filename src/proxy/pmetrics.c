/*
 * pmetrics.c - the proxy's counters for the metrics endpoint: messages
 * by zone, method and response class, parse failures, and a histogram of
 * request handling time.  Plain increments on the loop thread; the HTTP
 * endpoint reads them on the same thread (ctl/http.c).
 */
#include <time.h>

#include "proxy/proxy_int.h"

_Static_assert((int)SIP_METHOD__COUNT <= (int)PROXY_MET_METHODS,
	       "method slots");
_Static_assert((int)CONF_MAX_ZONES <= (int)PROXY_MET_ZONES, "zone slots");

/* Upper bounds (us) of the latency buckets; above the last: +Inf. */
const unsigned proxy_lat_bounds_us[PROXY_LAT_BUCKETS] = {
	10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 100000,
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t proxy__met_rx(struct proxy *p, const struct sip_peer *from,
		       const struct sip_msg *m)
{
	struct proxy_zone_metrics *z;

	if (from->zone >= PROXY_MET_ZONES)
		return 0;
	z = &p->met.zone[from->zone];
	if (m->is_request) {
		z->requests[(unsigned)m->mid < PROXY_MET_METHODS ? m->mid
								 : 0]++;
		return mono_ns();
	}
	z->responses[m->status >= 100 && m->status < 700 ? m->status / 100
							 : 0]++;
	return 0;
}

void proxy__met_done(struct proxy *p, const struct sip_msg *m, uint64_t t0)
{
	uint64_t ns, us;
	unsigned i;

	if (!m->is_request || !t0)
		return;
	ns = mono_ns() - t0;
	us = ns / 1000;
	for (i = 0; i < PROXY_LAT_BUCKETS; i++)
		if (us <= proxy_lat_bounds_us[i])
			p->met.lat_le[i]++;
	p->met.lat_count++;
	p->met.lat_sum_ns += ns;
}

void proxy__met_malformed(struct proxy *p, const struct sip_peer *from)
{
	if (from->zone < PROXY_MET_ZONES)
		p->met.zone[from->zone].malformed++;
}

const struct proxy_metrics *proxy_metrics(const struct proxy *p)
{
	return &p->met;
}

unsigned proxy_zone_count(const struct proxy *p)
{
	return p->nzones;
}

const char *proxy_zone_name(const struct proxy *p, unsigned i)
{
	return i < p->nzones ? p->zones[i].c->name : "";
}
