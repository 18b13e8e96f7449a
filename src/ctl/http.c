/*
 * http.c - the small HTTP server of the operations endpoint (Prometheus
 * /metrics, and the dashboard's page and API when it is on), on
 * libmicrohttpd in "external epoll" mode: MHD keeps its
 * own epoll set, whose single fd we watch in our event loop, and MHD_run
 * is called from our loop thread only (on that fd, or on a timer for
 * MHD's connection timeouts).  So the page callback runs on the loop
 * thread and reads the daemon's counters directly: no threads, no locks,
 * no copies of counters to publish.
 *
 * Only GET, HEAD and body-less POST reach the callback (405 for other
 * methods); request bodies are refused (the connection is closed).
 * Connections are capped and time out, so a slow client cannot hold the
 * endpoint.  It is plain HTTP: bind it to a management address.
 */
#include "ctl/http.h"

#include <errno.h>
#include <microhttpd.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/mem.h"
#include "core/tmr.h"

enum {
	HTTP_MAX_CONNS = 16,
	HTTP_TIMEOUT_S = 10,
	HTTP_PAGE_MAX = 4 << 20, /* bytes of one page */
	HTTP_RUN_MAX_MS = 1000,  /* longest wait between MHD_run */
};

/* Owner: the caller of http_new(). */
struct http {
	struct loop *loop;
	struct MHD_Daemon *mhd;
	int epfd;
	http_page_fn *fn;
	void *arg;
	struct tmr tick;
	struct buf page;
	uint64_t served, refused;
};

const char *http_req_header(const struct http_req *rq, const char *name)
{
	return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

const char *http_req_arg(const struct http_req *rq, const char *name)
{
	return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND,
					   name);
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status,
			     const char *type, const char *body, size_t len)
{
	struct MHD_Response *r;
	enum MHD_Result ok;

	r = MHD_create_response_from_buffer(len, (void *)(uintptr_t)body,
					    MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	(void)MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	/* The dashboard's page and data: never cached, never framed, no
	 * script or style from anywhere else (all of it is ours). */
	(void)MHD_add_response_header(r, "Cache-Control", "no-store");
	(void)MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	(void)MHD_add_response_header(r, "Content-Security-Policy",
				      "default-src 'self'; "
				      "frame-ancestors 'none'; "
				      "base-uri 'none'; form-action 'none'");
	(void)MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	if (status == MHD_HTTP_UNAUTHORIZED)
		(void)MHD_add_response_header(r, "WWW-Authenticate",
					      "Bearer realm=\"sipguard\"");
	ok = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	static const char txt[] = "text/plain; charset=utf-8";
	struct http *h = cls;
	struct http_req rq = {method, url, conn};
	struct http_resp rs = {&h->page, NULL, 0};
	int err;

	(void)version;
	(void)upload;
	/* First call per request: headers only.  A body is not wanted. */
	if (!*con_cls) {
		*con_cls = h;
		return MHD_YES;
	}
	if (*upload_size) {
		h->refused++;
		return MHD_NO;
	}
	if (strcmp(method, "GET") && strcmp(method, "HEAD") &&
	    strcmp(method, "POST")) {
		h->refused++;
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, txt,
			     "method not allowed\n", 19);
	}
	buf_reset(&h->page);
	err = h->fn(h->arg, &rq, &rs);
	if (err == -ENOENT) {
		h->refused++;
		return reply(conn, MHD_HTTP_NOT_FOUND, txt, "not found\n", 10);
	}
	if (err == -EOPNOTSUPP) {
		h->refused++;
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, txt,
			     "method not allowed\n", 19);
	}
	if (err == -EPERM) {
		h->refused++;
		return reply(conn, MHD_HTTP_UNAUTHORIZED, txt,
			     "token required\n", 15);
	}
	if (err) {
		LOG_RL(LOG_LVL_WARN, "http: page %s: %s", url, strerror(-err));
		return reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, txt,
			     "error\n", 6);
	}
	h->served++;
	return reply(conn, rs.status ? rs.status : MHD_HTTP_OK,
		     rs.type ? rs.type : txt, h->page.p, h->page.len);
}

static void on_tick(void *arg);

/* Run MHD, then wait for its fd or its next timeout (bounded). */
static void run(struct http *h)
{
	MHD_UNSIGNED_LONG_LONG ms = HTTP_RUN_MAX_MS;

	(void)MHD_run(h->mhd);
	if (MHD_get_timeout(h->mhd, &ms) != MHD_YES || ms > HTTP_RUN_MAX_MS)
		ms = HTTP_RUN_MAX_MS;
	tmr_start(loop_timers(h->loop), &h->tick, (uint64_t)ms, on_tick, h);
}

static void on_tick(void *arg)
{
	run(arg);
}

static void on_fd(struct loop *l, int fd, unsigned revents, void *arg)
{
	(void)l;
	(void)fd;
	(void)revents;
	run(arg);
}

int http_new(struct http **hp, struct loop *l, const struct sg_addr *addr,
	     http_page_fn *fn, void *arg)
{
	struct http *h;
	const union MHD_DaemonInfo *di;
	int err;

	if (!hp || !l || !addr || !fn)
		return -EINVAL;
	*hp = NULL;
	h = mem_zalloc(sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->loop = l;
	h->fn = fn;
	h->arg = arg;
	h->epfd = -1;
	tmr_init(&h->tick);
	buf_init(&h->page, HTTP_PAGE_MAX);
	h->mhd = MHD_start_daemon(
		MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
			(sg_addr_family(addr) == AF_INET6 ? MHD_USE_IPv6 : 0),
		sg_addr_port(addr), NULL, NULL, on_request, h,
		MHD_OPTION_SOCK_ADDR, &addr->u.sa, MHD_OPTION_CONNECTION_LIMIT,
		(unsigned)HTTP_MAX_CONNS, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
		(unsigned)HTTP_MAX_CONNS / 2, MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned)HTTP_TIMEOUT_S, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		(size_t)32768, MHD_OPTION_END);
	err = -EADDRNOTAVAIL;
	if (!h->mhd)
		goto fail;
	di = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	err = -EIO;
	if (!di || di->epoll_fd < 0)
		goto fail;
	h->epfd = di->epoll_fd;
	err = loop_fd_add(l, h->epfd, LOOP_READ, on_fd, h);
	if (err) {
		h->epfd = -1;
		goto fail;
	}
	run(h);
	*hp = h;
	return 0;
fail:
	http_free(h);
	return err;
}

void http_free(struct http *h)
{
	if (!h)
		return;
	tmr_cancel(&h->tick);
	if (h->epfd >= 0)
		(void)loop_fd_del(h->loop, h->epfd);
	if (h->mhd)
		MHD_stop_daemon(h->mhd);
	buf_free(&h->page);
	mem_free(h);
}
