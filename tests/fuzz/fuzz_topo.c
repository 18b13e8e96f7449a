/*
 * fuzz_topo.c - topology hiding on hostile input (src/proxy/topo.c,
 * topo_seal.c).
 *
 * Input: the first byte chooses what the rest is.
 *   'o'  a token: opened as every kind; one that opens must seal back to
 *        the same bytes (one encoding per token).
 *   else a SIP message.  Received from the untrusted zone, it is mapped
 *        back (proxy__topo_inbound); the mapped message must parse.
 *        Sent into the untrusted zone (a request from inside, or an
 *        answer to an outside requester), the hidden message must parse
 *        and name nothing of the inside (10.0.0.x) in its Via, Contact
 *        and Record-Route.
 * A small proxy (untrusted 203.0.113.1:5060, trusted 10.0.0.1:5060) is
 * set up once (its buffers grow and stay); LeakSanitizer checks the rest.
 */
#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"
#include "proxy/proxy_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct proxy *P;
static struct sg_conf_zone zc[2];
static struct tmr_wheel wheel;
static struct sip_msg msg, out_msg;
static struct buf out;
static struct proxy_topo_keys K;

static void add_lis(unsigned zone, const char *ip)
{
	struct proxy_lis *l = &P->lis[P->nlis];

	l->local = (uint16_t)P->nlis;
	l->zone = (uint16_t)zone;
	l->tp = SIP_TP_UDP;
	if (sg_addr_from_host(&l->addr, str_cstr(ip), 5060) != 0)
		abort();
	snprintf(l->host, sizeof(l->host), "%s", ip);
	snprintf(l->hostport, sizeof(l->hostport), "%s:5060", ip);
	P->nlis++;
}

static void init(void)
{
	static const uint8_t key[16] = {7, 7, 7, 7, 1, 2,  3,  4,
					5, 6, 7, 8, 9, 10, 11, 12};

	P = calloc(1, sizeof(*P));
	if (!P)
		abort();
	snprintf(zc[0].name, sizeof(zc[0].name), "outside");
	zc[0].topology_hiding = true;
	zc[0].hide_call_id = true;
	snprintf(zc[0].server_header, sizeof(zc[0].server_header), "x");
	snprintf(zc[1].name, sizeof(zc[1].name), "pbx");
	P->nzones = 2;
	P->zones[0].c = &zc[0];
	P->zones[1].c = &zc[1];
	P->zones[1].trusted = true;
	add_lis(0, "203.0.113.1");
	add_lis(1, "10.0.0.1");
	memcpy(P->key, key, sizeof(key));
	if (proxy__topo_new(P) || proxy__reg_new(&P->reg, P) ||
	    tmr_wheel_init(&wheel, 1000) ||
	    sip_dlgs_new(&P->dlgs, &sip_dlg_conf_default, &wheel, NULL, NULL))
		abort();
	buf_init(&out, PROXY_OUT_MAX);
	proxy__topo_keys(&K, key);
}

static void tokens(const uint8_t *p, size_t n)
{
	static const char kinds[] = "CRPI";
	static char plain[PROXY_TOPO_MAX_PLAIN + 1], tok[4096];
	unsigned i;

	for (i = 0; kinds[i]; i++) {
		int len = proxy__topo_open(&K, kinds[i],
					   str_make((const char *)p, n), plain,
					   sizeof(plain));
		int t;

		if (len < 0)
			continue;
		t = proxy__topo_seal(&K, kinds[i], str_make(plain, (size_t)len),
				     tok, sizeof(tok));
		assert(t == (int)n && memcmp(tok, p, n) == 0);
	}
}

