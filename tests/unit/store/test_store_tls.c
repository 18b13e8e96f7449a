/*
 * test_store_tls.c - store.tls: the TLS tunnel (store_tls.c) against a
 * real redis-server with TLS only (--port 0 --tls-port 39010,
 * tls-auth-clients yes), started here and stopped by pid, with a CA,
 * server and client certificates made here by the openssl CLI.  Skipped
 * when redis-server or openssl is missing.
 *
 * The tunnel is driven the way hiredis drives it: plain RESP on its unix
 * socket.  Checked: bytes both ways (a value far larger than the
 * tunnel's buffers, so back-pressure runs), a wrong CA, a wrong name, no
 * client certificate, Redis down, a peer that is not this process, and
 * two stores sharing a ban over TLS; a reload of renewed files (used by
 * the next connection, the open one kept; bad files refused, the running
 * ones kept); then the configuration's checks.
 * Waits are bounded (socket timeouts, loop turns).
 */
#include "test.h"

#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/conf.h"
#include "core/loop.h"
#include "store/store_int.h"

#define REDIS_BIN   "/usr/bin/redis-server"
#define OPENSSL_BIN "/usr/bin/openssl"
#define TLS_PORT    39010
#define DEAD_PORT   39011

static pid_t redis_pid;
static char dir[64];
static char ca[128], srv_crt[128], srv_key[128], cli_crt[128], cli_key[128],
	other_ca[128];

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

/* A CA, a server certificate for redis.test and 127.0.0.1, a client
 * certificate, and a CA of the same name that signed none of them. */
static int make_certs(void)
{
	snprintf(dir, sizeof(dir), "/tmp/sg-stls-unit.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(ca, sizeof(ca), "%s/ca.crt", dir);
	snprintf(other_ca, sizeof(other_ca), "%s/other.crt", dir);
	snprintf(srv_crt, sizeof(srv_crt), "%s/srv.crt", dir);
	snprintf(srv_key, sizeof(srv_key), "%s/srv.key", dir);
	snprintf(cli_crt, sizeof(cli_crt), "%s/cli.crt", dir);
	snprintf(cli_key, sizeof(cli_key), "%s/cli.key", dir);
	return sh(
		"cd %s && exec >/dev/null 2>&1 && "
		"N='-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes' && "
		"%s req -x509 $N -keyout ca.key -out ca.crt -days 2 "
		"-subj /CN=unit-ca && "
		"%s req -x509 $N -keyout other.key -out other.crt -days 2 "
		"-subj /CN=unit-ca && "
		"%s req $N -keyout srv.key -out srv.csr -subj /CN=redis.test && "
		"echo subjectAltName=DNS:redis.test,IP:127.0.0.1 > srv.ext && "
		"%s x509 -req -in srv.csr -CA ca.crt -CAkey ca.key "
		"-CAcreateserial -out srv.crt -days 2 -extfile srv.ext && "
		"%s req $N -keyout cli.key -out cli.csr -subj /CN=sipguard && "
		"%s x509 -req -in cli.csr -CA ca.crt -CAkey ca.key "
		"-CAcreateserial -out cli.crt -days 2",
		dir, OPENSSL_BIN, OPENSSL_BIN, OPENSSL_BIN, OPENSSL_BIN,
		OPENSSL_BIN, OPENSSL_BIN);
}

static bool tcp_up(int port)
{
	struct sockaddr_in sa = {
		.sin_family = AF_INET,
		.sin_port = htons((uint16_t)port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok =
		fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;

	if (fd >= 0)
		close(fd);
	return ok;
}

static int start_redis(void **state)
{
	char port[8];
	int i;

	(void)state;
	if (access(REDIS_BIN, X_OK) != 0 || access(OPENSSL_BIN, X_OK) != 0 ||
	    make_certs() != 0)
		return 0;
	snprintf(port, sizeof(port), "%d", TLS_PORT);
	redis_pid = fork();
	if (redis_pid == 0) {
		if (!freopen("/dev/null", "w", stdout))
			_exit(126);
		execl(REDIS_BIN, REDIS_BIN, "--port", "0", "--tls-port", port,
		      "--bind", "127.0.0.1", "--tls-cert-file", srv_crt,
		      "--tls-key-file", srv_key, "--tls-ca-cert-file", ca,
		      "--tls-auth-clients", "yes", "--save", "", "--appendonly",
		      "no", "--loglevel", "warning", (char *)NULL);
		_exit(127);
	}
	/* Bounded: redis-server listens within milliseconds. */
	for (i = 0; i < 250 && redis_pid > 0 && !tcp_up(TLS_PORT); i++)
		usleep(20000);
	return redis_pid > 0 ? 0 : -1;
}

static int stop_redis(void **state)
{
	(void)state;
	if (redis_pid > 0) {
		kill(redis_pid, SIGTERM);
		waitpid(redis_pid, NULL, 0);
	}
	if (dir[0])
		(void)sh("rm -rf %s", dir);
	return 0;
}

static struct store_tls_conf tconf(int port)
{
	struct store_tls_conf c = {
		.host = "127.0.0.1",
		.port = port,
		.ca_file = ca,
		.cert_file = cli_crt,
		.key_file = cli_key,
		.timeout_ms = 2000,
		.run_uid = -1,
		.run_gid = -1,
	};

	return c;
}

/* A blocking connection to the tunnel, as hiredis makes one. */
static int dial(const struct store_tls *t)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = 5};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", store__tls_path(t));
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

static void send_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n) {
		w = send(fd, p, n, MSG_NOSIGNAL);
		assert_true(w > 0);
		p += w;
		n -= (size_t)w;
	}
}

