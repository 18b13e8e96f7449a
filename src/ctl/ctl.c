/*
 * ctl.c - the control socket server: a UNIX stream socket on the daemon's
 * event loop, non-blocking, speaking the JSON-per-line protocol of ctl.h
 * (requests parsed by ctlproto.c, answers built by ctlout.c, both with
 * jansson).
 *
 * Who may talk to it: the socket is created with mode 0600 (0660 with a
 * group) under a tight umask, so there is no window with looser
 * permissions, and every peer's credentials (SO_PEERCRED) are checked:
 * root, the daemon's own uid, or the configured group.  Connections are
 * capped in total and per uid, requests are at most CTL_REQ_MAX bytes and
 * idle connections time out, so a local user who is allowed in still
 * cannot pin the daemon's memory or descriptors.
 *
 * One request is handled at a time per connection: while its answer is
 * being written the connection is not read (back-pressure), and answers
 * are bounded by CTL_RESP_MAX.  A bad request gets an error answer and
 * the connection goes on with the next line; a line over CTL_REQ_MAX
 * gets one and is hung up on, as its end cannot be found.
 *
 * A connection that asks for "events" becomes a follower: from then on
 * it only receives event lines (ctl_publish()), through its own bounded
 * queue (subq.c), and what it sends is ignored.  It has no idle timeout
 * (it is quiet by design) but counts against the same connection caps.
 */
#include "ctl/ctl.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/mem.h"
#include "ctl/ctl_int.h"
#include "events/events.h"

enum {
	CTL_BACKLOG = 16,
	CTL_ACCEPT_BATCH = 16,
	CTL_CONNS_LIMIT = 256,
};

struct ctl_conn {
	int fd; /* -1: free slot */
	struct ctl *c;
	uid_t uid;
	gid_t gid;
	pid_t pid;
	unsigned events; /* LOOP_READ or LOOP_WRITE */
	bool eof, closing;
	bool follow;            /* an events follower */
	struct ctl_filter filt; /* its filter */
	struct ctl_subq q;      /* its queue */
	size_t in_len, out_off;
	struct buf out;
	struct tmr idle;
	char in[CTL_REQ_MAX];
};

