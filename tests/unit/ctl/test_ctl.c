/*
 * test_ctl.c - the control socket server, end to end over a real UNIX
 * socket on a real loop with a fake clock and a fake backend: every
 * command's exact JSON answer, hostile bytes in answers made valid UTF-8
 * and escaped, bad requests (malformed JSON with offsets, unknown
 * command or member, wrong type, duplicates) answered while the
 * connection stays usable, the old line form refused, pipelined requests, a
 * last request without LF, oversize requests, large answers written under
 * back-pressure, answers over the cap, peer-credential refusal, connection
 * caps, idle timeout, socket mode and stale/live/foreign files at the socket
 * path, leak check.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include "test.h"
#include "core/loop.h"
#include "ctl/ctl.h"
#include "events/events.h"

/* ---------------------------------------------------------- fake daemon */

enum { FAKE_BANS = 4 };

struct fake {
	struct ctl_ban bans[FAKE_BANS];
	char reasons[FAKE_BANS][CTL_REASON_MAX + 8];
	unsigned nbans;
	unsigned gen; /* list this many generated bans instead */
	int fail;     /* list_bans returns this */
	bool misuse;  /* list_bans writes a rule item */
	struct rules *rules;
	struct evlog *evlog; /* stats from it when set */
	struct ctl_req last;
};

static int f_list_bans(void *arg, struct ctl_out *o)
{
	struct fake *f = arg;
	struct ctl_ban b = {.remaining_ms = 1500, .rule = "scanner-ua"};
	struct ctl_rule r = {.name = "x"};
	unsigned i;
	int err;

	if (f->fail)
		return f->fail;
	if (f->misuse)
		return ctl_out_rule(o, &r);
	for (i = 0; i < f->gen; i++) {
		b.addr.len = sizeof(b.addr.u.in);
		b.addr.u.in.sin_family = AF_INET;
		b.addr.u.in.sin_addr.s_addr = htonl(0x0a000000u + i);
		b.hits = i;
		if ((err = ctl_out_ban(o, &b)))
			return err;
	}
	for (i = 0; i < f->nbans; i++)
		if ((err = ctl_out_ban(o, &f->bans[i])))
			return err;
	return 0;
}

static int f_ban(void *arg, const struct ctl_req *rq)
{
	struct fake *f = arg;
	struct ctl_ban *b;

	f->last = *rq;
	if (f->nbans == FAKE_BANS)
		return -ENOSPC;
	b = &f->bans[f->nbans];
	memset(b, 0, sizeof(*b));
	b->addr = rq->addr;
	b->plen = rq->plen;
	b->remaining_ms = rq->seconds ? rq->seconds * 1000ULL : CTL_BAN_FOREVER;
	memcpy(f->reasons[f->nbans], rq->reason, strlen(rq->reason));
	b->reason = str_make(f->reasons[f->nbans], strlen(rq->reason));
	f->nbans++;
	return 0;
}

static int f_unban(void *arg, const struct ctl_req *rq)
{
	struct fake *f = arg;
	unsigned i;

	f->last = *rq;
	for (i = 0; i < f->nbans; i++)
		if (sg_addr_ip_eq(&f->bans[i].addr, &rq->addr) &&
		    f->bans[i].plen == rq->plen)
			break;
	if (i == f->nbans)
		return -ENOENT;
	f->bans[i] = f->bans[--f->nbans];
	return 0;
}

static int f_list_rules(void *arg, struct ctl_out *o)
{
	struct fake *f = arg;

	return ctl_out_rules(o, f->rules);
}

static int f_set_monitor(void *arg, const struct ctl_req *rq)
{
	struct fake *f = arg;
	int id;

	if (rq->all) {
		rules_set_global_monitor(f->rules, rq->on);
		return 0;
	}
	id = rules_find(f->rules, str_cstr(rq->rule));
	return id < 0 ? id : rules_set_monitor(f->rules, id, rq->on);
}

