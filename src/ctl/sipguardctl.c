/*
 * sipguardctl.c - the command-line client of the control socket: builds
 * one JSON request (ctl_req_format(), jansson) and checks it with the
 * daemon's own parser, sends it as one line, reads the one-line JSON
 * answer with jansson and prints it as a table (or as is with --json,
 * for scripts).
 *
 *   sipguardctl [-s SOCKET] [--json] bans
 *   sipguardctl ban ADDR [--for DURATION] [--reason TEXT]
 *   sipguardctl unban ADDR
 *   sipguardctl rules
 *   sipguardctl monitor RULE|all on|off
 *   sipguardctl stats
 *   sipguardctl reload
 *   sipguardctl calls
 *   sipguardctl drain [on|off]
 *   sipguardctl events --follow [--type TYPE] [--source ADDR]
 *
 * Exit codes: 0 ok, 1 the daemon answered with an error, 2 usage,
 * 3 cannot connect (or no answer).  Strings from the daemon may carry
 * attacker-chosen bytes (ban reasons); control bytes are never printed.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include "ctl/ctl.h"

enum {
	EXIT_OK = 0,
	EXIT_DAEMON = 1,
	EXIT_USAGE = 2,
	EXIT_CONNECT = 3,
	CLIENT_TIMEOUT_MS = 10000,
	FIELD_MAX = 512,
};

struct opts {
	const char *sock;
	bool json;
	const char *dur;
	const char *reason;
	bool follow;
	const char *type, *source;
	const char *arg[4];
	int nargs;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: sipguardctl [-s SOCKET] [--json] COMMAND\n"
		"  bans                                list bans\n"
		"  ban ADDR [--for DURATION] [--reason TEXT]\n"
		"                                      ban ADDR[/PLEN]; DURATION "
		"like 3600, 30m, 12h, 7d\n"
		"  unban ADDR                          lift a ban\n"
		"  rules                               rules, hits, monitor "
		"flags\n"
		"  monitor RULE|all on|off             monitor mode (log only)\n"
		"  stats                               counters\n"
		"  reload                              load the configuration "
		"anew\n"
		"  calls                               live calls\n"
		"  drain [on|off]                      refuse new calls, let "
		"current ones end\n"
		"  held                                users a toll-fraud rule "
		"blocks or throttles\n"
		"  unblock USER                        lift a user's block, on "
		"every instance\n"
		"  events --follow [--type TYPE] [--source ADDR]\n"
		"                                      security events as they "
		"happen\n"
		"SOCKET defaults to " CTL_DEFAULT_PATH ".\n");
}

static int parse_opts(struct opts *o, int argc, char **argv)
{
	int i;

	memset(o, 0, sizeof(*o));
	o->sock = CTL_DEFAULT_PATH;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			exit(EXIT_OK);
		} else if (!strcmp(a, "--json")) {
			o->json = true;
		} else if (!strcmp(a, "--follow") || !strcmp(a, "-f")) {
			o->follow = true;
		} else if ((!strcmp(a, "--type") || !strcmp(a, "--source")) &&
			   i + 1 < argc) {
			*(a[2] == 't' ? &o->type : &o->source) = argv[++i];
		} else if ((!strcmp(a, "-s") || !strcmp(a, "--for") ||
			    !strcmp(a, "--reason")) &&
			   i + 1 < argc) {
			const char **dst = a[1] == 's'   ? &o->sock
					   : a[2] == 'f' ? &o->dur
							 : &o->reason;

			*dst = argv[++i];
		} else if (a[0] == '-' && a[1]) {
			return -EINVAL;
		} else if (o->nargs < 4) {
			o->arg[o->nargs++] = a;
		} else {
			return -EINVAL;
		}
	}
	return o->nargs ? 0 : -EINVAL;
}

static int copy_text(char *dst, size_t sz, const char *src)
{
	if (strlen(src) >= sz)
		return -EINVAL;
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

static int on_off(bool *onp, const char *s)
{
	if (strcmp(s, "on") && strcmp(s, "off"))
		return -EINVAL;
	*onp = !strcmp(s, "on");
	return 0;
}

/* The request from the command line; shape only (the daemon's parser
 * checks the rest in build()). */