/* Read exactly n bytes; the count read before EOF or a timeout. */
static size_t recv_n(int fd, char *p, size_t n)
{
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		r = recv(fd, p + got, n - got, 0);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	return got;
}

/* PING answered through the tunnel: true; closed: false. */
static bool ping(const struct store_tls *t)
{
	char buf[8] = "";
	int fd = dial(t);
	size_t n;

	/* A refused connection may be closed before the PING is sent. */
	n = send(fd, "PING\r\n", 6, MSG_NOSIGNAL) == 6 ? recv_n(fd, buf, 7) : 0;
	close(fd);
	return n == 7 && !memcmp(buf, "+PONG\r\n", 7);
}

static void test_bytes_both_ways(void **state)
{
	struct store_tls_conf c = tconf(TLS_PORT);
	enum { BIG = 300000 }; /* many times the tunnel's buffers */
	char hdr[64], *val, *back;
	uint64_t ok, bad, refused;
	struct store_tls *t;
	char err[256] = "";
	int fd, i, hl;

	(void)state;
	if (redis_pid <= 0)
		skip();
	assert_int_equal(store__tls_new(&t, &c, err, sizeof(err)), 0);
	assert_string_equal(store__tls_target(t), "tls:127.0.0.1:39010");
	assert_true(ping(t));
	val = malloc(BIG);
	back = malloc(BIG + 64);
	assert_non_null(val);
	assert_non_null(back);
	for (i = 0; i < BIG; i++)
		val[i] = (char)('a' + i % 26);
	fd = dial(t);
	hl = snprintf(hdr, sizeof(hdr),
		      "*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$%d\r\n", BIG);
	send_all(fd, hdr, (size_t)hl);
	send_all(fd, val, BIG);
	send_all(fd, "\r\n*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n", 24);
	hl = snprintf(hdr, sizeof(hdr), "+OK\r\n$%d\r\n", BIG);
	assert_int_equal(recv_n(fd, back, (size_t)hl + BIG + 2),
			 (size_t)hl + BIG + 2);
	assert_memory_equal(back, hdr, (size_t)hl);
	assert_memory_equal(back + hl, val, BIG);
	close(fd);
	/* Three connections at once, each its own TLS session. */
	for (i = 0; i < 3; i++)
		assert_true(ping(t));
	store__tls_stats(t, &ok, &bad, &refused);
	assert_true(ok >= 5);
	assert_int_equal(bad, 0);
	free(val);
	free(back);
	store__tls_free(t);
}

struct refusal {
	const char *what;
	const char *ca;
	const char *name;
	bool no_cert;
	int port;
};

static void test_refused(void **state)
{
	static const struct refusal cases[] = {
		{"wrong CA", other_ca, NULL, false, TLS_PORT},
		{"wrong name", ca, "wrong.test", false, TLS_PORT},
		{"wrong IP", ca, "127.0.0.2", false, TLS_PORT},
		{"no client certificate", ca, NULL, true, TLS_PORT},
		{"redis down", ca, NULL, false, DEAD_PORT},
	};
	uint64_t ok, bad, refused;
	struct store_tls *t;
	char err[256] = "";
	size_t i;

	(void)state;
	if (redis_pid <= 0)
		skip();
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct store_tls_conf c = tconf(cases[i].port);

		c.ca_file = cases[i].ca;
		c.server_name = cases[i].name;
		if (cases[i].no_cert)
			c.cert_file = c.key_file = NULL;
		assert_int_equal(store__tls_new(&t, &c, err, sizeof(err)), 0);
		if (ping(t))
			fail_msg("%s: answered", cases[i].what);
		store__tls_stats(t, &ok, &bad, &refused);
		/* TLS 1.3: a missing client certificate is refused by the
		 * server after our side has finished. */
		if (!cases[i].no_cert && (ok != 0 || bad != 1))
			fail_msg("%s: ok %llu failed %llu", cases[i].what,
				 (unsigned long long)ok,
				 (unsigned long long)bad);
		store__tls_free(t);
	}
}