static int f_stats(void *arg, struct ctl_out *o)
{
	struct fake *f = arg;

	if (f->evlog)
		return ctl_out_evlog_stats(o, f->evlog);
	if (ctl_out_stat(o, "events", 12) || ctl_out_stat(o, "bans.active", 1))
		return -ENOSPC;
	return ctl_out_stat(o, "Bad Name", 1) == -EINVAL ? 0 : -EIO;
}

static int f_list_calls(void *arg, struct ctl_out *o)
{
	struct sg_addr a;
	struct ctl_call c = {
		.call_id = STR("c1\"x\x80\t"),
		.caller = STR("sip:a@x"),
		.callee = STR("sip:b@y"),
		.caller_addr = &a,
		.caller_zone = "internet",
		.state = "confirmed",
		.duration_ms = 61500,
		.answered_ms = 999,
	};

	struct ctl_call m = {
		.call_id = STR("c2"),
		.state = "early",
		.media = true,
		.media_pkts = {30, 20},
		.media_bytes = {5160, 3440},
		.media_dropped = {10, 0},
	};
	int err;

	(void)arg;
	assert_int_equal(sg_addr_parse(&a, STR("192.0.2.1:5060"), 0), 0);
	if ((err = ctl_out_call(o, &c)))
		return err;
	return ctl_out_call(o, &m);
}

static int f_list_held(void *arg, struct ctl_out *o)
{
	struct ctl_held b = {STR("alice"), "fraud-short-calls", true, 3599001};
	struct ctl_held t = {STR("b\x01\xff"), "fraud-cluster", false, 999};
	int err;

	(void)arg;
	if ((err = ctl_out_held(o, &b)))
		return err;
	return ctl_out_held(o, &t);
}

static char unblocked[CTL_USER_MAX + 1];

static int f_unblock(void *arg, const struct ctl_req *rq)
{
	(void)arg;
	if (strcmp(rq->user, "alice"))
		return -ENOENT;
	snprintf(unblocked, sizeof(unblocked), "%s", rq->user);
	return 0;
}

static bool drained;

static int f_drain(void *arg, const struct ctl_req *rq)
{
	(void)arg;
	drained = rq->on;
	return 0;
}

/* Odd calls fail with the loader's text, even ones succeed. */
static int f_reload(void *arg, char *err, size_t errsz)
{
	static unsigned n;

	(void)arg;
	if (n++ % 2)
		return 0;
	snprintf(err, errsz, "x.yaml:3:5: guard.rates.invite: below 0");
	return -EINVAL;
}

static void discard(void *arg, const char *line, size_t len)
{
	(void)arg;
	(void)line;
	(void)len;
}

static const struct ctl_ops fake_ops = {
	.list_bans = f_list_bans,
	.ban = f_ban,
	.unban = f_unban,
	.list_rules = f_list_rules,
	.set_monitor = f_set_monitor,
	.stats = f_stats,
	.reload = f_reload,
	.list_calls = f_list_calls,
	.drain = f_drain,
	.list_held = f_list_held,
	.unblock = f_unblock,
};

/* ------------------------------------------------------------- harness */

struct env {
	char dir[64];
	char path[96];
	struct loop *l;
	struct ctl *c;
	struct ctl_conf conf;
	struct fake f;
};

static struct env *E;
static uint64_t fake_now = 1000000;

static uint64_t fake_clock(void *arg)
{
	(void)arg;
	return fake_now;
}

static int setup(void **state)
{
	(void)state;
	E = calloc(1, sizeof(*E));
	snprintf(E->dir, sizeof(E->dir), "/tmp/test_ctl_XXXXXX");
	if (!E || !mkdtemp(E->dir))
		return -1;
	snprintf(E->path, sizeof(E->path), "%s/ctl.sock", E->dir);
	if (loop_new(&E->l))
		return -1;
	loop_set_clock(E->l, fake_clock, NULL);
	ctl_conf_defaults(&E->conf);
	E->conf.path = E->path;
	if (rules_new(&E->f.rules, 8))
		return -1;
	rules_register(E->f.rules, "scanner-ua", false);
	rules_register(E->f.rules, "rate-invite", true);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ctl_free(E->c);
	loop_free(E->l);
	rules_free(E->f.rules);
	unlink(E->path);
	rmdir(E->dir);
	free(E);
	E = NULL;
	return 0;
}

