/*
 * fuzz_sip_msg.c - sip_msg_parse on hostile bytes.  The first byte picks
 * datagram or stream mode (and a tight or default limit set); the rest
 * is the message.  Checks that every slice of a parsed message lies
 * inside the input, the error offset too, and that the builder writes
 * an unchanged message back byte for byte.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "sip/sip.h"

static const char *g_lo, *g_hi;

static void in_input(struct str s)
{
	if (!s.p) {
		assert(s.len == 0);
		return;
	}
	assert(s.p >= g_lo && s.p <= g_hi);
	assert(s.len <= (size_t)(g_hi - s.p));
}

static void check_uri(const struct sip_uri *u)
{
	in_input(u->raw);
	in_input(u->scheme);
	in_input(u->user);
	in_input(u->password);
	in_input(u->host);
	in_input(u->params);
	in_input(u->headers);
	in_input(u->transport);
	in_input(u->user_param);
	in_input(u->maddr);
	in_input(u->method);
	in_input(u->ttl);
}

static void check_na(const struct sip_nameaddr *na)
{
	in_input(na->raw);
	if (na->star)
		return;
	in_input(na->display);
	in_input(na->params);
	in_input(na->tag);
	check_uri(&na->uri);
}

static void check_via(const struct sip_via *v)
{
	in_input(v->raw);
	in_input(v->proto_name);
	in_input(v->proto_ver);
	in_input(v->transport);
	in_input(v->host);
	in_input(v->params);
	in_input(v->branch);
	in_input(v->received);
	in_input(v->maddr);
	in_input(v->ttl);
	in_input(v->rport);
}

static void check_msg(const struct sip_msg *m)
{
	unsigned i;

	in_input(m->raw);
	assert(m->raw.p == g_lo);
	if (m->is_request) {
		in_input(m->method);
		in_input(m->ruri_raw);
		check_uri(&m->ruri);
	} else {
		assert(m->status >= 100 && m->status <= 699);
		in_input(m->reason);
	}
	assert(m->nhdr <= SIP_MAX_HEADERS);
	for (i = 0; i < m->nhdr; i++) {
		const struct sip_hdr *h = &m->hdr[i];

		in_input(h->name);
		in_input(h->value);
		in_input(h->line);
		assert(h->name.p == h->line.p);
		assert(h->value.p >= h->line.p &&
		       h->value.p + h->value.len <= h->line.p + h->line.len);
		assert(h->next == -1 ||
		       (h->next > (int)i && (unsigned)h->next < m->nhdr));
		assert(sip_hdr_classify(h->name) == h->id);
	}
	assert(m->nvia >= 1 && m->nvia <= SIP_MAX_VIA);
	for (i = 0; i < m->nvia; i++)
		check_via(&m->via[i]);
	check_na(&m->from);
	check_na(&m->to);
	for (i = 0; i < m->ncontact; i++)
		check_na(&m->contact[i]);
	for (i = 0; i < m->nroute; i++)
		check_na(&m->route[i]);
	for (i = 0; i < m->nrr; i++)
		check_na(&m->rr[i]);
	in_input(m->call_id);
	assert(m->call_id.len > 0);
	in_input(m->cseq.method);
	assert(m->cseq.num <= 0x7fffffffu);
	assert(m->max_forwards >= -1 && m->max_forwards <= 255);
	in_input(m->content_type);
	in_input(m->body);
	in_input(m->user_agent);
	assert(m->body.p + m->body.len == m->raw.p + m->raw.len);
	if (m->content_length >= 0)
		assert((size_t)m->content_length == m->body.len);
}

/* An unedited build is the message itself. */
static void check_build(const struct sip_msg *m)
{
	struct sip_bld b;
	struct buf out;

	buf_init(&out, 1 << 17);
	sip_bld_init(&b, m);
	assert(sip_bld_write(&b, &out) == 0);
	assert(out.len == m->raw.len && !memcmp(out.p, m->raw.p, out.len));
	buf_reset(&out);
	sip_bld_init(&b, m);
	sip_bld_body(&b, STR("x"));
	assert(sip_bld_write(&b, &out) == 0);
	buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sip_msg msg;
	struct sip_limits lim = sip_limits_default;
	struct sip_perr e;
	unsigned flags;
	int rc;

	if (size < 1)
		return 0;
	flags = (data[0] & 1) ? SIP_PARSE_STREAM : SIP_PARSE_DGRAM;
	if (data[0] & 2) {
		lim.max_headers = 8;
		lim.max_line = 64;
		lim.max_via = 2;
		lim.max_uri = 32;
		lim.max_msg_size = 512;
	}
	g_lo = (const char *)data + 1;
	g_hi = g_lo + size - 1;
	rc = sip_msg_parse(&msg, g_lo, size - 1, &lim, flags, &e);
	if (rc == 0) {
		assert(e.code == SIP_PE_NONE);
		check_msg(&msg);
		check_build(&msg);
	} else {
		assert(e.code != SIP_PE_NONE && e.reason);
		assert(e.off <= size - 1);
		if (e.code == SIP_PE_VERSION)
			check_msg(&msg);
	}
	return 0;
}