struct ctl {
	struct loop *l;
	int fd;
	bool bound; /* path is our socket: unlink it at the end */
	struct ctl_conf conf;
	struct ctl_ops ops;
	void *arg;
	unsigned nconns;
	unsigned followers;
	uint64_t follow_missed; /* lines followers lost */
	struct ctl_conn *conns; /* conf.max_conns slots */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

/* -------------------------------------------------------------- answers */

static const char *errtext(int err)
{
	switch (err) {
	case -ENOENT:
		return "not found";
	case -EEXIST:
		return "exists";
	case -ENOSPC:
		return "table full";
	case -EINVAL:
		return "invalid argument";
	case -EPERM:
		return "not permitted";
	case -EOPNOTSUPP:
		return "not supported";
	case -EMSGSIZE:
		return "answer too large";
	}
	return strerror(-err);
}

/*
 * Replace what was appended since len0 with {"ok":false,"error":why}
 * (plus "offset" when off >= 0).  why may hold any bytes (a reload error
 * names a file): made valid UTF-8.  The literal fallback is for the case
 * jansson has no memory left: the client still gets an answer.
 */
static void answer_error(struct buf *b, size_t len0, const char *why, long off)
{
	json_t *j = json_pack("{s:b, s:o}", "ok", 0, "error",
			      ctl__json_text(str_cstr(why)));

	b->len = len0;
	if (j && off >= 0 &&
	    json_object_set_new(j, "offset", json_integer(off))) {
		json_decref(j);
		j = NULL;
	}
	if (!j || ctl__json_put(b, j) || buf_append(b, "\n", 1)) {
		b->len = len0;
		buf_append_cstr(b, "{\"ok\":false,\"error\":\"error\"}\n");
	}
	json_decref(j);
}

/* {"ok":true} with follow:true for a follower. */
static void answer_ok(struct buf *b, bool follow)
{
	size_t len0 = b->len;
	json_t *j = follow ? json_pack("{s:b, s:b}", "ok", 1, "follow", 1)
			   : json_pack("{s:b}", "ok", 1);

	if (!j || ctl__json_put(b, j) || buf_append(b, "\n", 1))
		answer_error(b, len0, errtext(-ENOMEM), -1);
	json_decref(j);
}

typedef int list_fn(void *arg, struct ctl_out *o);

static list_fn *list_of(const struct ctl_ops *ops, enum ctl_cmd cmd)
{
	if (cmd == CTL_CMD_BANS)
		return ops->list_bans;
	if (cmd == CTL_CMD_RULES)
		return ops->list_rules;
	if (cmd == CTL_CMD_CALLS)
		return ops->list_calls;
	if (cmd == CTL_CMD_HELD)
		return ops->list_held;
	return ops->stats;
}

static int answer_list(struct ctl *c, struct buf *b, enum ctl_cmd cmd)
{
	list_fn *fn = list_of(&c->ops, cmd);
	struct ctl_out o = {b, cmd, OUT_LIST, 0, 0, NULL, NULL};
	/* Our own fixed text; every item after it is jansson's. */
	static const char *const head[] = {
		[CTL_CMD_BANS] = "{\"ok\":true,\"bans\":[",
		[CTL_CMD_RULES] = "{\"ok\":true,\"rules\":[",
		[CTL_CMD_STATS] = "{\"ok\":true,\"stats\":",
		[CTL_CMD_RELOAD] = NULL,
		[CTL_CMD_CALLS] = "{\"ok\":true,\"calls\":[",
		[CTL_CMD_DRAIN] = NULL,
		[CTL_CMD_EVENTS] = NULL,
		[CTL_CMD_HELD] = "{\"ok\":true,\"held\":[",
	};
	int err;

	if (!fn)
		return -EOPNOTSUPP;
	if (buf_append_cstr(b, head[cmd]))
		return -EMSGSIZE;
	err = fn(c->arg, &o);
	if (err)
		ctl__out_drop(&o);
	else
		err = ctl__out_end(&o);
	return err == -ENOSPC ? -EMSGSIZE : err;
}

/* reload: the daemon's own error text (file:line:column: ...) is the
 * answer, so that the operator sees what --check-config would say. */
static void answer_reload(struct ctl *c, struct buf *b, size_t len0)
{
	char why[512] = "";
	int err;

	if (!c->ops.reload) {
		answer_error(b, len0, errtext(-EOPNOTSUPP), -1);
		return;
	}
	err = c->ops.reload(c->arg, why, sizeof(why));
	if (err)
		answer_error(b, len0, why[0] ? why : errtext(err), -1);
	else
		answer_ok(b, false);
}

/* events: the connection becomes a follower (see the file comment). */
static int start_follow(struct ctl_conn *k, const struct ctl_req *rq)
{
	int err;

	if (k->follow)
		return -EINVAL;
	memset(&k->filt, 0, sizeof(k->filt));
	snprintf(k->filt.type, sizeof(k->filt.type), "%s", rq->evtype);
	if (rq->has_src)
		k->filt.src = rq->addr;
	if ((err = ctl_subq_init(&k->q, CTL_SUBQ_SIZE)))
		return err;
	k->follow = true;
	k->c->followers++;
	return 0;
}

/* Handle one request line: append exactly one answer line to b. */
static void answer(struct ctl_conn *k, struct str line)
{
	struct ctl *c = k->c;
	struct buf *b = &k->out;
	size_t len0 = b->len;
	struct ctl_perr pe;
	struct ctl_req rq;
	char why[CTL_ERR_MAX + 16];
	int (*fn)(void *, const struct ctl_req *) = NULL;
	int err;

	if ((err = ctl_req_parse(&rq, line, &pe))) {
		if (err == -EINVAL)
			snprintf(why, sizeof(why), "bad request: %s", pe.msg);
		else
			snprintf(why, sizeof(why), "%s", errtext(err));
		answer_error(b, len0, why, err == -EINVAL ? pe.off : -1);
		return;
	}
	rq.uid = k->uid;
	rq.gid = k->gid;
	rq.pid = k->pid;
	switch (rq.cmd) {
	case CTL_CMD_BAN:
		fn = c->ops.ban;
		break;
	case CTL_CMD_UNBAN:
		fn = c->ops.unban;
		break;
	case CTL_CMD_MONITOR:
		fn = c->ops.set_monitor;
		break;
	case CTL_CMD_RELOAD:
		answer_reload(c, b, len0);
		return;
	case CTL_CMD_DRAIN:
		fn = c->ops.drain;
		break;
	case CTL_CMD_UNBLOCK:
		fn = c->ops.unblock;
		break;
	case CTL_CMD_EVENTS:
		err = start_follow(k, &rq);
		if (err)
			answer_error(b, len0, errtext(err), -1);
		else
			answer_ok(b, true);
		return;
	default:
		err = answer_list(c, b, rq.cmd);
		if (err)
			answer_error(b, len0, errtext(err), -1);
		return;
	}
	err = fn ? fn(c->arg, &rq) : -EOPNOTSUPP;
	if (err)
		answer_error(b, len0, errtext(err), -1);
	else
		answer_ok(b, false);
}

/* ---------------------------------------------------------- connections */

static void conn_close(struct ctl_conn *k)
{
	if (k->fd < 0)
		return;
	tmr_cancel(&k->idle);
	loop_fd_del(k->c->l, k->fd);
	close(k->fd);
	k->fd = -1;
	buf_free(&k->out);
	k->c->nconns--;
	if (k->follow) {
		ctl_subq_free(&k->q);
		k->follow = false;
		k->c->followers--;
	}
}

static void on_idle(void *arg)
{
	conn_close(arg);
}

static void conn_arm(struct ctl_conn *k)
{
	uint32_t ms = k->c->conf.idle_ms;

	if (k->follow) {
		tmr_cancel(&k->idle);
		return;
	}
	tmr_start(loop_timers(k->c->l), &k->idle, ms, on_idle, k);
}

/* 0: all written or would block; -errno: broken connection. */
static int conn_write(struct ctl_conn *k)
{
	ssize_t n;

	while (k->out_off < k->out.len) {
		n = send(k->fd, k->out.p + k->out_off, k->out.len - k->out_off,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		k->out_off += (size_t)n;
		conn_arm(k);
	}
	/* Do not keep a large answer's memory around. */
	buf_free(&k->out);
	buf_init(&k->out, CTL_RESP_MAX);
	k->out_off = 0;
	return 0;
}

static int conn_read(struct ctl_conn *k)
{
	ssize_t n;

	if (k->eof || k->in_len == sizeof(k->in))
		return 0;
	do
		n = recv(k->fd, k->in + k->in_len, sizeof(k->in) - k->in_len,
			 MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
	if (n == 0)
		k->eof = true;
	k->in_len += (size_t)n;
	conn_arm(k);
	return 0;
}

/* Answer the next buffered request, if any.  Returns true if it did. */
static bool conn_next(struct ctl_conn *k)
{
	char *lf = memchr(k->in, '\n', k->in_len);
	size_t len;

	if (lf) {
		len = (size_t)(lf - k->in);
		answer(k, str_make(k->in, len));
		k->in_len -= len + 1;
		memmove(k->in, lf + 1, k->in_len);
		return true;
	}
	if (k->in_len == sizeof(k->in)) {
		answer_error(&k->out, k->out.len, "request too long", -1);
		k->closing = true;
		k->in_len = 0;
		return true;
	}
	if (k->eof && k->in_len) {
		/* A last request without its LF, then end of input. */
		answer(k, str_make(k->in, k->in_len));
		k->in_len = 0;
		return true;
	}
	return false;
}

/* A follower: what it sends is ignored; move queued lines out. */
static int follow_pump(struct ctl_conn *k)
{
	int err = 0;

	k->in_len = 0;
	while (!err && k->out.len == 0 && k->q.lines + k->q.missed)
		if (ctl_subq_pop(&k->q, &k->out, CTL_SUBQ_BATCH) < 0 ||
		    (err = conn_write(k)) < 0)
			return err ? err : -ENOMEM;
	return 0;
}

static void conn_step(struct ctl_conn *k)
{
	unsigned want;

	if (k->follow && follow_pump(k) < 0) {
		conn_close(k);
		return;
	}

	while (k->out.len == 0 && !k->closing && !k->follow && conn_next(k))
		if (conn_write(k) < 0) {
			conn_close(k);
			return;
		}
	if (k->out.len == 0 && (k->closing || (k->eof && !k->in_len))) {
		conn_close(k);
		return;
	}
	want = k->out.len ? LOOP_WRITE : LOOP_READ;
	if (want != k->events) {
		if (loop_fd_mod(k->c->l, k->fd, want)) {
			conn_close(k);
			return;
		}
		k->events = want;
	}
}

static void conn_io(struct loop *l, int fd, unsigned revents, void *arg)
{
	struct ctl_conn *k = arg;
	int err = 0;

	(void)l;
	(void)fd;
	if (k->out.len)
		err = conn_write(k);
	else if (revents & (LOOP_READ | LOOP_ERR))
		err = conn_read(k);
	if (err) {
		conn_close(k);
		return;
	}
	conn_step(k);
}

/* --------------------------------------------------------------- accept */

static bool peer_ok(const struct ctl_conf *cf, const struct ucred *u)
{
	if (u->uid == 0 && cf->allow_root)
		return true;
	if (u->uid == cf->uid)
		return true;
	return cf->group && u->gid == cf->gid;
}

/* Tell a refused peer why (best effort, never blocks) and hang up. */
static void refuse(int fd, const char *why)
{
	char msg[128];
	struct buf b;
	ssize_t sent;

	buf_init_fixed(&b, msg, sizeof(msg));
	answer_error(&b, 0, why, -1);
	sent = send(fd, b.p, b.len, MSG_NOSIGNAL | MSG_DONTWAIT);
	(void)sent;
	close(fd);
}

static unsigned conns_of(const struct ctl *c, uid_t uid)
{
	unsigned i, n = 0;

	for (i = 0; i < c->conf.max_conns; i++)
		if (c->conns[i].fd >= 0 && c->conns[i].uid == uid)
			n++;
	return n;
}

static void conn_open(struct ctl *c, int fd)
{
	struct ucred u;
	socklen_t len = sizeof(u);
	struct ctl_conn *k = NULL;
	unsigned i;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &u, &len) != 0 ||
	    len != sizeof(u)) {
		close(fd);
		return;
	}
	if (!peer_ok(&c->conf, &u)) {
		LOG_RL(LOG_LVL_WARN, "ctl: refused uid %u pid %d",
		       (unsigned)u.uid, (int)u.pid);
		refuse(fd, "permission denied");
		return;
	}
	for (i = 0; i < c->conf.max_conns && !k; i++)
		if (c->conns[i].fd < 0)
			k = &c->conns[i];
	if (!k || conns_of(c, u.uid) >= c->conf.max_per_uid) {
		LOG_RL(LOG_LVL_WARN, "ctl: too many connections (uid %u)",
		       (unsigned)u.uid);
		refuse(fd, "too many connections");
		return;
	}
	if (loop_fd_add(c->l, fd, LOOP_READ, conn_io, k) != 0) {
		close(fd);
		return;
	}
	k->fd = fd;
	k->uid = u.uid;
	k->gid = u.gid;
	k->pid = u.pid;
	k->events = LOOP_READ;
	k->eof = k->closing = false;
	k->in_len = k->out_off = 0;
	buf_init(&k->out, CTL_RESP_MAX);
	tmr_init(&k->idle);
	conn_arm(k);
	c->nconns++;
}

static void on_accept(struct loop *l, int fd, unsigned revents, void *arg)
{
	struct ctl *c = arg;
	unsigned n;
	int cfd;

	(void)l;
	(void)revents;
	/* A bounded batch per turn: the SIP traffic must not starve. */
	for (n = 0; n < CTL_ACCEPT_BATCH; n++) {
		cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0)
			break;
		conn_open(c, cfd);
	}
}