static int to_req(struct ctl_req *rq, const struct opts *o)
{
	static const struct {
		const char *name;
		enum ctl_cmd cmd;
		int nargs;
	} plain[] = {
		{"bans", CTL_CMD_BANS, 1},
		{"rules", CTL_CMD_RULES, 1},
		{"stats", CTL_CMD_STATS, 1},
		{"reload", CTL_CMD_RELOAD, 1},
		{"calls", CTL_CMD_CALLS, 1},
		{"ban", CTL_CMD_BAN, 2},
		{"unban", CTL_CMD_UNBAN, 2},
		{"monitor", CTL_CMD_MONITOR, 3},
		{"events", CTL_CMD_EVENTS, 1},
		{"held", CTL_CMD_HELD, 1},
		{"unblock", CTL_CMD_UNBLOCK, 2},
	};
	const char *cmd = o->arg[0];
	size_t i;

	memset(rq, 0, sizeof(*rq));
	if (!strcmp(cmd, "drain") && o->nargs <= 2) {
		rq->cmd = CTL_CMD_DRAIN;
		return on_off(&rq->on, o->nargs == 2 ? o->arg[1] : "on");
	}
	for (i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
		if (!strcmp(cmd, plain[i].name) && o->nargs == plain[i].nargs)
			break;
	if (i == sizeof(plain) / sizeof(plain[0]))
		return -EINVAL;
	rq->cmd = plain[i].cmd;
	switch (rq->cmd) {
	case CTL_CMD_BAN:
		if ((o->dur &&
		     ctl_duration_parse(&rq->seconds, str_cstr(o->dur))) ||
		    (o->reason &&
		     copy_text(rq->reason, sizeof(rq->reason), o->reason)))
			return -EINVAL;
		/* fall through */
	case CTL_CMD_UNBAN:
		return ctl_addr_parse(&rq->addr, &rq->plen,
				      str_cstr(o->arg[1]));
	case CTL_CMD_UNBLOCK:
		return copy_text(rq->user, sizeof(rq->user), o->arg[1]);
	case CTL_CMD_MONITOR:
		rq->all = !strcmp(o->arg[1], "all");
		if (!rq->all &&
		    copy_text(rq->rule, sizeof(rq->rule), o->arg[1]))
			return -EINVAL;
		return on_off(&rq->on, o->arg[2]);
	case CTL_CMD_EVENTS:
		if (!o->follow ||
		    (o->type &&
		     copy_text(rq->evtype, sizeof(rq->evtype), o->type)))
			return -EINVAL;
		rq->has_src = o->source != NULL;
		return o->source ? ctl_addr_parse(&rq->addr, &rq->plen,
						  str_cstr(o->source))
				 : 0;
	default:
		return 0;
	}
}

/* The request line (no LF), checked with the daemon's own parser, so a
 * mistake is a usage error here, with the parser's reason. */
static int build(char *line, size_t sz, const struct opts *o)
{
	struct ctl_perr pe;
	struct ctl_req rq;
	long n;

	if (to_req(&rq, o) || (n = ctl_req_format(line, sz, &rq)) < 0)
		return -EINVAL;
	if (ctl_req_parse(&rq, str_make(line, (size_t)n), &pe)) {
		fprintf(stderr, "sipguardctl: %s\n", pe.msg);
		return -EINVAL;
	}
	return 0;
}

/* ------------------------------------------------------------ transport */

static int dial(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static int send_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n) {
		w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Read one answer line (without its LF) into a malloc'd buffer; *totalp:
 * the bytes read, which may go past the line (events that followed). */
static char *recv_line(int fd, size_t *lenp, size_t *totalp)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	size_t len = 0, cap = 65536;
	char *buf = malloc(cap), *lf = NULL, *nb;
	ssize_t r;

	while (buf && !lf) {
		if (len == cap) {
			if (cap >= CTL_RESP_MAX)
				break;
			nb = realloc(buf, cap * 2);
			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
		if (poll(&pfd, 1, CLIENT_TIMEOUT_MS) <= 0)
			break;
		r = recv(fd, buf + len, cap - len, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		lf = memchr(buf + len, '\n', (size_t)r);
		len += (size_t)r;
	}
	if (!lf) {
		free(buf);
		return NULL;
	}
	*lenp = (size_t)(lf - buf);
	*totalp = len;
	return buf;
}

/* -------------------------------------------------------------- printing */

/* Value of key in obj made printable; "-" when absent or null. */
static const char *field(char *dst, const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);
	size_t i, n;

	snprintf(dst, FIELD_MAX, "-");
	if (json_is_string(v)) {
		n = json_string_length(v);
		if (n >= FIELD_MAX)
			n = FIELD_MAX - 1;
		memcpy(dst, json_string_value(v), n);
		dst[n] = '\0';
		/* Any byte may come from an attacker (a reason, a URI):
		 * never a control byte to the terminal. */
		for (i = 0; i < n; i++)
			if ((unsigned char)dst[i] < 0x20 || dst[i] == 0x7f)
				dst[i] = '?';
	} else if (json_is_integer(v)) {
		snprintf(dst, FIELD_MAX, "%" JSON_INTEGER_FORMAT,
			 json_integer_value(v));
	} else if (json_is_real(v)) {
		snprintf(dst, FIELD_MAX, "%g", json_real_value(v));
	} else if (json_is_boolean(v)) {
		snprintf(dst, FIELD_MAX, "%s",
			 json_is_true(v) ? "true" : "false");
	}
	return dst;
}

/* A non-negative integer member, or -1. */
static long long whole(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	return json_is_integer(v) && json_integer_value(v) >= 0
		       ? (long long)json_integer_value(v)
		       : -1;
}

static const char *fmt_expiry(char *dst, const json_t *ban)
{
	long long s = whole(ban, "expires_in");

	if (s < 0)
		snprintf(dst, FIELD_MAX, "never");
	else if (s >= 86400)
		snprintf(dst, FIELD_MAX, "%lldd%02lldh", s / 86400,
			 s % 86400 / 3600);
	else if (s >= 3600)
		snprintf(dst, FIELD_MAX, "%lldh%02lldm", s / 3600,
			 s % 3600 / 60);
	else
		snprintf(dst, FIELD_MAX, "%lldm%02llds", s / 60, s % 60);
	return dst;
}

static void print_bans(const json_t *arr)
{
	char a[FIELD_MAX], e[FIELD_MAX], h[FIELD_MAX], r[FIELD_MAX],
		why[FIELD_MAX];
	const json_t *b;
	size_t i;

	if (!json_array_size(arr)) {
		printf("no bans\n");
		return;
	}
	printf("%-28s %-9s %10s  %-20s %s\n", "ADDRESS", "EXPIRES", "HITS",
	       "RULE", "REASON");
	json_array_foreach(arr, i, b)
		printf("%-28s %-9s %10s  %-20s %s\n", field(a, b, "addr"),
		       fmt_expiry(e, b), field(h, b, "hits"),
		       field(r, b, "rule"), field(why, b, "reason"));
}

static void print_rules(const json_t *ans, const json_t *arr)
{
	char name[FIELD_MAX], h[FIELD_MAX], m[FIELD_MAX];
	const json_t *r;
	size_t i;

	printf("%-32s %-8s %12s %12s\n", "RULE", "MONITOR", "HITS",
	       "MONITORED");
	json_array_foreach(arr, i, r) printf(
		"%-32s %-8s %12s %12s\n", field(name, r, "name"),
		json_is_true(json_object_get(r, "monitor"))     ? "on"
		: json_is_true(json_object_get(r, "effective")) ? "global"
								: "off",
		field(h, r, "hits"), field(m, r, "monitored"));
	printf("global monitor: %s\n",
	       json_is_true(json_object_get(ans, "global_monitor")) ? "on"
								    : "off");
}

static const char *fmt_secs(char *dst, const json_t *obj, const char *key)
{
	long long s = whole(obj, key);

	if (s < 0)
		snprintf(dst, FIELD_MAX, "-");
	else
		snprintf(dst, FIELD_MAX, "%lld:%02lld:%02lld", s / 3600,
			 s % 3600 / 60, s % 60);
	return dst;
}

/* "caller/callee (dropped)" packets of a call's "media", or "-". */
static const char *fmt_media(char *dst, const json_t *call)
{
	const json_t *m = json_object_get(call, "media");
	const json_t *a = json_object_get(m, "caller");
	const json_t *b = json_object_get(m, "callee");
	long long d0 = whole(a, "dropped"), d1 = whole(b, "dropped");
	char p0[FIELD_MAX], p1[FIELD_MAX];

	snprintf(dst, FIELD_MAX, "-");
	if (!json_is_object(a) || !json_is_object(b))
		return dst;
	/* Numbers: 20 digits each at most. */
	snprintf(dst, FIELD_MAX, "%.24s/%.24s (%lld)", field(p0, a, "packets"),
		 field(p1, b, "packets"),
		 (d0 > 0 ? d0 : 0) + (d1 > 0 ? d1 : 0));
	return dst;
}

static void print_calls(const json_t *arr)
{
	char a[FIELD_MAX], b[FIELD_MAX], za[FIELD_MAX], zb[FIELD_MAX],
		st[FIELD_MAX], d[FIELD_MAX], tk[FIELD_MAX], ca[FIELD_MAX],
		cb[FIELD_MAX], md[FIELD_MAX];
	const json_t *c;
	size_t i;

	if (!json_array_size(arr)) {
		printf("no calls\n");
		return;
	}
	printf("%-28s %-22s %-28s %-22s %-10s %9s %9s %s\n", "CALLER", "FROM",
	       "CALLEE", "TO", "STATE", "DURATION", "TALK",
	       "MEDIA PKTS IN/OUT (DROPPED)");
	json_array_foreach(arr, i, c)
	{
		snprintf(ca, sizeof(ca), "%.200s (%.200s)",
			 field(a, c, "caller_addr"),
			 field(za, c, "caller_zone"));
		snprintf(cb, sizeof(cb), "%.200s (%.200s)",
			 field(b, c, "callee_addr"),
			 field(zb, c, "callee_zone"));
		printf("%-28.28s %-22s %-28.28s %-22s %-10s %9s %9s %s\n",
		       field(a, c, "caller"), ca, field(b, c, "callee"), cb,
		       field(st, c, "state"), fmt_secs(d, c, "duration"),
		       fmt_secs(tk, c, "talk"), fmt_media(md, c));
	}
}

static void print_held(const json_t *arr)
{
	char u[FIELD_MAX], r[FIELD_MAX], a[FIELD_MAX], e[FIELD_MAX];
	const json_t *h;
	size_t i;

	if (!json_array_size(arr)) {
		printf("no user held\n");
		return;
	}
	printf("%-32s %-9s %-20s %s\n", "USER", "ACTION", "RULE", "EXPIRES IN");
	json_array_foreach(arr, i, h)
		printf("%-32s %-9s %-20s %s\n", field(u, h, "user"),
		       field(a, h, "action"), field(r, h, "rule"),
		       fmt_secs(e, h, "expires_in"));
}

static void print_stats(json_t *obj)
{
	char v[FIELD_MAX];
	const char *name;
	json_t *x;

	json_object_foreach(obj, name, x)
		printf("%-40s %s\n", name, field(v, obj, name));
}

/* An answer or event line as a JSON object (jansson), or NULL. */
static json_t *parse_line(struct str line)
{
	json_t *j = json_loadb(line.p, line.len, JSON_ALLOW_NUL, NULL);

	if (j && !json_is_object(j)) {
		json_decref(j);
		j = NULL;
	}
	return j;
}

/* Print the answer (as is with --json); returns the exit code. */
static int show(const struct opts *o, struct str ans)
{
	json_t *j = parse_line(ans), *v;
	char err[FIELD_MAX];
	bool ok;

	if (!j) {
		fprintf(stderr, "sipguardctl: bad answer from the daemon\n");
		return EXIT_CONNECT;
	}
	ok = json_is_true(json_object_get(j, "ok"));
	if (o->json)
		printf("%.*s\n", STR_FMT(ans));
	else if (!ok)
		fprintf(stderr, "sipguardctl: %s\n", field(err, j, "error"));
	else if (json_object_get(j, "follow"))
		fprintf(stderr, "following security events\n");
	else if (json_is_array(v = json_object_get(j, "bans")))
		print_bans(v);
	else if (json_is_array(v = json_object_get(j, "rules")))
		print_rules(j, v);
	else if (json_is_array(v = json_object_get(j, "calls")))
		print_calls(v);
	else if (json_is_array(v = json_object_get(j, "held")))
		print_held(v);
	else if (json_is_object(v = json_object_get(j, "stats")))
		print_stats(v);
	else
		printf("ok\n");
	json_decref(j);
	return ok ? EXIT_OK : EXIT_DAEMON;
}

/* --------------------------------------------------------------- follow */

/* One event line, human-readable: time, type, event, source, rule,
 * reason, and the count of a repeat line. */
static void print_event(struct str line)
{
	char ts[FIELD_MAX], ty[FIELD_MAX], ev[FIELD_MAX], src[FIELD_MAX],
		ru[FIELD_MAX], why[FIELD_MAX], cnt[FIELD_MAX], z[FIELD_MAX];
	json_t *j = parse_line(line);

	if (!j)
		return;
	if (json_object_get(j, "missed")) {
		printf("-- %s events missed (read too slowly) --\n",
		       field(cnt, j, "missed"));
	} else {
		field(cnt, j, "count");
		printf("%-24s %-12s %-18s %-24s %-8s %-20s %s%s%s\n",
		       field(ts, j, "ts"), field(ty, j, "type"),
		       field(ev, j, "event"), field(src, j, "src"),
		       field(z, j, "zone"), field(ru, j, "rule"),
		       field(why, j, "reason"), strcmp(cnt, "1") ? " x" : "",
		       strcmp(cnt, "1") ? cnt : "");
	}
	fflush(stdout);
	json_decref(j);
}

/*
 * events --follow: the first answer says whether the daemon took it;
 * then one event per line until the daemon goes away (exit 3) or we are
 * interrupted.  No timeout: a quiet gateway sends nothing for hours.
 */
static int follow(int fd, const struct opts *o, struct str first,
		  struct str rest)
{
	char buf[65536];
	size_t len = rest.len < sizeof(buf) ? rest.len : 0;
	ssize_t r;
	char *lf;
	int rc = show(o, first);

	if (rc != EXIT_OK)
		return rc;
	memcpy(buf, rest.p, len);
	for (;;) {
		while ((lf = memchr(buf, '\n', len))) {
			struct str l = str_make(buf, (size_t)(lf - buf));

			if (o->json) {
				printf("%.*s\n", STR_FMT(l));
				fflush(stdout);
			} else {
				print_event(l);
			}
			len -= l.len + 1;
			memmove(buf, lf + 1, len);
		}
		if (len == sizeof(buf))
			len = 0; /* not a line of ours: skip it */
		r = recv(fd, buf + len, sizeof(buf) - len, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	fprintf(stderr, "sipguardctl: the daemon closed the connection\n");
	return EXIT_CONNECT;
}

int main(int argc, char **argv)
{
	char line[CTL_REQ_MAX + 1], *ans;
	struct opts o;
	size_t len = 0, total = 0;
	int fd, rc;

	if (parse_opts(&o, argc, argv) || build(line, CTL_REQ_MAX, &o)) {
		usage(stderr);
		return EXIT_USAGE;
	}
	fd = dial(o.sock);
	if (fd < 0) {
		fprintf(stderr, "sipguardctl: %s: %s\n", o.sock, strerror(-fd));
		return EXIT_CONNECT;
	}
	strcat(line, "\n");
	ans = send_all(fd, line, strlen(line)) ? NULL
					       : recv_line(fd, &len, &total);
	if (ans && o.follow) {
		setvbuf(stdout, NULL, _IOLBF, 0);
		rc = follow(fd, &o, str_make(ans, len),
			    str_make(ans + len + 1, total - len - 1));
		free(ans);
		close(fd);
		return rc;
	}
	close(fd);
	if (!ans) {
		fprintf(stderr, "sipguardctl: no answer from the daemon\n");
		return EXIT_CONNECT;
	}
	rc = show(&o, str_make(ans, len));
	free(ans);
	return rc;
}
