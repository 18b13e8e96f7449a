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

/*
 * Write the page for path (as requested, e.g. "/metrics") into out and
 * set *typep to its Content-Type (NULL: text/plain).  0, -ENOENT (404)
 * or another -errno (500).
 */
typedef int http_page_fn(void *arg, const char *path, struct buf *out,
			 const char **typep);

/* Listen on addr (TCP).  0, -EINVAL, -ENOMEM, -EADDRNOTAVAIL (cannot
 * bind) or -errno. */
int http_new(struct http **hp, struct loop *l, const struct sg_addr *addr,
	     http_page_fn *fn, void *arg);
/* Stop serving, close every connection.  NULL does nothing. */
void http_free(struct http *h);

#endif
