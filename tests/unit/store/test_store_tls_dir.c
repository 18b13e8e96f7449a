/*
 * test_store_tls_dir.c - the TLS tunnel's private directories
 * (store_tls_dir.c): made with our pid in the name, mode 0700; the ones
 * a killed daemon left are removed at start, and nothing else is: a
 * live process's (by pid, or by a socket that still answers), another
 * user's, a link, one holding other files, an old-style name without a
 * socket that proves its owner dead.  In a temporary directory of its
 * own, not /tmp; dead pids are children we started and reaped.
 */
#include "test.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/store_tls_int.h"

static char parent[64];

static int setup(void **state)
{
	(void)state;
	snprintf(parent, sizeof(parent), "/tmp/sg-tlsdir-test.XXXXXX");
	return mkdtemp(parent) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	/* Our own directory: whatever a failed test left in it. */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", parent);
	return system(cmd) == 0 ? 0 : -1;
}

/* A pid that was ours and is gone. */
static pid_t dead_pid(void)
{
	pid_t p = fork();

	if (p == 0)
		_exit(0);
	assert_true(p > 0);
	assert_int_equal(waitpid(p, NULL, 0), p);
	return p;
}

/* parent/sipguard-redis-tls.<tail>, made; its path in buf. */
static const char *mk(char *buf, size_t sz, const char *tail)
{
	snprintf(buf, sz, "%s/sipguard-redis-tls.%s", parent, tail);
	assert_int_equal(mkdir(buf, 0700), 0);
	return buf;
}

static const char *mk_pid(char *buf, size_t sz, long pid)
{
	char tail[32];

	snprintf(tail, sizeof(tail), "%ld.AbC123", pid);
	return mk(buf, sz, tail);
}

/* A socket file in dir: listening (its fd returned) or not (closed:
 * connect() is refused, as after a kill). */
static int sock_in(const char *dir, bool listening)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/redis.sock", dir);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	if (listening) {
		assert_int_equal(listen(fd, 4), 0);
		return fd;
	}
	close(fd);
	return -1;
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static int sweep(void)
{
	return store__tls_sweep(parent, geteuid(), geteuid());
}

static void test_mkdir_names_our_pid(void **state)
{
	char dir[128], want[128];
	struct stat st;

	(void)state;
	assert_int_equal(store__tls_mkdir(dir, sizeof(dir), parent), 0);
	snprintf(want, sizeof(want), "%s/sipguard-redis-tls.%ld.", parent,
		 (long)getpid());
	assert_memory_equal(dir, want, strlen(want));
	assert_int_equal(strlen(dir), strlen(want) + 6);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	/* Ours and alive: a sweep keeps it. */
	assert_int_equal(sweep(), 0);
	assert_true(exists(dir));
	/* Too long a parent: refused, no directory. */
	assert_int_equal(store__tls_mkdir(dir, 20, parent), -ENAMETOOLONG);
	assert_string_equal(dir, "");
}

/* Dead pid: removed with or without its (dead) socket. */
static void test_dead_removed(void **state)
{
	char a[128], b[128];

	(void)state;
	mk_pid(a, sizeof(a), dead_pid());
	mk_pid(b, sizeof(b), dead_pid());
	(void)sock_in(b, false);
	assert_int_equal(sweep(), 2);
	assert_false(exists(a));
	assert_false(exists(b));
	assert_int_equal(sweep(), 0);
}

/* Alive by pid, or by a socket that answers (a pid we cannot see): kept. */
static void test_alive_kept(void **state)
{
	char a[128], b[128], c[128];
	int fd;

	(void)state;
	mk_pid(a, sizeof(a), (long)getppid());
	(void)sock_in(a, false);
	mk_pid(b, sizeof(b), (long)getpid());
	mk_pid(c, sizeof(c), dead_pid());
	fd = sock_in(c, true);
	assert_int_equal(sweep(), 0);
	assert_true(exists(a) && exists(b) && exists(c));
	/* Its listener gone, c is stale. */
	close(fd);
	assert_int_equal(sweep(), 1);
	assert_false(exists(c));
}

/* Not a tunnel directory of ours: a link, a file, another prefix,
 * another user's, one holding more than its socket. */
static void test_others_kept(void **state)
{
	char a[128], b[128], c[128], d[128], e[128], f[160];
	int fd;

	(void)state;
	mk_pid(a, sizeof(a), dead_pid());
	snprintf(b, sizeof(b), "%s/sipguard-redis-tls.%ld.LiNk00", parent,
		 (long)dead_pid());
	assert_int_equal(symlink(a, b), 0);
	snprintf(c, sizeof(c), "%s/sipguard-redis-tls.%ld.FiLe00", parent,
		 (long)dead_pid());
	fd = open(c, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	snprintf(d, sizeof(d), "%s/other.%ld.AbC123", parent, (long)dead_pid());
	assert_int_equal(mkdir(d, 0700), 0);
	mk_pid(e, sizeof(e), dead_pid());
	snprintf(f, sizeof(f), "%s/keep.me", e);
	fd = open(f, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	/* Owned by uids we do not create them as: a kept, e kept anyway. */
	assert_int_equal(store__tls_sweep(parent, geteuid() + 1, geteuid() + 2),
			 0);
	assert_true(exists(a));
	/* Ours: a goes; the link, the file, the other name, e's file stay. */
	assert_int_equal(sweep(), 0 + 1);
	assert_false(exists(a));
	assert_true(exists(b) && exists(c) && exists(d) && exists(e) &&
		    exists(f));
}

/* The old name (no pid): only a refused socket proves its owner dead. */
static void test_old_name(void **state)
{
	char a[128], b[128], c[128];
	int fd;

	(void)state;
	mk(a, sizeof(a), "Old001");
	mk(b, sizeof(b), "Old002");
	(void)sock_in(b, false);
	mk(c, sizeof(c), "Old003");
	fd = sock_in(c, true);
	assert_int_equal(sweep(), 1);
	assert_true(exists(a));
	assert_false(exists(b));
	assert_true(exists(c));
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_mkdir_names_our_pid, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_dead_removed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_alive_kept, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_others_kept, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_old_name, setup, teardown),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	assert_no_leaks();
	return rc;
}
