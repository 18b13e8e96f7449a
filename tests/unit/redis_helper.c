/*
 * redis_helper.c - start and stop a real redis-server for the unit tests
 * that need one (see redis_helper.h).  Stopped only by the pid we
 * started, never by name.
 */
#include "redis_helper.h"

#include "test.h"

#include <signal.h>
#include <stdio.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/loop.h"
#include "store/store.h"

static pid_t redis_pid;

int redis_helper_start(const char *port)
{
	if (access(REDIS_HELPER_BIN, X_OK) != 0)
		return 0;
	redis_pid = fork();
	if (redis_pid == 0) {
		if (!freopen("/dev/null", "w", stdout))
			_exit(126);
		execl(REDIS_HELPER_BIN, REDIS_HELPER_BIN, "--port", port,
		      "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		      "--loglevel", "warning", (char *)NULL);
		_exit(127);
	}
	return redis_pid > 0 ? 0 : -1;
}

int redis_helper_stop(void **state)
{
	(void)state;
	if (redis_pid > 0) {
		kill(redis_pid, SIGTERM);
		waitpid(redis_pid, NULL, 0);
		redis_pid = 0;
	}
	return 0;
}

bool redis_helper_running(void)
{
	return redis_pid > 0;
}

bool redis_helper_spin(struct loop *l, const int *what, int want)
{
	int i;

	for (i = 0; i < 300 && *what < want; i++)
		(void)loop_run_once(l, 10);
	return *what >= want;
}

struct loop *redis_helper_loop(void)
{
	struct loop *l = NULL;

	if (!redis_helper_running())
		skip();
	assert_int_equal(loop_new(&l), 0);
	return l;
}

void redis_helper_store_conf(struct store_conf *c, const char *port, bool redis,
			     const char *name, const char *prefix)
{
	static char addr[32];

	store_conf_default(c);
	c->backend = redis ? STORE_REDIS : STORE_MEMORY;
	snprintf(addr, sizeof(addr), "127.0.0.1:%s", port);
	c->address = addr;
	c->instance = name;
	c->key_prefix = prefix;
}