/* ------------------------------------------------------------ lifecycle */

void ctl_conf_defaults(struct ctl_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->path = CTL_DEFAULT_PATH;
	c->uid = geteuid();
	c->allow_root = true;
	c->max_conns = CTL_MAX_CONNS;
	c->max_per_uid = CTL_MAX_PER_UID;
	c->idle_ms = CTL_IDLE_MS;
}

/*
 * Remove a stale socket left by a daemon that died; refuse to replace
 * anything else, or a socket somebody still answers on.
 */
static int clear_path(const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, rc;

	if (lstat(sa->sun_path, &st) != 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	if (rc == 0)
		return -EADDRINUSE;
	if (unlink(sa->sun_path) != 0 && errno != ENOENT)
		return -errno;
	return 0;
}

static int ctl_listen(struct ctl *c)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	mode_t old, mode = c->conf.group ? 0660 : 0600;
	int err, rc;

	memcpy(sa.sun_path, c->path, sizeof(sa.sun_path));
	if ((err = clear_path(&sa)))
		return err;
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	/* umask is per process: this runs at start-up, before threads. */
	old = umask((mode_t)(~mode & 0777));
	rc = bind(c->fd, (const struct sockaddr *)&sa, sizeof(sa));
	err = -errno;
	umask(old);
	if (rc != 0)
		return err;
	c->bound = true;
	if (c->conf.group && chown(c->path, (uid_t)-1, c->conf.gid) != 0)
		return -errno;
	if (chmod(c->path, mode) != 0 || listen(c->fd, CTL_BACKLOG) != 0)
		return -errno;
	return loop_fd_add(c->l, c->fd, LOOP_READ, on_accept, c);
}