/* Nothing of the inside in what leaves: Via, Contact, Record-Route. */
static bool check_hidden(void)
{
	struct sip_perr pe;
	unsigned i;

	/* Forwarding adds up to two header lines (our Via, Record-Route),
	 * hidden or not: a message at the header limit then goes over. */
	if (msg.nhdr + 2 > SIP_MAX_HEADERS)
		return false;
	if (sip_msg_parse(&out_msg, out.p, out.len, &sip_limits_default,
			  SIP_PARSE_DGRAM, &pe) != 0) {
		fprintf(stderr,
			"hidden message does not parse (%s at %u):\n%.*s\n",
			pe.reason, pe.off, (int)out.len, out.p);
		abort();
	}
	/* An answer keeps the requester's own Vias (outside ones). */
	for (i = 0; out_msg.is_request && i < out_msg.nvia; i++)
		assert(!memmem(out_msg.via[i].raw.p, out_msg.via[i].raw.len,
			       "10.0.0.", 7));
	for (i = 0; i < out_msg.ncontact; i++)
		assert(out_msg.contact[i].star ||
		       !memmem(out_msg.contact[i].uri.raw.p,
			       out_msg.contact[i].uri.raw.len, "10.0.0.", 7));
	/* In an answer, entries after ours are the requester's side's. */
	for (i = 0;
	     i < (out_msg.is_request ? out_msg.nrr : 1u) && i < out_msg.nrr;
	     i++)
		assert(!memmem(out_msg.rr[i].raw.p, out_msg.rr[i].raw.len,
			       "10.0.0.", 7));
	return true;
}

/* What we hid comes back from outside: the inside's Call-ID and From
 * and To URIs again (a request from inside is "made inside"). */
static void roundtrip(const struct sip_msg *m)
{
	struct sip_peer from;
	const struct sip_msg *mi;

	memset(&from, 0, sizeof(from));
	sg_addr_from_host(&from.addr, STR("198.51.100.7"), 5060);
	mi = proxy__topo_inbound(P, &out_msg, &from);
	if (!m->is_request || mi == &out_msg)
		return;
	assert(str_eq(mi->call_id, m->call_id));
	if (m->from.uri.sch != SIP_URI_OTHER)
		assert(str_eq(mi->from.uri.raw, m->from.uri.raw));
	if (m->to.uri.sch != SIP_URI_OTHER)
		assert(str_eq(mi->to.uri.raw, m->to.uri.raw));
}

static void outbound(const struct sip_msg *m)
{
	static const char via[] =
		"SIP/2.0/UDP 203.0.113.1:5060;branch=z9hG4bKf";
	struct proxy_fwd f;
	struct sip_bld b;
	int rc;

	memset(&f, 0, sizeof(f));
	f.stx = (struct sip_stx *)(uintptr_t)1;
	sip_bld_init(&b, m);
	if (m->is_request) {
		if (!m->nvia)
			return;
		f.in_zone = 1;
		sip_bld_insert(&b, sip_msg_hdr(m, SIP_HDR_VIA), STR("Via"),
			       STR(via));
		rc = proxy__topo_request(P, &b, m, &f, &P->lis[0],
					 m->via[0].raw,
					 STR("<sip:203.0.113.1:5060;lr>, "
					     "<sip:10.0.0.1:5060;lr>"));
	} else {
		f.in_zone = 0;
		f.out_zone = 1;
		f.from.zone = 0;
		f.from.local = 0;
		rc = proxy__topo_response(P, &b, m, &f, false);
	}
	mem_free(f.th_via);
	if (rc)
		return;
	buf_reset(&out);
	if (sip_bld_write(&b, &out) != 0)
		return;
	if (check_hidden())
		roundtrip(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sip_peer from;
	const struct sip_msg *mi;
	struct sip_perr pe;

	if (!P)
		init();
	if (size < 1)
		return 0;
	if (data[0] == 'o') {
		tokens(data + 1, size - 1);
		return 0;
	}
	if (sip_msg_parse(&msg, (const char *)data + 1, size - 1,
			  &sip_limits_default, SIP_PARSE_DGRAM, &pe) != 0)
		return 0;
	memset(&from, 0, sizeof(from));
	sg_addr_from_host(&from.addr, STR("198.51.100.7"), 5060);
	mi = proxy__topo_inbound(P, &msg, &from);
	assert(mi == &msg || mi->raw.len > 0);
	outbound(&msg);
	return 0;
}
