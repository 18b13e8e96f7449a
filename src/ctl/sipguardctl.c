/*
 * sipguardctl.c - the command-line client of the control socket: builds
 * one request line, sends it, reads the one-line JSON answer and prints
 * it as a table (or as is with --json, for scripts).
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

/* The request line; validated with the daemon's own parser. */
static int build(char *line, size_t sz, const struct opts *o)
{
	const char *cmd = o->arg[0];
	struct ctl_req rq;
	uint32_t sec = 0;
	int n;

	if (!strcmp(cmd, "ban") && o->nargs == 2) {
		if (o->dur && ctl_duration_parse(&sec, str_cstr(o->dur)))
			return -EINVAL;
		if (o->reason && *o->reason)
			n = sec ? snprintf(line, sz, "ban %s %u %s", o->arg[1],
					   (unsigned)sec, o->reason)
				: snprintf(line, sz, "ban %s default %s",
					   o->arg[1], o->reason);
		else
			n = sec ? snprintf(line, sz, "ban %s %u", o->arg[1],
					   (unsigned)sec)
				: snprintf(line, sz, "ban %s", o->arg[1]);
	} else if (!strcmp(cmd, "unban") && o->nargs == 2) {
		n = snprintf(line, sz, "unban %s", o->arg[1]);
	} else if (!strcmp(cmd, "monitor") && o->nargs == 3) {
		n = snprintf(line, sz, "monitor %s %s",
			     strcmp(o->arg[1], "all") ? o->arg[1] : "*",
			     o->arg[2]);
	} else if (!strcmp(cmd, "events") && o->nargs == 1 && o->follow) {
		n = snprintf(line, sz, "events%s%s%s%s",
			     o->type ? " type=" : "", o->type ? o->type : "",
			     o->source ? " src=" : "",
			     o->source ? o->source : "");
	} else if (!strcmp(cmd, "drain") && o->nargs <= 2) {
		n = snprintf(line, sz, "drain %s",
			     o->nargs == 2 ? o->arg[1] : "on");
	} else if ((!strcmp(cmd, "calls") || !strcmp(cmd, "bans") || !strcmp(cmd, "rules") ||
		    !strcmp(cmd, "stats") || !strcmp(cmd, "reload")) &&
		   o->nargs == 1) {
		n = snprintf(line, sz, "%s", cmd);
	} else {
		return -EINVAL;
	}
	if (n < 0 || (size_t)n >= sz)
		return -EINVAL;
	return ctl_req_parse(&rq, str_make(line, (size_t)n), NULL);
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

/* String value of key in object obj, made printable; "-" when absent. */
static const char *field(char *dst, const struct ctl_jtok *t, size_t n,
			 size_t obj, const char *key)
{
	long v = ctl_json_get(t, n, obj, key);
	char *p;

	snprintf(dst, FIELD_MAX, "-");
	if (v < 0)
		return dst;
	if (t[v].type == CTL_J_STR)
		ctl_json_unescape(dst, FIELD_MAX, &t[v]);
	else if (t[v].type != CTL_J_NULL)
		snprintf(dst, FIELD_MAX, "%.*s", STR_FMT(t[v].s));
	for (p = dst; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return dst;
}

static const char *fmt_expiry(char *dst, const struct ctl_jtok *t, size_t n,
			      size_t obj)
{
	long v = ctl_json_get(t, n, obj, "expires_in");
	uint64_t s;

	if (v < 0 || t[v].type == CTL_J_NULL || ctl_json_u64(&s, &t[v]))
		snprintf(dst, FIELD_MAX, "never");
	else if (s >= 86400)
		snprintf(dst, FIELD_MAX, "%llud%02lluh",
			 (unsigned long long)(s / 86400),
			 (unsigned long long)(s % 86400 / 3600));
	else if (s >= 3600)
		snprintf(dst, FIELD_MAX, "%lluh%02llum",
			 (unsigned long long)(s / 3600),
			 (unsigned long long)(s % 3600 / 60));
	else
		snprintf(dst, FIELD_MAX, "%llum%02llus",
			 (unsigned long long)(s / 60),
			 (unsigned long long)(s % 60));
	return dst;
}

static void print_bans(const struct ctl_jtok *t, size_t n, long arr)
{
	char a[FIELD_MAX], e[FIELD_MAX], h[FIELD_MAX], r[FIELD_MAX],
		why[FIELD_MAX];
	size_t i, k;

	if (!t[arr].n) {
		printf("no bans\n");
		return;
	}
	printf("%-28s %-9s %10s  %-20s %s\n", "ADDRESS", "EXPIRES", "HITS",
	       "RULE", "REASON");
	for (k = 0, i = (size_t)arr + 1; k < t[arr].n; k++, i = t[i].next)
		printf("%-28s %-9s %10s  %-20s %s\n", field(a, t, n, i, "addr"),
		       fmt_expiry(e, t, n, i), field(h, t, n, i, "hits"),
		       field(r, t, n, i, "rule"),
		       field(why, t, n, i, "reason"));
}

static void print_rules(const struct ctl_jtok *t, size_t n, long arr)
{
	char name[FIELD_MAX], h[FIELD_MAX], m[FIELD_MAX], own[FIELD_MAX],
		eff[FIELD_MAX];
	long g = ctl_json_get(t, n, 0, "global_monitor");
	size_t i, k;

	printf("%-32s %-8s %12s %12s\n", "RULE", "MONITOR", "HITS",
	       "MONITORED");
	for (k = 0, i = (size_t)arr + 1; k < t[arr].n; k++, i = t[i].next) {
		field(own, t, n, i, "monitor");
		field(eff, t, n, i, "effective");
		printf("%-32s %-8s %12s %12s\n", field(name, t, n, i, "name"),
		       !strcmp(own, "true")   ? "on"
		       : !strcmp(eff, "true") ? "global"
					      : "off",
		       field(h, t, n, i, "hits"),
		       field(m, t, n, i, "monitored"));
	}
	printf("global monitor: %s\n",
	       g >= 0 && t[g].type == CTL_J_TRUE ? "on" : "off");
}

static const char *fmt_secs(char *dst, const struct ctl_jtok *t, size_t n,
			    size_t obj, const char *key)
{
	long v = ctl_json_get(t, n, obj, key);
	uint64_t s;

	if (v < 0 || ctl_json_u64(&s, &t[v]))
		snprintf(dst, FIELD_MAX, "-");
	else
		snprintf(dst, FIELD_MAX, "%llu:%02llu:%02llu",
			 (unsigned long long)(s / 3600),
			 (unsigned long long)(s % 3600 / 60),
			 (unsigned long long)(s % 60));
	return dst;
}

/* "caller/callee (dropped)" packets of a call's "media", or "-". */
static const char *fmt_media(char *dst, const struct ctl_jtok *t, size_t n,
			     size_t obj)
{
	char p0[FIELD_MAX], p1[FIELD_MAX], d0[FIELD_MAX], d1[FIELD_MAX];
	long m = ctl_json_get(t, n, obj, "media"), a, b;
	uint64_t x = 0, y = 0;

	snprintf(dst, FIELD_MAX, "-");
	if (m < 0 || t[m].type != CTL_J_OBJ)
		return dst;
	a = ctl_json_get(t, n, (size_t)m, "caller");
	b = ctl_json_get(t, n, (size_t)m, "callee");
	if (a < 0 || b < 0)
		return dst;
	field(p0, t, n, (size_t)a, "packets");
	field(p1, t, n, (size_t)b, "packets");
	field(d0, t, n, (size_t)a, "dropped");
	field(d1, t, n, (size_t)b, "dropped");
	x = strtoull(d0, NULL, 10);
	y = strtoull(d1, NULL, 10);
	/* Numbers: 20 digits each at most. */
	snprintf(dst, FIELD_MAX, "%.24s/%.24s (%llu)", p0, p1,
		 (unsigned long long)(x + y));
	return dst;
}

static void print_calls(const struct ctl_jtok *t, size_t n, long arr)
{
	char a[FIELD_MAX], b[FIELD_MAX], za[FIELD_MAX], zb[FIELD_MAX],
		st[FIELD_MAX], d[FIELD_MAX], tk[FIELD_MAX], ca[FIELD_MAX],
		cb[FIELD_MAX], md[FIELD_MAX];
	size_t i, k;

	if (!t[arr].n) {
		printf("no calls\n");
		return;
	}
	printf("%-28s %-22s %-28s %-22s %-10s %9s %9s %s\n", "CALLER",
	       "FROM", "CALLEE", "TO", "STATE", "DURATION", "TALK",
	       "MEDIA PKTS IN/OUT (DROPPED)");
	for (k = 0, i = (size_t)arr + 1; k < t[arr].n; k++, i = t[i].next) {
		snprintf(ca, sizeof(ca), "%s (%s)",
			 field(a, t, n, i, "caller_addr"),
			 field(za, t, n, i, "caller_zone"));
		snprintf(cb, sizeof(cb), "%s (%s)",
			 field(b, t, n, i, "callee_addr"),
			 field(zb, t, n, i, "callee_zone"));
		printf("%-28.28s %-22s %-28.28s %-22s %-10s %9s %9s %s\n",
		       field(a, t, n, i, "caller"), ca,
		       field(b, t, n, i, "callee"), cb,
		       field(st, t, n, i, "state"),
		       fmt_secs(d, t, n, i, "duration"),
		       fmt_secs(tk, t, n, i, "talk"), fmt_media(md, t, n, i));
	}
}

static void print_stats(const struct ctl_jtok *t, size_t n, long obj)
{
	char name[FIELD_MAX], v[FIELD_MAX];
	size_t i, k;

	(void)n;
	for (k = 0, i = (size_t)obj + 1; k < t[obj].n; k++) {
		ctl_json_unescape(name, sizeof(name), &t[i]);
		snprintf(v, sizeof(v), "%.*s", STR_FMT(t[i + 1].s));
		printf("%-40s %s\n", name, v);
		i = t[i + 1].next;
	}
}

/* Tokenise an answer; tokens in *tp (malloc'd).  Count, or <= 0. */
static long parse_answer(struct str ans, struct ctl_jtok **tp)
{
	struct ctl_jtok *t = NULL;
	size_t max = 256;
	long n;

	do {
		free(t);
		max *= 4;
		t = malloc(sizeof(*t) * max);
		n = t ? ctl_json_parse(t, max, ans, NULL) : -ENOMEM;
	} while (n == -ENOSPC && max < ans.len + 2);
	if (n > 0 && t[0].type != CTL_J_OBJ)
		n = -EINVAL;
	*tp = t;
	return n;
}

/* Print the answer (as is with --json); returns the exit code. */
static int show(const struct opts *o, struct str ans)
{
	char err[FIELD_MAX];
	struct ctl_jtok *t;
	long n = parse_answer(ans, &t), v;
	bool ok;

	if (n <= 0) {
		fprintf(stderr, "sipguardctl: bad answer from the daemon\n");
		free(t);
		return EXIT_CONNECT;
	}
	v = ctl_json_get(t, (size_t)n, 0, "ok");
	ok = v >= 0 && t[v].type == CTL_J_TRUE;
	if (o->json)
		printf("%.*s\n", STR_FMT(ans));
	else if (!ok)
		fprintf(stderr, "sipguardctl: %s\n",
			field(err, t, (size_t)n, 0, "error"));
	else if (ctl_json_get(t, (size_t)n, 0, "follow") > 0)
		fprintf(stderr, "following security events\n");
	else if ((v = ctl_json_get(t, (size_t)n, 0, "bans")) > 0 &&
		 t[v].type == CTL_J_ARR)
		print_bans(t, (size_t)n, v);
	else if ((v = ctl_json_get(t, (size_t)n, 0, "rules")) > 0 &&
		 t[v].type == CTL_J_ARR)
		print_rules(t, (size_t)n, v);
	else if ((v = ctl_json_get(t, (size_t)n, 0, "calls")) > 0 &&
		 t[v].type == CTL_J_ARR)
		print_calls(t, (size_t)n, v);
	else if ((v = ctl_json_get(t, (size_t)n, 0, "stats")) > 0 &&
		 t[v].type == CTL_J_OBJ)
		print_stats(t, (size_t)n, v);
	else
		printf("ok\n");
	free(t);
	return ok ? EXIT_OK : EXIT_DAEMON;
}

/* --------------------------------------------------------------- follow */

/* One event line, human-readable: time, type, event, source, rule,
 * reason, and the count of a repeat line. */
static void print_event(struct str line)
{
	char ts[FIELD_MAX], ty[FIELD_MAX], ev[FIELD_MAX], src[FIELD_MAX],
		ru[FIELD_MAX], why[FIELD_MAX], cnt[FIELD_MAX], z[FIELD_MAX];
	struct ctl_jtok *t;
	long n = parse_answer(line, &t), v;

	if (n <= 0) {
		free(t);
		return;
	}
	if ((v = ctl_json_get(t, (size_t)n, 0, "missed")) > 0) {
		printf("-- %.*s events missed (read too slowly) --\n",
		       STR_FMT(t[v].s));
	} else {
		field(cnt, t, (size_t)n, 0, "count");
		printf("%-24s %-12s %-18s %-24s %-8s %-20s %s%s%s\n",
		       field(ts, t, (size_t)n, 0, "ts"),
		       field(ty, t, (size_t)n, 0, "type"),
		       field(ev, t, (size_t)n, 0, "event"),
		       field(src, t, (size_t)n, 0, "src"),
		       field(z, t, (size_t)n, 0, "zone"),
		       field(ru, t, (size_t)n, 0, "rule"),
		       field(why, t, (size_t)n, 0, "reason"),
		       strcmp(cnt, "1") ? " x" : "", strcmp(cnt, "1") ? cnt : "");
	}
	fflush(stdout);
	free(t);
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

	if (parse_opts(&o, argc, argv) || build(line, sizeof(line) - 1, &o)) {
		usage(stderr);
		return EXIT_USAGE;
	}
	fd = dial(o.sock);
	if (fd < 0) {
		fprintf(stderr, "sipguardctl: %s: %s\n", o.sock, strerror(-fd));
		return EXIT_CONNECT;
	}
	strcat(line, "\n");
	ans = send_all(fd, line, strlen(line)) ? NULL : recv_line(fd, &len, &total);
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