int ctl_new(struct ctl **cp, struct loop *l, const struct ctl_conf *conf,
	    const struct ctl_ops *ops, void *arg)
{
	struct ctl *c;
	unsigned i;
	int err;

	if (!cp || !l || !conf || !ops || !conf->path || !*conf->path ||
	    !conf->max_conns || conf->max_conns > CTL_CONNS_LIMIT ||
	    !conf->max_per_uid || !conf->idle_ms)
		return -EINVAL;
	if (strlen(conf->path) >= sizeof(c->path))
		return -ENAMETOOLONG;
	c = mem_zalloc(sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->l = l;
	c->fd = -1;
	c->conf = *conf;
	c->ops = *ops;
	c->arg = arg;
	snprintf(c->path, sizeof(c->path), "%s", conf->path);
	c->conf.path = c->path;
	c->conns = mem_zalloc(sizeof(*c->conns) * conf->max_conns);
	if (!c->conns) {
		mem_free(c);
		return -ENOMEM;
	}
	for (i = 0; i < conf->max_conns; i++) {
		c->conns[i].fd = -1;
		c->conns[i].c = c;
	}
	err = ctl_listen(c);
	if (err) {
		ctl_free(c);
		return err;
	}
	*cp = c;
	return 0;
}

void ctl_free(struct ctl *c)
{
	unsigned i;

	if (!c)
		return;
	for (i = 0; c->conns && i < c->conf.max_conns; i++)
		conn_close(&c->conns[i]);
	if (c->fd >= 0) {
		loop_fd_del(c->l, c->fd);
		close(c->fd);
	}
	if (c->bound)
		unlink(c->path);
	mem_free(c->conns);
	mem_free(c);
}

unsigned ctl_conns(const struct ctl *c)
{
	return c ? c->nconns : 0;
}

void ctl_publish(struct ctl *c, const char *line, size_t len)
{
	struct ctl_conn *k;
	uint64_t m0;
	unsigned i;

	if (!c || !line || !c->followers)
		return;
	for (i = 0; i < c->conf.max_conns; i++) {
		k = &c->conns[i];
		if (k->fd < 0 || !k->follow ||
		    !ctl_filter_match(&k->filt, str_make(line, len)))
			continue;
		m0 = k->q.missed;
		(void)ctl_subq_push(&k->q, line, len);
		c->follow_missed += k->q.missed - m0;
		if (k->out.len == 0)
			conn_step(k);
	}
}

unsigned ctl_followers(const struct ctl *c)
{
	return c ? c->followers : 0;
}

uint64_t ctl_follow_missed(const struct ctl *c)
{
	return c ? c->follow_missed : 0;
}
