/*
 * test_torture.c - the RFC 4475 and RFC 5118 torture messages, read from
 * the shared corpus at test time, each with the outcome its RFC section
 * asks of a parser.  The corpus directory is $SIPGUARD_CORPUS, else
 * ../shared/corpus relative to the repository root (the tests run from
 * there; CI clones shared/ beside the repository).
 *
 * Messages that are valid, or whose refusal is an application-layer
 * decision (RFC 4475 3.2, 3.3: unkscm 416, bext01 420, zeromf 483,
 * badbranch, invut 415...), must parse; the syntax and framing errors of
 * 3.1.2 and the header errors of 3.3.1, 3.3.8, 3.3.9 must fail with the
 * given class.  Every .dat file in the directories must be in the table.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "test.h"
#include "sip/sip.h"

struct tcase {
	const char *file;
	enum sip_perr_code code; /* SIP_PE_NONE: must parse */
};

static const struct tcase cases[] = {
	/* RFC 4475 3.1.1: valid messages */
	{"rfc4475/wsinv.dat", SIP_PE_NONE},
	{"rfc4475/intmeth.dat", SIP_PE_NONE},
	{"rfc4475/esc01.dat", SIP_PE_NONE},
	{"rfc4475/escnull.dat", SIP_PE_NONE},
	{"rfc4475/esc02.dat", SIP_PE_NONE},
	{"rfc4475/lwsdisp.dat", SIP_PE_NONE},
	{"rfc4475/longreq.dat", SIP_PE_NONE},
	{"rfc4475/dblreq.dat", SIP_PE_NONE},
	{"rfc4475/semiuri.dat", SIP_PE_NONE},
	{"rfc4475/transports.dat", SIP_PE_NONE},
	{"rfc4475/mpart01.dat", SIP_PE_NONE},
	{"rfc4475/unreason.dat", SIP_PE_NONE},
	{"rfc4475/noreason.dat", SIP_PE_NONE},
	/* 3.1.2: invalid messages */
	{"rfc4475/badinv01.dat", SIP_PE_SYNTAX},
	{"rfc4475/clerr.dat", SIP_PE_BODY},
	{"rfc4475/ncl.dat", SIP_PE_SYNTAX},
	{"rfc4475/scalar02.dat", SIP_PE_SYNTAX},
	{"rfc4475/scalarlg.dat", SIP_PE_SYNTAX},
	{"rfc4475/quotbal.dat", SIP_PE_SYNTAX},
	{"rfc4475/ltgtruri.dat", SIP_PE_SYNTAX},
	{"rfc4475/lwsruri.dat", SIP_PE_SYNTAX},
	{"rfc4475/lwsstart.dat", SIP_PE_SYNTAX},
	{"rfc4475/trws.dat", SIP_PE_SYNTAX},
	{"rfc4475/escruri.dat", SIP_PE_SYNTAX},
	/* Date is not parsed here: "reject only if Date matters" (3.1.2.12) */
	{"rfc4475/baddate.dat", SIP_PE_NONE},
	{"rfc4475/regbadct.dat", SIP_PE_SYNTAX},
	{"rfc4475/badaspec.dat", SIP_PE_SYNTAX},
	{"rfc4475/baddn.dat", SIP_PE_SYNTAX},
	{"rfc4475/badvers.dat", SIP_PE_VERSION},
	{"rfc4475/mismatch01.dat", SIP_PE_CSEQ_METHOD},
	{"rfc4475/mismatch02.dat", SIP_PE_CSEQ_METHOD},
	{"rfc4475/bigcode.dat", SIP_PE_SYNTAX},
	/* 3.2: transaction layer (z9hG4bK with nothing after it) */
	{"rfc4475/badbranch.dat", SIP_PE_NONE},
	/* 3.3: application layer */
	{"rfc4475/insuf.dat", SIP_PE_MISSING},
	{"rfc4475/unkscm.dat", SIP_PE_NONE}, /* proxy answers 416 */
	{"rfc4475/novelsc.dat", SIP_PE_NONE},
	{"rfc4475/unksm2.dat", SIP_PE_NONE},
	{"rfc4475/bext01.dat", SIP_PE_NONE}, /* proxy answers 420 */
	{"rfc4475/invut.dat", SIP_PE_NONE},  /* UAS answers 415 */
	{"rfc4475/regaut01.dat", SIP_PE_NONE},
	{"rfc4475/multi01.dat", SIP_PE_DUPLICATE},
	{"rfc4475/mcl01.dat", SIP_PE_DUPLICATE},
	{"rfc4475/bcast.dat", SIP_PE_NONE},
	{"rfc4475/zeromf.dat", SIP_PE_NONE}, /* proxy answers 483 */
	{"rfc4475/cparam01.dat", SIP_PE_NONE},
	{"rfc4475/cparam02.dat", SIP_PE_NONE},
	{"rfc4475/regescrt.dat", SIP_PE_NONE},
	{"rfc4475/sdp01.dat", SIP_PE_NONE},
	/* 3.4: RFC 2543 INVITE, no Content-Length on UDP */
	{"rfc4475/inv2543.dat", SIP_PE_NONE},
	/* archive member never described: no SIP-Version, header w/o ':' */
	{"rfc4475/test.dat", SIP_PE_SYNTAX},
	/* RFC 5118 */
	{"rfc5118/ipv6-good.dat", SIP_PE_NONE},
	{"rfc5118/port-ambiguous.dat", SIP_PE_NONE},
	{"rfc5118/port-unambiguous.dat", SIP_PE_NONE},
	{"rfc5118/ipv6-bad.dat", SIP_PE_SYNTAX},
	{"rfc5118/ipv6-correct-abnf-2-colons.dat", SIP_PE_NONE},
	/* invalid per RFC 5954, which fixed the RFC 3261 IPv6 ABNF */
	{"rfc5118/ipv6-bug-abnf-3-colons.dat", SIP_PE_SYNTAX},
	{"rfc5118/via-received-param-with-delim.dat", SIP_PE_NONE},
	{"rfc5118/via-received-param-no-delim.dat", SIP_PE_NONE},
	{"rfc5118/ipv4-mapped-ipv6.dat", SIP_PE_NONE},
	{"rfc5118/mult-ip-in-header.dat", SIP_PE_NONE},
	{"rfc5118/ipv6-in-sdp.dat", SIP_PE_NONE},
	{"rfc5118/mult-ip-in-sdp.dat", SIP_PE_NONE},
};