static void test_right_name(void **state)
{
	struct store_tls_conf c = tconf(TLS_PORT);
	struct store_tls *t;
	char err[256] = "";

	(void)state;
	if (redis_pid <= 0)
		skip();
	c.server_name = "redis.test"; /* a DNS name: SNI and host check */
	assert_int_equal(store__tls_new(&t, &c, err, sizeof(err)), 0);
	assert_true(ping(t));
	store__tls_free(t);
}

/* The child's probe: no cmocka asserts (a failure would go on running
 * the tests in the child).  Answered: 1; refused: 0. */
static int child_ping(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = 5};
	char buf[8];
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ssize_t n = -1;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		return 0;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (send(fd, "PING\r\n", 6, MSG_NOSIGNAL) == 6)
		n = recv(fd, buf, sizeof(buf), 0);
	close(fd);
	return n > 0;
}

/* Another process (a child) reaching the socket is closed at once. */
static void test_foreign_peer(void **state)
{
	struct store_tls_conf c = tconf(TLS_PORT);
	uint64_t ok, bad, refused;
	struct store_tls *t;
	char err[256] = "";
	int st = -1;
	pid_t pid;

	(void)state;
	if (redis_pid <= 0)
		skip();
	assert_int_equal(store__tls_new(&t, &c, err, sizeof(err)), 0);
	pid = fork();
	if (pid == 0)
		_exit(child_ping(store__tls_path(t)));
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	store__tls_stats(t, &ok, &bad, &refused);
	assert_int_equal(refused, 1);
	assert_int_equal(ok, 0);
	assert_true(ping(t));
	store__tls_free(t);
}

static void test_bad_files(void **state)
{
	struct store_tls_conf c = tconf(TLS_PORT);
	struct store_tls *t = NULL;
	char err[256] = "";

	(void)state;
	if (redis_pid <= 0)
		skip();
	c.ca_file = "/nonexistent/ca.pem";
	assert_int_equal(store__tls_new(&t, &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "/nonexistent/ca.pem"));
	assert_null(t);
	c = tconf(TLS_PORT);
	c.key_file = srv_key; /* not the key of cli_crt */
	assert_int_equal(store__tls_new(&t, &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "tls_key"));
	c = tconf(0);
	assert_int_equal(store__tls_new(&t, &c, err, sizeof(err)), -EINVAL);
}

/* ------------------------------------------------------ reload */

/* Put src's certificate and key in place as the live files. */
static void install(const char *crt, const char *key, const char *live_crt,
		    const char *live_key)
{
	assert_int_equal(
		sh("cp %s %s && cp %s %s", crt, live_crt, key, live_key), 0);
}

/* PING on an open tunnelled connection. */
static bool ping_on(int fd)
{
	char buf[8] = "";

	return send(fd, "PING\r\n", 6, MSG_NOSIGNAL) == 6 &&
	       recv_n(fd, buf, 7) == 7 && !memcmp(buf, "+PONG\r\n", 7);
}

/*
 * The operator renews the client certificate: the reload reads the
 * files again and the next connection uses them (a certificate of
 * another CA, which Redis refuses, shows it); the connection open before
 * is kept; a key that is not the certificate's, or a file that is not
 * PEM, is refused and the running files stay in use.
 */
