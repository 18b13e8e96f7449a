/*
 * http.h - the operations HTTP endpoint (libmicrohttpd driven by our
 * event loop; see http.c).  Pages are produced by a callback on the loop
 * thread.
 */
#ifndef SIPGUARD_CTL_HTTP_H
#define SIPGUARD_CTL_HTTP_H

#include "core/addr.h"

struct buf;
struct loop;
struct http;

/* One request, valid only during the page callback. */
struct http_req {
	const char *method; /* "GET", "HEAD" or "POST" (never with a body) */
	const char *path;   /* as requested, without the query */
	void *conn;         /* libmicrohttpd's connection */
};

/* A request header or query argument (decoded), or NULL. */
const char *http_req_header(const struct http_req *rq, const char *name);
const char *http_req_arg(const struct http_req *rq, const char *name);

struct http_resp {
	struct buf *body;
	const char *type; /* Content-Type; NULL: text/plain */
	unsigned status;  /* 0: 200 */
};

/*
 * Write the answer to rq into rs.  0; -ENOENT (404); -EPERM (401, with
 * WWW-Authenticate: Bearer); -EOPNOTSUPP (405: method not allowed on
 * that path); another -errno (500).  Every answer carries no-store,
 * nosniff and a same-origin Content-Security-Policy.
 */
typedef int http_page_fn(void *arg, const struct http_req *rq,
			 struct http_resp *rs);

/* Listen on addr (TCP).  0, -EINVAL, -ENOMEM, -EADDRNOTAVAIL (cannot
 * bind) or -errno. */
int http_new(struct http **hp, struct loop *l, const struct sg_addr *addr,
	     http_page_fn *fn, void *arg);
/* Stop serving, close every connection.  NULL does nothing. */
void http_free(struct http *h);

#endif
