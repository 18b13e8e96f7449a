/*
 * test_ports.c - relay port pairs (media/ports.c) and the SPSC ring
 * (media/ring.c): random even ports inside the range, no pair twice,
 * quarantine with a fake clock, exhaustion, ring order and capacity,
 * and a two-thread ring run.
 */
#include <pthread.h>

#include "test.h"

#include "media/media_int.h"

static void test_pairs(void **state)
{
	struct media_ports pp;
	uint8_t seen[64] = {0};
	uint16_t port, first = 0;
	bool differs = false;
	unsigned i;

	(void)state;
	assert_int_equal(media__ports_init(&pp, 40001, 40100, 5000, 7), 0);
	assert_int_equal(pp.npairs, 49); /* 40002..40099 */
	for (i = 0; i < 49; i++) {
		assert_int_equal(media__ports_get(&pp, 1000, &port), 0);
		assert_true(port >= 40002 && port <= 40098);
		assert_int_equal(port % 2, 0);
		assert_int_equal(seen[(port - 40002) / 2], 0);
		seen[(port - 40002) / 2] = 1;
		if (i == 0)
			first = port;
		else if (i < 4 && port != first + 2 * i)
			differs = true;
	}
	assert_true(differs); /* not sequential */
	assert_int_equal(media__ports_get(&pp, 1000, &port), -EAGAIN);
	/* Back, but quarantined for 5 s. */
	media__ports_put(&pp, first, 2000);
	media__ports_put(&pp, first, 2000); /* twice: no effect */
	assert_int_equal(pp.used, 48);
	assert_int_equal(media__ports_get(&pp, 6999, &port), -EAGAIN);
	assert_int_equal(media__ports_get(&pp, 7001, &port), 0);
	assert_int_equal(port, first);
	/* Outside the range: ignored. */
	media__ports_put(&pp, 12, 0);
	media__ports_put(&pp, 50000, 0);
	assert_int_equal(pp.used, 49);
	media__ports_skip(&pp, first, 7001);
	assert_int_equal(media__ports_get(&pp, 8000, &port), -EAGAIN);
	media__ports_fini(&pp);
	assert_int_equal(media__ports_init(&pp, 40001, 40002, 0, 1), -EINVAL);
	assert_int_equal(media__ports_init(&pp, 40000, 40001, 0, 1), 0);
	assert_int_equal(media__ports_get(&pp, 0, &port), 0);
	assert_int_equal(port, 40000);
	media__ports_fini(&pp);
}

static void test_ring_basic(void **state)
{
	struct media_ring r;
	uint32_t v;
	unsigned i;

	(void)state;
	assert_int_equal(media__ring_init(&r, 3, 4), -EINVAL);
	assert_int_equal(media__ring_init(&r, 4, sizeof(uint32_t)), 0);
	assert_false(media__ring_pop(&r, &v));
	for (i = 0; i < 4; i++)
		assert_true(media__ring_push(&r, &i));
	assert_false(media__ring_push(&r, &i)); /* full */
	for (i = 0; i < 4; i++) {
		assert_true(media__ring_pop(&r, &v));
		assert_int_equal(v, i);
	}
	assert_false(media__ring_pop(&r, &v));
	media__ring_fini(&r);
}

enum { RING_N = 200000 };

static void *producer(void *arg)
{
	struct media_ring *r = arg;
	uint32_t i;

	for (i = 0; i < RING_N; i++)
		while (!media__ring_push(r, &i))
			;
	return NULL;
}

static void test_ring_threads(void **state)
{
	struct media_ring r;
	pthread_t th;
	uint32_t v, want = 0;

	(void)state;
	assert_int_equal(media__ring_init(&r, 64, sizeof(uint32_t)), 0);
	assert_int_equal(pthread_create(&th, NULL, producer, &r), 0);
	while (want < RING_N)
		if (media__ring_pop(&r, &v)) {
			assert_int_equal(v, want);
			want++;
		}
	pthread_join(th, NULL);
	media__ring_fini(&r);
}

static void test_ep(void **state)
{
	struct media_ep e = {.af = AF_INET, .ip = {10, 1, 2, 3}};
	struct media_ep f = e;
	struct sg_addr a;

	(void)state;
	assert_true(media__ep_private(&e));
	e.ip[0] = 192;
	e.ip[1] = 168;
	assert_true(media__ep_private(&e));
	e.ip[0] = 172;
	e.ip[1] = 31;
	assert_true(media__ep_private(&e));
	e.ip[1] = 32;
	assert_false(media__ep_private(&e));
	e.ip[0] = 100;
	e.ip[1] = 64;
	assert_true(media__ep_private(&e));
	e.ip[0] = 127;
	e.ip[1] = 0;
	assert_false(media__ep_private(&e));
	e.port = 4000;
	media__ep_to_addr(&a, &e);
	media__ep_from_addr(&f, &a);
	assert_true(media__ep_eq(&e, &f));
	f.port = 4001;
	assert_false(media__ep_eq(&e, &f));
	assert_true(media__ep_ip_eq(&e, &f));
	memset(&e, 0, sizeof(e));
	e.af = AF_INET6;
	e.ip[0] = 0xfd;
	assert_true(media__ep_private(&e));
	e.ip[0] = 0x20;
	assert_false(media__ep_private(&e));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pairs),
		cmocka_unit_test(test_ring_basic),
		cmocka_unit_test(test_ring_threads),
		cmocka_unit_test(test_ep),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	assert_no_leaks();
	return rc;
}