static void test_reload(void **state)
{
	struct store_tls_conf c = tconf(TLS_PORT);
	char lcrt[160], lkey[160], crt2[160], key2[160], rcrt[160], rkey[160];
	char err[320] = "", info[128] = "";
	struct store_tls *t = NULL;
	int fd;

	(void)state;
	if (redis_pid <= 0)
		skip();
	snprintf(lcrt, sizeof(lcrt), "%s/live.crt", dir);
	snprintf(lkey, sizeof(lkey), "%s/live.key", dir);
	snprintf(crt2, sizeof(crt2), "%s/cli2.crt", dir);
	snprintf(key2, sizeof(key2), "%s/cli2.key", dir);
	snprintf(rcrt, sizeof(rcrt), "%s/rogue.crt", dir);
	snprintf(rkey, sizeof(rkey), "%s/rogue.key", dir);
	/* A renewal by the same CA; one by a CA Redis does not trust. */
	assert_int_equal(
		sh("cd %s && exec >/dev/null 2>&1 && "
		   "N='-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes' && "
		   "%s req $N -keyout cli2.key -out cli2.csr -subj /CN=sg2 && "
		   "%s x509 -req -in cli2.csr -CA ca.crt -CAkey ca.key "
		   "-CAcreateserial -out cli2.crt -days 30 && "
		   "%s req $N -keyout rogue.key -out rogue.csr -subj /CN=sg && "
		   "%s x509 -req -in rogue.csr -CA other.crt -CAkey other.key "
		   "-CAcreateserial -out rogue.crt -days 2",
		   dir, OPENSSL_BIN, OPENSSL_BIN, OPENSSL_BIN, OPENSSL_BIN),
		0);
	install(cli_crt, cli_key, lcrt, lkey);
	c.cert_file = lcrt;
	c.key_file = lkey;
	assert_int_equal(store__tls_new(&t, &c, err, sizeof(err)), 0);
	assert_true(ping(t));
	fd = dial(t);
	assert_true(ping_on(fd));
	/* Renewed by the same CA: the next connection answers. */
	install(crt2, key2, lcrt, lkey);
	assert_int_equal(
		store__tls_reload(t, info, sizeof(info), err, sizeof(err)), 0);
	assert_non_null(strstr(info, "client certificate valid until"));
	assert_true(ping(t));
	/* A key that is not the certificate's: refused, nothing changes. */
	install(crt2, cli_key, lcrt, lkey);
	assert_int_equal(store__tls_reload(t, NULL, 0, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "tls_key"));
	assert_non_null(strstr(err, lkey));
	assert_true(ping(t));
	/* Not PEM at all: the same. */
	assert_int_equal(sh("echo x > %s", lcrt), 0);
	assert_int_equal(store__tls_reload(t, NULL, 0, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "tls_cert"));
	assert_true(ping(t));
	/* Another CA's certificate loads, and Redis refuses it: the new
	 * files are what the next connection presents.  The connection
	 * made before every reload is still up. */
	install(rcrt, rkey, lcrt, lkey);
	assert_int_equal(store__tls_reload(t, NULL, 0, err, sizeof(err)), 0);
	assert_false(ping(t));
	assert_true(ping_on(fd));
	/* Two reloads before a connection: the last one wins (the first,
	 * never taken, is freed: ASan's leak check). */
	assert_int_equal(store__tls_reload(t, NULL, 0, err, sizeof(err)), 0);
	install(crt2, key2, lcrt, lkey);
	assert_int_equal(store__tls_reload(t, NULL, 0, err, sizeof(err)), 0);
	assert_true(ping(t));
	assert_true(ping_on(fd));
	close(fd);
	assert_int_equal(store__tls_reload(NULL, NULL, 0, err, sizeof(err)),
			 -EINVAL);
	/* A reloaded context not yet taken when the tunnel stops. */
	assert_int_equal(store__tls_reload(t, NULL, 0, err, sizeof(err)), 0);
	store__tls_free(t);
}

/* ------------------------------------------- two stores over TLS */

struct seen {
	int bans, resyncs;
	struct store_ban last;
};

static void ev_ban(void *arg, const struct store_ban *b)
{
	struct seen *s = arg;

	s->bans++;
	s->last = *b;
}

static void ev_unban(void *arg, const char *key)
{
	(void)arg;
	(void)key;
}

static void ev_resync(void *arg)
{
	struct seen *s = arg;

	s->resyncs++;
}

static bool spin(struct loop *l, const int *what, int want)
{
	int i;

	for (i = 0; i < 300 && *what < want; i++)
		(void)loop_run_once(l, 10);
	return *what >= want;
}

static struct store *mk(struct loop *l, const char *name, struct seen *sn)
{
	struct store_events ev = {ev_ban, ev_unban, ev_resync, sn};
	struct store_conf c;
	struct store *s;
	char err[256] = "";