static void start(void)
{
	assert_int_equal(ctl_new(&E->c, E->l, &E->conf, &fake_ops, &E->f), 0);
}

static int dial(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", E->path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void pump(int turns)
{
	while (turns-- > 0)
		assert_true(loop_run_once(E->l, 0) >= 0);
}

/*
 * Read until `lines` LFs arrived or the peer closed (*eofp).  Turns the
 * loop in between; returns the bytes read (NUL-terminated).
 */
static size_t reply(int fd, char *buf, size_t sz, int lines, bool *eofp)
{
	size_t len = 0;
	int seen = 0, idle = 0;
	ssize_t n;

	*eofp = false;
	while (seen < lines && idle < 200) {
		pump(1);
		n = recv(fd, buf + len, sz - 1 - len, MSG_DONTWAIT);
		if (n == 0) {
			*eofp = true;
			break;
		}
		if (n < 0) {
			if (errno == ECONNRESET) {
				*eofp = true;
				break;
			}
			assert_int_equal(errno, EAGAIN);
			idle++;
			continue;
		}
		idle = 0;
		for (ssize_t i = 0; i < n; i++)
			seen += buf[len + (size_t)i] == '\n';
		len += (size_t)n;
		assert_true(len < sz - 1);
	}
	buf[len] = '\0';
	return len;
}

static void say(int fd, const char *req)
{
	assert_int_equal(send(fd, req, strlen(req), MSG_NOSIGNAL),
			 (ssize_t)strlen(req));
}

/* One request, one expected answer line. */
static void expect(int fd, const char *req, const char *want)
{
	char buf[4096];
	bool eof;

	say(fd, req);
	reply(fd, buf, sizeof(buf), 1, &eof);
	if (strcmp(buf, want) != 0)
		fail_msg("%s-> %s\nwant %s", req, buf, want);
}

/* -------------------------------------------------------------- tests */

#define RQ_BANS  "{\"cmd\":\"bans\"}\n"
#define RQ_STATS "{\"cmd\":\"stats\"}\n"

static void test_commands(void **state)
{
	struct stat st;
	int fd;

	(void)state;
	start();
	assert_int_equal(stat(E->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	fd = dial();
	expect(fd, RQ_BANS, "{\"ok\":true,\"bans\":[]}\n");
	expect(fd,
	       "{\"cmd\":\"ban\",\"addr\":\"203.0.113.9\",\"for_s\":60,"
	       "\"reason\":\"svwar \\\"x\\\"\\\\ \\u00e9\"}\n",
	       "{\"ok\":true}\n");
	assert_int_equal(E->f.last.uid, getuid());
	assert_int_equal(E->f.last.pid, getpid());
	/* What the guard holds may be any bytes (a reason from elsewhere):
	 * the answer is still valid UTF-8, control bytes escaped. */
	memcpy(E->f.reasons[0] + E->f.bans[0].reason.len, "\xff\x01", 2);
	E->f.bans[0].reason.len += 2;
	expect(fd, "{\"cmd\":\"ban\",\"addr\":\"2001:db8:1:2::/64\"}\n",
	       "{\"ok\":true}\n");
	expect(fd, RQ_BANS,
	       "{\"ok\":true,\"bans\":[{\"addr\":\"203.0.113.9\","
	       "\"expires_in\":60,\"rule\":null,"
	       "\"reason\":\"svwar \\\"x\\\"\\\\ \xc3\xa9\xef\xbf\xbd\\u0001\","
	       "\"hits\":0},"
	       "{\"addr\":\"2001:db8:1:2::/64\",\"expires_in\":null,"
	       "\"rule\":null,\"reason\":null,\"hits\":0}]}\n");
	expect(fd, "{\"cmd\":\"unban\",\"addr\":\"203.0.113.9\"}\n",
	       "{\"ok\":true}\n");
	expect(fd, "{\"cmd\":\"unban\",\"addr\":\"203.0.113.9\"}\n",
	       "{\"ok\":false,\"error\":\"not found\"}\n");
	expect(fd, "{\"cmd\":\"rules\"}\n",
	       "{\"ok\":true,\"rules\":[{\"name\":\"scanner-ua\","
	       "\"monitor\":false,\"effective\":false,\"hits\":0,"
	       "\"monitored\":0},{\"name\":\"rate-invite\",\"monitor\":true,"
	       "\"effective\":true,\"hits\":0,\"monitored\":0}],"
	       "\"global_monitor\":false}\n");
	expect(fd,
	       "{\"cmd\":\"monitor\",\"rule\":\"scanner-ua\",\"on\":true}\n",
	       "{\"ok\":true}\n");
	assert_true(rules_monitor(E->f.rules, 0));
	expect(fd, "{\"cmd\":\"monitor\",\"rule\":\"nosuch\",\"on\":true}\n",
	       "{\"ok\":false,\"error\":\"not found\"}\n");
	expect(fd, "{\"cmd\":\"monitor\",\"all\":true,\"on\":true}\n",
	       "{\"ok\":true}\n");
	assert_true(rules_global_monitor(E->f.rules));
	expect(fd, RQ_STATS,
	       "{\"ok\":true,\"stats\":{\"events\":12,\"bans.active\":1}}\n");
	{
		struct evlog_conf ec = {.write = discard};
		struct ev ev = {.type = EV_DROP, .event = "scanner"};

		assert_int_equal(evlog_open(&E->f.evlog, NULL, &ec), 0);
		evlog_emit(E->f.evlog, &ev, 0, 0);
		evlog_emit(E->f.evlog, &ev, 0, 0);
		expect(fd, RQ_STATS,
		       "{\"ok\":true,\"stats\":{\"events.total\":2,"
		       "\"events.lines\":1,\"events.aggregated\":1,"
		       "\"events.suppressed\":0,\"events.evicted\":0,"
		       "\"events.errors\":0}}\n");
		evlog_close(E->f.evlog);
		E->f.evlog = NULL;
	}
	expect(fd, "{\"cmd\":\"reload\"}\n",
	       "{\"ok\":false,\"error\":\"x.yaml:3:5: guard.rates.invite: "
	       "below 0\"}\n");
	expect(fd, "{\"cmd\":\"reload\"}\n", "{\"ok\":true}\n");
	expect(fd, "{\"cmd\":\"calls\"}\n",
	       "{\"ok\":true,\"calls\":[{\"call_id\":\"c1\\\"x\xef\xbf\xbd\\t\","
	       "\"caller\":\"sip:a@x\",\"callee\":\"sip:b@y\","
	       "\"caller_addr\":\"192.0.2.1:5060\",\"callee_addr\":null,"
	       "\"caller_zone\":\"internet\",\"callee_zone\":null,"
	       "\"state\":\"confirmed\",\"duration\":61,\"talk\":0,"
	       "\"media\":null},{\"call_id\":\"c2\",\"caller\":null,"
	       "\"callee\":null,\"caller_addr\":null,\"callee_addr\":null,"
	       "\"caller_zone\":null,\"callee_zone\":null,"
	       "\"state\":\"early\",\"duration\":0,\"talk\":0,"
	       "\"media\":{\"caller\":{\"packets\":30,\"bytes\":5160,"
	       "\"dropped\":10},\"callee\":{\"packets\":20,"
	       "\"bytes\":3440,\"dropped\":0}}}]}\n");
	/* Held users: names may be any bytes (escaped, made UTF-8). */
	expect(fd, "{\"cmd\":\"held\"}\n",
	       "{\"ok\":true,\"held\":[{\"user\":\"alice\","
	       "\"rule\":\"fraud-short-calls\",\"action\":\"block\","
	       "\"expires_in\":3600},{\"user\":\"b\\u0001\xef\xbf\xbd\","
	       "\"rule\":\"fraud-cluster\",\"action\":\"throttle\","
	       "\"expires_in\":1}]}\n");
	expect(fd, "{\"cmd\":\"unblock\",\"user\":\"alice\"}\n",
	       "{\"ok\":true}\n");
	assert_string_equal(unblocked, "alice");
	expect(fd, "{\"cmd\":\"unblock\",\"user\":\"bob\"}\n",
	       "{\"ok\":false,\"error\":\"not found\"}\n");
	expect(fd, "{\"cmd\":\"drain\",\"on\":true}\n", "{\"ok\":true}\n");
	assert_true(drained);
	expect(fd, "{\"cmd\":\"drain\",\"on\":false}\n", "{\"ok\":true}\n");
	assert_false(drained);
	/* Bad requests: an answer each, and the connection goes on. */
	expect(fd, "{\"cmd\":\"bans\",\"please\":1}\n",
	       "{\"ok\":false,\"error\":\"bad request: unknown member "
	       "\\\"please\\\"\"}\n");
	expect(fd, "{\"cmd\":\"reboot\"}\n",
	       "{\"ok\":false,\"error\":\"bad request: unknown command "
	       "\\\"reboot\\\"\"}\n");
	expect(fd, "{\"cmd\":\"ban\",\"addr\":\"1.2.3.4\",\"for_s\":1e9}\n",
	       "{\"ok\":false,\"error\":\"bad request: for_s: expected an "
	       "integer from 1 to 31622400\"}\n");
	expect(fd, "{\"cmd\":\"stats\",\"cmd\":\"bans\"}\n",
	       "{\"ok\":false,\"error\":\"bad request: json: duplicate object "
	       "key near '\\\"cmd\\\"'\",\"offset\":20}\n");
	expect(fd, "{\"cmd\":\"bans\"\n",
	       "{\"ok\":false,\"error\":\"bad request: json: '}' expected "
	       "near end of file\",\"offset\":13}\n");
	expect(fd, "bans\n",
	       "{\"ok\":false,\"error\":\"bad request: expected one JSON "
	       "object per line, e.g. {\\\"cmd\\\":\\\"bans\\\"}\","
	       "\"offset\":0}\n");
	expect(fd, "\n",
	       "{\"ok\":false,\"error\":\"bad request: empty request\","
	       "\"offset\":0}\n");
	expect(fd, "{\"cmd\":\"calls\",\"x\":[[[[[]]]]]}\n",
	       "{\"ok\":false,\"error\":\"bad request: nested too deep\","
	       "\"offset\":22}\n");
	expect(fd, "{\"cmd\":\"drain\",\"on\":true}\r\n", "{\"ok\":true}\n");
	close(fd);
	pump(2);
	assert_int_equal(ctl_conns(E->c), 0);
}

static void test_errors_from_backend(void **state)
{
	struct ctl_ops none = {0};
	int fd;

	(void)state;
	start();
	fd = dial();
	E->f.fail = -EIO;
	expect(fd, RQ_BANS,
	       "{\"ok\":false,\"error\":\"Input/output error\"}\n");
	E->f.fail = 0;
	E->f.misuse = true;
	expect(fd, RQ_BANS, "{\"ok\":false,\"error\":\"invalid argument\"}\n");
	E->f.misuse = false;
	E->f.nbans = FAKE_BANS;
	expect(fd, "{\"cmd\":\"ban\",\"addr\":\"1.2.3.4\"}\n",
	       "{\"ok\":false,\"error\":\"table full\"}\n");
	close(fd);
	pump(1);
	ctl_free(E->c);
	E->c = NULL;
	assert_int_equal(ctl_new(&E->c, E->l, &E->conf, &none, NULL), 0);
	fd = dial();
	expect(fd, RQ_BANS, "{\"ok\":false,\"error\":\"not supported\"}\n");
	expect(fd, "{\"cmd\":\"monitor\",\"all\":true,\"on\":false}\n",
	       "{\"ok\":false,\"error\":\"not supported\"}\n");
	close(fd);
}

/* Allocation failures while answering (jansson's included): an error
 * answer or a whole one, never a crash or a leak; then normal again. */
static void test_answer_nomem(void **state)
{
	char buf[4096];
	unsigned nth;
	bool eof;
	int fd;

	(void)state;
	start();
	fd = dial();
	pump(2);
	E->f.gen = 3;
	for (nth = 1; nth < 40; nth++) {
		mem_fail_nth(nth);
		say(fd, "{\"cmd\":\"ban\",\"addr\":\"1.2.3.4\"}\n" RQ_BANS);
		reply(fd, buf, sizeof(buf), 2, &eof);
		mem_fail_nth(0);
		assert_false(eof);
		assert_true(!strncmp(buf, "{\"ok\":", 6) || !buf[0]);
		E->f.nbans = 0;
	}
	E->f.gen = 0;
	expect(fd, RQ_BANS, "{\"ok\":true,\"bans\":[]}\n");
	close(fd);
}

static void test_framing(void **state)
{
	char buf[4096], big[CTL_REQ_MAX + 100];
	bool eof;
	int fd;

	(void)state;
	start();
	/* Two requests in one write: two answers, in order. */
	fd = dial();
	say(fd, RQ_STATS RQ_BANS);
	reply(fd, buf, sizeof(buf), 2, &eof);
	assert_string_equal(
		buf,
		"{\"ok\":true,\"stats\":{\"events\":12,\"bans.active\":1}}\n"
		"{\"ok\":true,\"bans\":[]}\n");
	/* A request split over writes. */
	say(fd, "{\"cmd\":\"ba");
	pump(3);
	expect(fd, "ns\"}\n", "{\"ok\":true,\"bans\":[]}\n");
	/* A last request without LF, then end of input. */
	say(fd, "{\"cmd\":\"bans\"}");
	shutdown(fd, SHUT_WR);
	reply(fd, buf, sizeof(buf), 2, &eof);
	assert_string_equal(buf, "{\"ok\":true,\"bans\":[]}\n");
	assert_true(eof);
	close(fd);
	/* Oversize: an error, then the server hangs up. */
	fd = dial();
	memset(big, 'a', sizeof(big));
	assert_int_equal(send(fd, big, sizeof(big), MSG_NOSIGNAL),
			 (ssize_t)sizeof(big));
	reply(fd, buf, sizeof(buf), 2, &eof);
	assert_string_equal(buf,
			    "{\"ok\":false,\"error\":\"request too long\"}\n");
	assert_true(eof);
	close(fd);
	pump(1);
	assert_int_equal(ctl_conns(E->c), 0);
}

static void test_large_answer(void **state)
{
	size_t sz = CTL_RESP_MAX + 4096, len, n = 0;
	char *buf = malloc(sz), *p;
	bool eof;
	int fd;

	(void)state;
	assert_non_null(buf);
	start();
	fd = dial();
	/* ~1.4 MB: far more than a socket buffer, written in pieces. */
	E->f.gen = 20000;
	say(fd, RQ_BANS);
	len = reply(fd, buf, sz, 1, &eof);
	assert_true(len > 1000000 && buf[len - 1] == '\n');
	for (p = buf; (p = strstr(p, "\"addr\":")); p++)
		n++;
	assert_int_equal(n, 20000);
	assert_non_null(strstr(buf, "{\"addr\":\"10.0.78.31\",\"expires_in\":2,"
				    "\"rule\":\"scanner-ua\",\"reason\":null,"
				    "\"hits\":19999}]}\n"));
	/* Over the cap: an error instead of a cut answer. */
	E->f.gen = 60000;
	expect(fd, RQ_BANS, "{\"ok\":false,\"error\":\"answer too large\"}\n");
	E->f.gen = 0;
	expect(fd, RQ_BANS, "{\"ok\":true,\"bans\":[]}\n");
	close(fd);
	free(buf);
}

static void test_peer_refused(void **state)
{
	char buf[256];
	bool eof;
	int fd;

	(void)state;
	E->conf.uid = getuid() + 1;
	E->conf.allow_root = false;
	start();
	fd = dial();
	say(fd, RQ_BANS);
	reply(fd, buf, sizeof(buf), 1, &eof);
	assert_string_equal(buf,
			    "{\"ok\":false,\"error\":\"permission denied\"}\n");
	reply(fd, buf, sizeof(buf), 1, &eof);
	assert_true(eof);
	assert_int_equal(ctl_conns(E->c), 0);
	close(fd);
}

static void test_caps_and_idle(void **state)
{
	char buf[256];
	bool eof;
	int fd[4], i;

	(void)state;
	E->conf.max_per_uid = 2;
	E->conf.max_conns = 3;
	E->conf.idle_ms = 5000;
	start();
	for (i = 0; i < 3; i++) {
		fd[i] = dial();
		pump(1);
	}
	assert_int_equal(ctl_conns(E->c), 2);
	reply(fd[2], buf, sizeof(buf), 1, &eof);
	assert_string_equal(
		buf, "{\"ok\":false,\"error\":\"too many connections\"}\n");
	close(fd[2]);
	expect(fd[0], RQ_BANS, "{\"ok\":true,\"bans\":[]}\n");
	/* Idle connections go away; the busy one stays. */
	fake_now += 4000;
	pump(1);
	expect(fd[0], RQ_BANS, "{\"ok\":true,\"bans\":[]}\n");
	fake_now += 1500;
	pump(2);
	assert_int_equal(ctl_conns(E->c), 1);
	reply(fd[1], buf, sizeof(buf), 1, &eof);
	assert_true(eof);
	fake_now += 6000;
	pump(2);
	assert_int_equal(ctl_conns(E->c), 0);
	close(fd[0]);
	close(fd[1]);
}

static void test_path(void **state)
{
	struct ctl *c2 = NULL;
	struct ctl_conf bad;
	int fd;

	(void)state;
	/* Another file at the path is never replaced. */
	fd = open(E->path, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(ctl_new(&E->c, E->l, &E->conf, &fake_ops, &E->f),
			 -EEXIST);
	unlink(E->path);
	/* A live socket is not stolen; a stale one is replaced. */
	start();
	assert_int_equal(ctl_new(&c2, E->l, &E->conf, &fake_ops, &E->f),
			 -EADDRINUSE);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	{
		struct sockaddr_un sa = {.sun_family = AF_UNIX};

		ctl_free(E->c);
		E->c = NULL;
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", E->path);
		assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)),
				 0);
	}
	close(fd);
	start();
	/* Arguments. */
	bad = E->conf;
	bad.max_conns = 0;
	assert_int_equal(ctl_new(&c2, E->l, &bad, &fake_ops, NULL), -EINVAL);
	bad = E->conf;
	bad.path =
		"/tmp/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
	assert_int_equal(ctl_new(&c2, E->l, &bad, &fake_ops, NULL),
			 -ENAMETOOLONG);
	assert_int_equal(ctl_new(&c2, E->l, NULL, &fake_ops, NULL), -EINVAL);
	mem_fail_nth(1);
	assert_int_equal(ctl_new(&c2, E->l, &E->conf, &fake_ops, NULL),
			 -ENOMEM);
	mem_fail_nth(0);
	ctl_free(NULL);
	/* ctl_free removes the socket. */
	ctl_free(E->c);
	E->c = NULL;
	assert_int_equal(access(E->path, F_OK), -1);
}

static void test_group_mode(void **state)
{
	struct stat st;

	(void)state;
	E->conf.group = true;
	E->conf.gid = getgid();
	start();
	assert_int_equal(stat(E->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0660);
	assert_int_equal(st.st_gid, getgid());
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_commands),      T(test_errors_from_backend),
		T(test_answer_nomem),  T(test_framing),
		T(test_large_answer),  T(test_peer_refused),
		T(test_caps_and_idle), T(test_path),
		T(test_group_mode),
	};
	int rc;

	/* jansson allocates through ours: the leak check covers it. */
	json_set_alloc_funcs(mem_alloc, mem_free);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	assert_no_leaks();
	return rc;
}
