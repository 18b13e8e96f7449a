/*
 * daemon.c - the running sipguard: binds the configured listeners, runs
 * the event loop, and hands every datagram to the SIP layer.
 *
 * Issue 2 scope: each UDP datagram is parsed and summarised in one log
 * line; a request that fails to parse is answered statelessly with the
 * status the parser names (400, 416, 505, 513) and its reason, when the
 * headers needed to route a reply can be salvaged; otherwise, and for
 * responses, it is dropped silently (answering garbage only helps a
 * scanner).  Valid messages are not forwarded yet: the proxy comes next.
 */
#include "daemon.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/conf.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/mem.h"
#include "core/siphash.h"
#include "sip/sip.h"
#include "transport/transport.h"

enum {
	DAEMON_MAX_LISTENERS = CONF_MAX_ZONES * CONF_MAX_LISTEN,
	DAEMON_BATCHES_PER_TURN = 8,	/* fairness between sockets */
	DAEMON_LOG_FIELD = 96,		/* bytes of a slice shown in logs */
	DAEMON_REPLY_MAX = 16384,
};

struct listener {
	struct daemon *d;
	int fd;
	unsigned zone;			/* index into conf->zones */
	struct conf_addr addr;
};

/* Owner: main(), through daemon_new()/daemon_free(). */
struct daemon {
	struct loop *loop;
	struct sg_conf *conf;		/* owned; replaced on reload */
	char *config_path;
	struct sip_limits lim;
	struct udp_batch *batch;	/* owned receive buffers */
	struct sip_msg *msg;		/* owned, reused for every datagram */
	struct buf out;			/* reply under construction */
	char outmem[DAEMON_REPLY_MAX];
	uint8_t tag_key[16];		/* keys stateless To-tags */
	struct listener lis[DAEMON_MAX_LISTENERS];
	unsigned nlis;
	unsigned long n_rx, n_parsed, n_refused, n_answered;
};

static void limits_from_conf(struct sip_limits *lim, const struct sg_conf *c)
{
	*lim = sip_limits_default;
	lim->max_msg_size = (size_t)c->sip.limits.max_message_size;
	lim->max_headers = (unsigned)c->sip.limits.max_headers;
	lim->max_line = (size_t)c->sip.limits.max_header_line;
	lim->max_via = (unsigned)c->sip.limits.max_via;
	lim->max_uri = (size_t)c->sip.limits.max_uri;
	lim->max_parts = (unsigned)c->sip.limits.max_body_parts;
}

static const char *safe(char *dst, size_t sz, struct str s)
{
	if (s.len > DAEMON_LOG_FIELD)
		s.len = DAEMON_LOG_FIELD;
	return log_safe(dst, sz, s);
}

static void log_parsed(const struct listener *l, const char *src,
		       const struct sip_msg *m)
{
	char a[LOG_SAFE_SIZE(DAEMON_LOG_FIELD)];
	char b[LOG_SAFE_SIZE(DAEMON_LOG_FIELD)];
	char c[LOG_SAFE_SIZE(DAEMON_LOG_FIELD)];
	const char *zone = l->d->conf->zones[l->zone].name;

	if (m->is_request)
		LOG_RL(LOG_LVL_INFO,
		       "rx udp %s zone=%s: %s %s call-id=%s cseq=%u via=%u "
		       "body=%zu",
		       src, zone, safe(a, sizeof(a), m->method),
		       safe(b, sizeof(b), m->ruri_raw),
		       safe(c, sizeof(c), m->call_id), m->cseq.num, m->nvia,
		       m->body.len);
	else
		LOG_RL(LOG_LVL_INFO,
		       "rx udp %s zone=%s: response %u %s call-id=%s "
		       "cseq=%u %s",
		       src, zone, m->status, safe(a, sizeof(a), m->reason),
		       safe(c, sizeof(c), m->call_id), m->cseq.num,
		       safe(b, sizeof(b), m->cseq.method));
}

