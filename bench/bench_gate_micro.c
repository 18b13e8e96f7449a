/*
 * bench_gate_micro.c - gate_check() in a tight loop, one core, no I/O.
 *
 * Scenarios (each runs for --time seconds, default 1):
 *   banned-one     one banned source over and over (hot cache)
 *   banned-10k     10,000 banned sources in turn (cache misses)
 *   rate-one       one source whose packet limiter is empty
 *   pass-50k       50,000 sources in turn, all passing
 *   new-1m         a million distinct sources against a 65,536-entry
 *                  table: every check inserts and evicts
 *   siphash-9B     the keyed hash alone, on a key as the gate hashes it
 *                  (the share of a check spent hashing)
 * Prints checks/s and ns/check per scenario.  The target is at
 * least 1,000,000 dropped packets/s per core.
 *
 *   make bench-gate-micro [BENCH_GATE_ARGS="--time 0.2"]
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/mem.h"
#include "core/siphash.h"
#include "guard/gate.h"

enum {
	N_BANNED = 10000,
	N_PASS = 50000,
	N_NEW = 1000000,
	BATCH = 1024, /* checks between clock reads */
};

static const uint8_t bench_key[16] = "gate-bench-key!";

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void addr4(struct sg_addr *a, uint32_t ip)
{
	memset(a, 0, sizeof(*a));
	a->u.in.sin_family = AF_INET;
	a->u.in.sin_addr.s_addr = htonl(ip);
	a->len = sizeof(a->u.in);
}

/* Run checks over addrs[0..n) round-robin; returns checks per second. */
static double run(struct gate *g, const struct sg_addr *addrs, size_t n,
		  enum gate_verdict want, double secs, const char *name)
{
	double t0 = now_s(), t;
	uint64_t count = 0, wrong = 0;
	size_t i = 0, j;

	do {
		for (j = 0; j < BATCH; j++) {
			/* Fixed "now": the limiter must not refill. */
			if (gate_check(g, &addrs[i], 200, 1000) != want)
				wrong++;
			if (++i == n)
				i = 0;
		}
		count += BATCH;
		t = now_s() - t0;
	} while (t < secs);
	printf("%-12s %12.0f checks/s %8.1f ns/check%s\n", name,
	       (double)count / t, t * 1e9 / (double)count,
	       wrong ? "  (unexpected verdicts!)" : "");
	return (double)count / t;
}

static void run_hash(double secs)
{
	double t0 = now_s(), t;
	uint64_t count = 0, acc = 0;
	uint8_t b[9] = {1, 2, 3, 4, 0, 0, 0, 0, 4};
	size_t j;

	do {
		for (j = 0; j < BATCH; j++) {
			b[0] = (uint8_t)j;
			acc += siphash24(b, sizeof(b), bench_key);
		}
		count += BATCH;
		t = now_s() - t0;
	} while (t < secs);
	printf("%-12s %12.0f hashes/s %8.1f ns/hash%s\n", "siphash-9B",
	       (double)count / t, t * 1e9 / (double)count, acc ? "" : " ");
}

static struct gate *mk(uint32_t pkt_rate, uint32_t pkt_burst)
{
	struct gate_conf c;
	struct gate *g;
	char err[128];

	gate_conf_default(&c);
	c.pkt_rate = pkt_rate;
	c.pkt_burst = pkt_burst;
	c.byte_rate = 0;
	c.hash_key = bench_key;
	if (gate_new(&g, &c, err, sizeof(err)) != 0) {
		fprintf(stderr, "gate_new: %s\n", err);
		exit(1);
	}
	return g;
}

static struct sg_addr *addrs_new(size_t n, uint32_t base)
{
	struct sg_addr *a = calloc(n, sizeof(*a));
	size_t i;

	if (!a) {
		perror("calloc");
		exit(1);
	}
	for (i = 0; i < n; i++)
		addr4(&a[i], base + (uint32_t)i);
	return a;
}

static void ban_all(struct gate *g, const struct sg_addr *a, size_t n)
{
	struct guard_src s;
	size_t i;

	for (i = 0; i < n; i++) {
		guard_src_from_addr(&s, &a[i]);
		gate_ban(g, &s, GATE_FOREVER, "bench", "bench", 0, 0);
	}
}

int main(int argc, char **argv)
{
	double secs = 1.0, banned;
	struct sg_addr *ban_a, *pass_a, *new_a;
	struct gate *g;
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--time") == 0 && i + 1 < argc) {
			secs = atof(argv[++i]);
		} else {
			fprintf(stderr, "usage: %s [--time seconds]\n",
				argv[0]);
			return 2;
		}
	}
	ban_a = addrs_new(N_BANNED, 0xcb007100); /* 203.0.113.0 + i */
	pass_a = addrs_new(N_PASS, 0x0a000000);  /* 10.0.0.0 + i */
	new_a = addrs_new(N_NEW, 0x64400000);    /* 100.64.0.0 + i */

	g = mk(100, 200);
	ban_all(g, ban_a, N_BANNED);
	/* A populated source table, as under a real load. */
	run(g, pass_a, N_PASS, GATE_PASS, 0.05, "(warm-up)");
	banned = run(g, ban_a, 1, GATE_BANNED, secs, "banned-one");
	run(g, ban_a, N_BANNED, GATE_BANNED, secs, "banned-10k");
	/* Empty one source's limiter, then hammer it. */
	while (gate_check(g, &pass_a[0], 200, 1000) == GATE_PASS)
		;
	run(g, pass_a, 1, GATE_RATE, secs, "rate-one");
	gate_free(g);

	/* Limits high enough that nothing is refused. */
	g = mk(GATE_RATE_MAX, UINT32_MAX);
	run(g, pass_a, N_PASS, GATE_PASS, secs, "pass-50k");
	run(g, new_a, N_NEW, GATE_PASS, secs, "new-1m");
	gate_free(g);
	run_hash(secs);

	free(ban_a);
	free(pass_a);
	free(new_a);
	printf("target: >= 1000000 dropped packets/s per core: %s\n",
	       banned >= 1e6 ? "met" : "NOT met");
	return mem_live() == 0 ? 0 : 1;
}