	store_conf_default(&c);
	c.backend = STORE_REDIS;
	c.address = "127.0.0.1:39010";
	c.instance = name;
	c.key_prefix = "unit-tls:";
	c.tls = true;
	c.tls_ca = ca;
	c.tls_cert = cli_crt;
	c.tls_key = cli_key;
	assert_int_equal(store_new(&s, l, &c, err, sizeof(err)), 0);
	store_set_events(s, &ev);
	assert_true(store_load(s) >= 0);
	assert_int_equal(store_start(s), 0);
	assert_true(spin(l, &sn->resyncs, 1));
	return s;
}

static void test_stores_share_a_ban(void **state)
{
	struct seen sa = {0}, sb = {0};
	struct store *s1, *s2;
	struct store_conf c;
	struct store_ban b;
	struct loop *l;
	char err[256] = "";

	(void)state;
	if (redis_pid <= 0)
		skip();
	assert_int_equal(loop_new(&l), 0);
	s1 = mk(l, "one", &sa);
	s2 = mk(l, "two", &sb);
	assert_true(store_connected(s1) && store_connected(s2));
	memset(&b, 0, sizeof(b));
	snprintf(b.key, sizeof(b.key), "203.0.113.9");
	snprintf(b.rule, sizeof(b.rule), "unit");
	b.start_wall_ms = store__wall_ms();
	b.expires_wall_ms = b.start_wall_ms + 60000;
	assert_int_equal(store_ban_put(s1, &b), 0);
	assert_true(spin(l, &sb.bans, 1));
	assert_string_equal(sb.last.key, "203.0.113.9");
	store_free(s1);
	store_free(s2);
	/* TLS and a unix socket do not go together. */
	store_conf_default(&c);
	c.backend = STORE_REDIS;
	c.address = "unix:/tmp/redis.sock";
	c.instance = "three";
	c.tls = true;
	assert_int_equal(store_new(&s1, l, &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "unix"));
	loop_free(l);
}

/* ------------------------------------------------ configuration */

#define ZONES                    \
	"zones:\n"               \
	"  - name: a\n"          \
	"    trust: untrusted\n" \
	"    listen: [udp:127.0.0.1:5060]\n"

struct conf_case {
	const char *store; /* the store section's body */
	const char *error; /* NULL: loads; else a part of the error */
};

static void test_conf(void **state)
{
	char good[512], ucase[512], keyless[512], text[2048];
	char err[CONF_ERR_LEN];
	struct sg_conf *cf;
	size_t i;

	(void)state;
	snprintf(good, sizeof(good),
		 "  backend: redis\n  address: 127.0.0.1:6380\n  tls: true\n"
		 "  tls_ca: /etc/hostname\n  tls_cert: /etc/hostname\n"
		 "  tls_key: /etc/hostname\n  tls_server_name: redis.test\n");
	snprintf(
		ucase, sizeof(ucase),
		"  backend: redis\n  address: unix:/run/r.sock\n  tls: true\n");
	snprintf(keyless, sizeof(keyless),
		 "  backend: redis\n  tls: true\n  tls_cert: /etc/hostname\n");
	{
		const struct conf_case cases[] = {
			{good, NULL},
			{"  backend: redis\n  tls: true\n", NULL},
			{ucase, "not with a unix: address"},
			{keyless, "tls_cert and tls_key go together"},
			{"  tls: true\n  tls_key: /etc/hostname\n",
			 "tls_cert and tls_key go together"},
			{"  tls: true\n  tls_ca: /nonexistent/ca.pem\n",
			 "/nonexistent/ca.pem: No such file"},
			{"  tls_ca: /etc/hostname\n", "need tls: true"},
			{"  tls_server_name: x.test\n", "need tls: true"},
		};

		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			snprintf(text, sizeof(text), ZONES "store:\n%s",
				 cases[i].store);
			cf = NULL;
			err[0] = '\0';
			if (conf_load_str(&cf, "t.yaml", text, strlen(text),
					  err, sizeof(err)) == 0) {
				if (cases[i].error)
					fail_msg("case %zu loaded", i);
				assert_true(cf->store.tls);
				conf_free(cf);
				continue;
			}
			if (!cases[i].error || !strstr(err, cases[i].error))
				fail_msg("case %zu: %s", i, err);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bytes_both_ways),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_right_name),
		cmocka_unit_test(test_foreign_peer),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_reload),
		cmocka_unit_test(test_stores_share_a_ban),
		cmocka_unit_test(test_conf),
	};
	int rc;

	signal(SIGPIPE, SIG_IGN);
	rc = cmocka_run_group_tests(tests, start_redis, stop_redis);
	assert_no_leaks();
	return rc;
}