/* Answer a request that failed to parse, if it can be answered safely. */
static bool answer_refusal(struct listener *l, const struct sg_addr *from,
			   struct str raw, const struct sip_perr *pe)
{
	struct daemon *d = l->d;
	char reason[160], tag[17];
	int status = sip_perr_status(pe->code);

	snprintf(reason, sizeof(reason), "%s - %s", sip_status_reason(status),
		 pe->reason ? pe->reason : "malformed");
	/* Same datagram, same tag: retransmissions get identical replies. */
	snprintf(tag, sizeof(tag), "%016llx",
		 (unsigned long long)siphash24(raw.p, raw.len, d->tag_key));
	buf_reset(&d->out);
	if (sip_reply_raw(&d->out, raw, status, str_cstr(reason),
			  str_cstr(tag), STR_NULL) != 0)
		return false;
	return udp_send(l->fd, from, d->out.p, d->out.len) == 0;
}

static void handle_dgram(struct listener *l, const struct sg_addr *from,
			 const char *p, size_t len, bool truncated)
{
	struct daemon *d = l->d;
	struct sip_perr pe = { 0 };
	char src[SG_ADDR_STRLEN];
	struct str raw = str_make(p, len);
	bool answered;
	int err;

	d->n_rx++;
	/* CRLF keep-alives (RFC 5626 3.5.1 style, often sent over UDP too). */
	if (len <= 4 && str_trim(raw).len == 0)
		return;
	sg_addr_fmt(from, src, sizeof(src));
	if (truncated) {
		pe.code = SIP_PE_TOO_LARGE;
		pe.reason = "Message too large";
		pe.off = UDP_MAX_DGRAM;
		err = -EMSGSIZE;
	} else {
		err = sip_msg_parse(d->msg, p, len, &d->lim, SIP_PARSE_DGRAM,
				    &pe);
	}
	if (err == 0) {
		d->n_parsed++;
		log_parsed(l, src, d->msg);
		return;
	}
	d->n_refused++;
	answered = answer_refusal(l, from, raw, &pe);
	d->n_answered += answered;
	LOG_RL(LOG_LVL_INFO, "rx udp %s zone=%s: refused: %d %s at byte %u, %s",
	       src, d->conf->zones[l->zone].name, sip_perr_status(pe.code),
	       pe.reason ? pe.reason : "malformed", pe.off,
	       answered ? "answered" : "dropped");
}

static void on_udp(struct loop *lp, int fd, unsigned revents, void *arg)
{
	struct listener *l = arg;
	struct udp_batch *b = l->d->batch;
	unsigned turn, i;
	int n;

	(void)lp;
	(void)revents;
	for (turn = 0; turn < DAEMON_BATCHES_PER_TURN; turn++) {
		n = udp_recv_batch(fd, b);
		if (n < 0) {
			LOG_RL(LOG_LVL_WARN, "udp receive: %s", strerror(-n));
			return;
		}
		for (i = 0; i < (unsigned)n; i++)
			handle_dgram(l, &b->from[i], b->buf[i],
				     b->truncated[i] ? UDP_MAX_DGRAM : b->len[i],
				     b->truncated[i]);
		if (n < UDP_BATCH)
			return;
	}
}

static int open_listeners(struct daemon *d)
{
	char as[SG_ADDR_STRLEN];
	size_t z, i;
	int fd;

	for (z = 0; z < d->conf->n_zones; z++) {
		const struct sg_conf_zone *zc = &d->conf->zones[z];

		for (i = 0; i < zc->n_listen; i++) {
			struct listener *l = &d->lis[d->nlis];

			if (conf_addr_parse(&l->addr, zc->listen[i]) != 0)
				return -EINVAL;	/* the loader validated it */
			sg_addr_fmt(&l->addr.addr, as, sizeof(as));
			if (l->addr.transport != CONF_TP_UDP) {
				log_warn("zone %s: %s is not served yet "
					 "(only UDP so far)", zc->name,
					 zc->listen[i]);
				continue;
			}
			fd = udp_open(&l->addr.addr);
			if (fd < 0) {
				log_err("zone %s: cannot bind udp %s: %s",
					zc->name, as, strerror(-fd));
				return fd;
			}
			l->d = d;
			l->fd = fd;
			l->zone = (unsigned)z;
			d->nlis++;
			if (loop_fd_add(d->loop, fd, LOOP_READ, on_udp, l) != 0)
				return -EIO;
			log_info("zone %s (%s): listening on udp %s", zc->name,
				 zc->trust == CONF_TRUSTED ? "trusted" :
							      "untrusted",
				 as);
		}
	}
	return d->nlis ? 0 : -ENOENT;
}

