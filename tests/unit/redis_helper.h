/*
 * redis_helper.h - a real redis-server (Debian's) for the unit tests
 * that need one: started on 127.0.0.1:<port> as a cmocka group setup,
 * stopped by pid in the group teardown, and the bounded wait for an
 * asynchronous answer those tests share.  Linked by the tests that list
 * $(BUILD)/tests/unit/redis_helper.o as a prerequisite in their .mk.
 *
 * Usage, with the test's own fixed port:
 *   static int start_redis(void **state)
 *   {
 *           (void)state;
 *           return redis_helper_start("34380");
 *   }
 *   ...
 *   struct loop *l = redis_helper_loop();      (skips without a server)
 *   struct store_conf c;
 *   redis_helper_store_conf(&c, "34380", true, "inst-a", "prefix:");
 *   ...
 *   cmocka_run_group_tests(tests, start_redis, redis_helper_stop);
 */
#ifndef SIPGUARD_TESTS_REDIS_HELPER_H
#define SIPGUARD_TESTS_REDIS_HELPER_H

#include <stdbool.h>

struct loop;
struct store_conf;

#define REDIS_HELPER_BIN "/usr/bin/redis-server"

/* Start redis-server on 127.0.0.1:port (no persistence, quiet) without
 * waiting for it: the tests' clients retry until it answers.  0 also
 * when the binary is not installed (redis_helper_running() is then
 * false and the tests skip); -1 when fork() fails. */
int redis_helper_start(const char *port);

/* cmocka group teardown: SIGTERM the server we started and reap it. */
int redis_helper_stop(void **state);

/* Did redis_helper_start() start a server? */
bool redis_helper_running(void);

/* A new loop for a test that needs the server: skips the test (cmocka
 * skip()) when none was started. */
struct loop *redis_helper_loop(void);

/* store_conf defaults for one instance of a test: the Redis backend on
 * 127.0.0.1:port (the memory backend when !redis), the instance's name
 * and key prefix (both kept by pointer: string literals). */
void redis_helper_store_conf(struct store_conf *c, const char *port, bool redis,
			     const char *name, const char *prefix);

/* Run l's loop (10 ms turns, 300 at most) until *what >= want. */
bool redis_helper_spin(struct loop *l, const int *what, int want);

#endif