enum { NCASES = sizeof(cases) / sizeof(cases[0]) };

static struct sip_msg msg;

static const char *corpus_dir(void)
{
	const char *d = getenv("SIPGUARD_CORPUS");

	return d && *d ? d : "../shared/corpus";
}

static char *read_file(const char *rel, size_t *lenp)
{
	char path[512];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/%s", corpus_dir(), rel);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	/* exact size, so ASan sees any read past the message */
	buf = malloc(n > 0 ? (size_t)n : 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*lenp = (size_t)n;
	return buf;
}

static void test_table(void **state)
{
	unsigned i, bad = 0;

	(void)state;
	for (i = 0; i < NCASES; i++) {
		struct sip_perr e;
		size_t len;
		char *buf = read_file(cases[i].file, &len);
		int rc = sip_msg_parse(&msg, buf, len, NULL, SIP_PARSE_DGRAM,
				       &e);

		if ((rc == 0) != (cases[i].code == SIP_PE_NONE) ||
		    (rc != 0 && e.code != cases[i].code)) {
			print_message("%s: rc %d code %d (want %d) at %u: %s\n",
				      cases[i].file, rc, e.code, cases[i].code,
				      e.off, e.reason ? e.reason : "");
			bad++;
		}
		if (rc != 0)
			assert_true(e.off <= len && e.reason);
		free(buf);
	}
	assert_int_equal(bad, 0);
}

static bool in_table(const char *sub, const char *name)
{
	char rel[512];
	unsigned i;

	snprintf(rel, sizeof(rel), "%s/%s", sub, name);
	for (i = 0; i < NCASES; i++)
		if (strcmp(cases[i].file, rel) == 0)
			return true;
	return false;
}

/* A new corpus file must get an expected outcome here. */
static void test_all_listed(void **state)
{
	static const char *const subs[] = {"rfc4475", "rfc5118"};
	unsigned s, n = 0;

	(void)state;
	for (s = 0; s < 2; s++) {
		char path[512];
		struct dirent *de;
		DIR *d;

		snprintf(path, sizeof(path), "%s/%s", corpus_dir(), subs[s]);
		d = opendir(path);
		assert_non_null(d);
		while ((de = readdir(d)) != NULL) {
			size_t l = strlen(de->d_name);

			if (l < 5 || strcmp(de->d_name + l - 4, ".dat") != 0)
				continue;
			if (!in_table(subs[s], de->d_name))
				fail_msg("%s/%s has no expected outcome",
					 subs[s], de->d_name);
			n++;
		}
		closedir(d);
	}
	assert_int_equal(n, NCASES);
}

static void parse_ok(const char *rel, size_t *lenp, char **bufp)
{
	struct sip_perr e;

	*bufp = read_file(rel, lenp);
	if (sip_msg_parse(&msg, *bufp, *lenp, NULL, SIP_PARSE_DGRAM, &e))
		fail_msg("%s: %s at %u", rel, e.reason, e.off);
}

/* What the valid messages must yield, beyond "it parsed". */
static void test_fields(void **state)
{
	size_t len;
	char *buf;

	(void)state;
	parse_ok("rfc4475/wsinv.dat", &len, &buf);
	assert_int_equal(msg.mid, SIP_METHOD_INVITE);
	assert_int_equal(msg.max_forwards, 68);
	assert_int_equal(msg.cseq.num, 9);
	assert_int_equal(msg.cseq.mid, SIP_METHOD_INVITE);
	assert_int_equal(msg.nvia, 3);
	assert_int_equal(msg.content_length, 150);
	assert_int_equal(msg.body.len, 150);
	assert_str_equal_cstr(msg.to.tag, "1918181833n");
	assert_str_equal_cstr(msg.from.tag, "98asjd8");
	assert_str_equal_cstr(msg.call_id, "wsinv.ndaksdj@192.0.2.1");
	assert_non_null(sip_msg_hdr(&msg, SIP_HDR_SUBJECT));
	assert_int_equal(sip_msg_hdr(&msg, SIP_HDR_SUBJECT)->value.len, 0);
	free(buf);

	parse_ok("rfc4475/intmeth.dat", &len, &buf);
	assert_int_equal(msg.mid, SIP_METHOD_UNKNOWN);
	assert_str_equal_cstr(msg.method,
			      "!interesting-Method0123456789_*+`.%indeed'~");
	assert_true(str_eq(msg.method, msg.cseq.method));
	free(buf);

	parse_ok("rfc4475/esc02.dat", &len, &buf);
	assert_int_equal(msg.ncontact, 2); /* C%6Fntact is another */
	assert_non_null(sip_msg_hdr_by_name(&msg, STR("c%6fntact")));
	free(buf);

	parse_ok("rfc4475/dblreq.dat", &len, &buf);
	assert_int_equal(msg.mid, SIP_METHOD_REGISTER);
	assert_true(msg.raw.len < len); /* the INVITE after it ignored */
	assert_int_equal(msg.body.len, 0);
	free(buf);

	parse_ok("rfc4475/noreason.dat", &len, &buf);
	assert_int_equal(msg.status, 100);
	assert_int_equal(msg.reason.len, 0);
	free(buf);

	parse_ok("rfc4475/longreq.dat", &len, &buf);
	assert_int_equal(msg.nvia, 34);
	free(buf);

	parse_ok("rfc4475/transports.dat", &len, &buf);
	assert_int_equal(msg.nvia, 5);
	assert_str_equal_cstr(msg.via[3].transport, "UNKNOWN");
	free(buf);

	parse_ok("rfc4475/inv2543.dat", &len, &buf);
	assert_int_equal(msg.content_length, -1);
	assert_int_equal(msg.body.len, len - (size_t)(msg.body.p - buf));
	free(buf);

	parse_ok("rfc4475/zeromf.dat", &len, &buf);
	assert_int_equal(msg.max_forwards, 0);
	free(buf);

	parse_ok("rfc4475/unkscm.dat", &len, &buf);
	assert_int_equal(msg.ruri.sch, SIP_URI_OTHER);
	free(buf);
}

/* The 505 case: everything else is parsed, so the caller can answer. */
static void test_version_usable(void **state)
{
	struct sip_perr e;
	size_t len;
	char *buf = read_file("rfc4475/badvers.dat", &len);

	(void)state;
	assert_int_equal(sip_msg_parse(&msg, buf, len, NULL, 0, &e), -EINVAL);
	assert_int_equal(e.code, SIP_PE_VERSION);
	assert_int_equal(sip_perr_status(e.code), 505);
	assert_int_equal(msg.nvia, 1);
	assert_str_equal_cstr(msg.call_id, "badvers.31417@c.example.com");
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_all_listed),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_version_usable),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	assert_no_leaks();
	return rc;
}