static void on_stop(struct loop *lp, int signo, void *arg)
{
	(void)arg;
	log_info("signal %d: stopping", signo);
	loop_stop(lp);
}

/* SIGHUP: load the file anew; swap it in only if valid and reloadable. */
static void on_reload(struct loop *lp, int signo, void *arg)
{
	struct daemon *d = arg;
	struct sg_conf *next = NULL;
	char err[CONF_ERR_LEN];

	(void)lp;
	(void)signo;
	if (conf_load(&next, d->config_path, err, sizeof(err)) != 0 ||
	    conf_reload_check(d->conf, next, err, sizeof(err)) != 0) {
		log_err("reload refused, keeping the running configuration: %s",
			err);
		conf_free(next);
		return;
	}
	/* Listener addresses cannot change on reload (checked above), so
	 * the zone indexes held by listeners stay valid. */
	conf_free(d->conf);
	d->conf = next;
	limits_from_conf(&d->lim, next);
	log_set_level((enum log_level)next->log.level);
	log_info("configuration reloaded from %s", d->config_path);
}

int daemon_new(struct daemon **dp, struct sg_conf *conf,
	       const char *config_path)
{
	struct daemon *d = mem_zalloc(sizeof(*d));
	int err = -ENOMEM;

	if (!d) {
		conf_free(conf);
		return -ENOMEM;
	}
	d->conf = conf;
	limits_from_conf(&d->lim, conf);
	buf_init_fixed(&d->out, d->outmem, sizeof(d->outmem));
	d->config_path = strdup(config_path);
	d->msg = mem_alloc(sizeof(*d->msg));
	if (!d->config_path || !d->msg || udp_batch_new(&d->batch) != 0)
		goto fail;
	if (getrandom(d->tag_key, sizeof(d->tag_key), 0) !=
	    (ssize_t)sizeof(d->tag_key)) {
		err = -EIO;
		goto fail;
	}
	err = loop_new(&d->loop);
	if (err)
		goto fail;
	if ((err = loop_signal_add(d->loop, SIGINT, on_stop, d)) != 0 ||
	    (err = loop_signal_add(d->loop, SIGTERM, on_stop, d)) != 0 ||
	    (err = loop_signal_add(d->loop, SIGHUP, on_reload, d)) != 0)
		goto fail;
	err = open_listeners(d);
	if (err) {
		log_err("no listener could be opened");
		goto fail;
	}
	*dp = d;
	return 0;
fail:
	daemon_free(d);
	return err;
}

int daemon_run(struct daemon *d)
{
	int err = loop_run(d->loop);

	log_info("stopped: %lu datagrams, %lu parsed, %lu refused, "
		 "%lu answered",
		 d->n_rx, d->n_parsed, d->n_refused, d->n_answered);
	return err;
}

void daemon_free(struct daemon *d)
{
	unsigned i;

	if (!d)
		return;
	for (i = 0; i < d->nlis; i++) {
		if (d->loop)
			loop_fd_del(d->loop, d->lis[i].fd);
		close(d->lis[i].fd);
	}
	loop_free(d->loop);
	udp_batch_free(d->batch);
	mem_free(d->msg);
	free(d->config_path);
	conf_free(d->conf);
	mem_free(d);
}
