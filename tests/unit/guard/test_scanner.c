/*
 * test_scanner.c - scanner recognition: the fingerprint file parser and
 * matcher, and the structural signatures against requests built exactly
 * the way SIPVicious 0.3 builds them (svhelper.makeRequest, createTag,
 * challengeResponse; svmap, svwar, svcrack) - also with a normal phone's
 * User-Agent - and against ordinary softphone and PBX requests, which
 * must not match.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "test.h"
#include "guard/inspect.h"

/* ------------------------------------------------------------ helpers */

static struct sip_msg msg;
static char msgbuf[8192];

/* Parse text; "@BODY@" at the end of the headers is replaced by the
 * Content-Length value, the blank line and body. */
static const struct sip_msg *parse(const char *hdrs, const char *body)
{
	struct sip_perr e;
	const char *mark = strstr(hdrs, "@BODY@");
	int n;

	if (mark)
		n = snprintf(msgbuf, sizeof(msgbuf), "%.*s%zu\r\n\r\n%s",
			     (int)(mark - hdrs), hdrs, strlen(body), body);
	else
		n = snprintf(msgbuf, sizeof(msgbuf), "%s", hdrs);
	assert_true(n > 0 && (size_t)n < sizeof(msgbuf));
	if (sip_msg_parse(&msg, msgbuf, (size_t)n, NULL, SIP_PARSE_DGRAM, &e))
		fail_msg("parse failed at %u: %s\n%s", e.off, e.reason, msgbuf);
	return &msg;
}

/* svhelper.createTag(data): hex(data + "\x01" + str(random 32 bits)). */
static const char *sv_tag(char *out, size_t sz, const char *data,
			  unsigned long rnd)
{
	char raw[128];
	size_t i, n;

	n = (size_t)snprintf(raw, sizeof(raw), "%s\x01%lu", data, rnd);
	assert_true(2 * n < sz);
	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", (unsigned char)raw[i]);
	return out;
}

/* ------------------------------------------------- fingerprint parser */

static void test_fps_parse(void **state)
{
	static const struct {
		const char *text;
		int rc;
		unsigned line, n;
		const char *first;
	} cases[] = {
		{"", 0, 0, 0, NULL},
		{"\n\n   \n", 0, 0, 0, NULL},
		{"# only a comment\n", 0, 0, 0, NULL},
		{"foo", 0, 0, 1, "foo"},
		{"  # indented comment\r\n  Bar Baz \r\nqux\n", 0, 0, 2,
		 "bar baz"},
		{"a#b\n", 0, 0, 1, "a#b"},
		{"ok\nbad\x01line\n", -EINVAL, 2, 0, NULL},
		{"ok\n\xc3\xa9t\xc3\xa9\n", -EINVAL, 2, 0, NULL},
		{"x\tlist\n", -EINVAL, 1, 0, NULL},
		{"x\x7f\n", -EINVAL, 1, 0, NULL},
		/* 63 bytes fit, 64 do not */
		{"123456789012345678901234567890123456789012345678901234567890"
		 "123",
		 0, 0, 1,
		 "123456789012345678901234567890123456789012345678901234567890"
		 "123"},
		{"# x\n123456789012345678901234567890123456789012345678901234"
		 "5678901234",
		 -EINVAL, 2, 0, NULL},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct inspect_fps f;
		unsigned line = 99;
		int rc;

		memset(&f, 0xa5, sizeof(f));
		f.n = 77;
		rc = inspect_fps_parse(&f, str_cstr(cases[i].text), &line);
		if (rc != cases[i].rc)
			fail_msg("case %zu: rc %d", i, rc);
		assert_int_equal(line, cases[i].line);
		if (rc) {
			assert_int_equal(f.n, 77); /* untouched */
			continue;
		}
		assert_int_equal(f.n, cases[i].n);
		if (cases[i].first)
			assert_string_equal(f.s[0], cases[i].first);
	}
}

static void test_fps_limits(void **state)
{
	static char text[INSPECT_FP_FILE_MAX + 2];
	struct inspect_fps f;
	unsigned line, k;
	size_t n = 0;

	(void)state;
	for (k = 0; k < INSPECT_FP_MAX; k++)
		n += (size_t)sprintf(text + n, "tool%u\n", k);
	assert_int_equal(inspect_fps_parse(&f, str_make(text, n), &line), 0);
	assert_int_equal(f.n, INSPECT_FP_MAX);
	assert_string_equal(f.s[INSPECT_FP_MAX - 1], "tool127");
	n += (size_t)sprintf(text + n, "one-too-many\n");
	assert_int_equal(inspect_fps_parse(&f, str_make(text, n), &line),
			 -EINVAL);
	assert_int_equal(line, INSPECT_FP_MAX + 1);
	/* Too large as a whole, even if only blank lines. */
	memset(text, '\n', sizeof(text));
	assert_int_equal(
		inspect_fps_parse(&f, str_make(text, sizeof(text)), &line),
		-EINVAL);
	assert_int_equal(line, 0);
}

/* etc/scanners.txt and the built-in list are the same list. */
static void test_fps_file_is_builtin(void **state)
{
	static char text[INSPECT_FP_FILE_MAX];
	struct inspect_fps file, def;
	unsigned line, k;
	size_t n;
	FILE *f;

	(void)state;
	if (access("etc/scanners.txt", R_OK) != 0)
		skip(); /* not run from the source tree */
	f = fopen("etc/scanners.txt", "rb");
	assert_non_null(f);
	n = fread(text, 1, sizeof(text), f);
	fclose(f);
	assert_int_equal(inspect_fps_parse(&file, str_make(text, n), &line), 0);
	inspect_fps_default(&def);
	assert_int_equal(file.n, def.n);
	for (k = 0; k < def.n; k++)
		assert_string_equal(file.s[k], def.s[k]);
}

static void flip_case(char *s)
{
	for (; *s; s++) {
		if (*s >= 'a' && *s <= 'z')
			*s = (char)(*s - 'a' + 'A');
		else if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
	}
}

/* Every shipped entry matches case-insensitively as a substring. */
static void test_fps_every_entry(void **state)
{
	struct inspect_fps f;
	unsigned k;

	(void)state;
	inspect_fps_default(&f);
	assert_true(f.n >= 15);
	for (k = 0; k < f.n; k++) {
		char ua[256], word[INSPECT_FP_LEN];

		snprintf(ua, sizeof(ua), "%s", f.s[k]);
		assert_int_equal(inspect_fps_match(&f, str_cstr(ua)), (int)k);
		snprintf(word, sizeof(word), "%s", f.s[k]);
		flip_case(word);
		snprintf(ua, sizeof(ua), "Mozilla/5.0 %s/1.8 (x)", word);
		assert_int_equal(inspect_fps_match(&f, str_cstr(ua)), (int)k);
		snprintf(ua, sizeof(ua), "pre%s", f.s[k]);
		assert_int_equal(inspect_fps_match(&f, str_cstr(ua)), (int)k);
	}
	assert_int_equal(inspect_fps_match(&f, str_cstr("SIPVicious")), 2);
	assert_int_equal(inspect_fps_match(&f, str_cstr("sipcli/v1.8")), 3);
}

static void test_fps_normal_agents(void **state)
{
	static const char *const uas[] = {
		"Linphone Desktop/5.2.0 (Ubuntu 22.04) LinphoneCore/5.3.0",
		"Z 5.6.1 v2.10.19.9",
		"baresip v3.10.1 (x86_64/linux)",
		"Asterisk PBX 18.20.0",
		"FPBX-16.0.40(18.20.0)",
		"Yealink SIP-T46S 66.86.0.15",
		"PolycomVVX-VVX_410-UA/6.4.3.5019",
		"Grandstream GXP2170 1.0.11.3",
		"Cisco-SIPGateway/IOS-15.6.3.M2",
		"Cisco/SPA504G-7.6.2e",
		"MicroSIP/3.21.3",
		"Bria 6 release 6.5.4",
		"PJSUA v2.13 Linux-5.15/x86_64/glibc-2.35",
		"Jitsi2.10.5550Linux",
		"snom D785 10.1.141.13",
		"FreeSWITCH-mod_sofia/1.10.9",
		"Kamailio (5.7.2 (x86_64/linux))",
		"",
	};
	struct inspect_fps f;
	size_t i;

	(void)state;
	inspect_fps_default(&f);
	for (i = 0; i < sizeof(uas) / sizeof(uas[0]); i++)
		if (inspect_fps_match(&f, str_cstr(uas[i])) >= 0)
			fail_msg("false positive on \"%s\"", uas[i]);
}

static void test_fps_scan_bound(void **state)
{
	static char ua[INSPECT_UA_SCAN + 64];
	struct inspect_fps f;

	(void)state;
	inspect_fps_default(&f);
	memset(ua, 'a', sizeof(ua));
	memcpy(ua + INSPECT_UA_SCAN - 16, "friendly-scanner", 16);
	assert_true(inspect_fps_match(&f, str_make(ua, sizeof(ua))) >= 0);
	memset(ua, 'a', sizeof(ua));
	memcpy(ua + INSPECT_UA_SCAN - 15, "friendly-scanner", 16);
	assert_int_equal(inspect_fps_match(&f, str_make(ua, sizeof(ua))), -1);
	assert_int_equal(inspect_fps_match(&f, STR_NULL), -1);
}

/* ------------------------------------------------ SIPVicious, as built */

#define SV_UA_SCANNER "friendly-scanner"
#define SV_UA_PHONE   "Yealink SIP-T46S 66.86.0.15"

/* svmap: OPTIONS sip:<ip>, From/To "sipvicious"<sip:100@1.1.1.1>, tag
 * from ip+port, Call-ID 80 random bits, Contact sip:None@... */
static const struct sip_msg *svmap_options(const char *ua, bool rename)
{
	static char hdrs[2048];
	char tag[128];
	const char *from = rename ? "\"alice\"<sip:alice@example.com>"
				  : "\"sipvicious\"<sip:100@1.1.1.1>";

	sv_tag(tag, sizeof(tag), "7f00000113c4", 2718281828UL);
	snprintf(hdrs, sizeof(hdrs),
		 "OPTIONS sip:127.0.0.1 SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 127.0.0.66:5060;branch=z9hG4bK-1804289383"
		 ";rport\r\n"
		 "Max-Forwards: 70\r\n"
		 "To: %s\r\n"
		 "From: %s;tag=%s\r\n"
		 "User-Agent: %s\r\n"
		 "Call-ID: 610263518826481913862735\r\n"
		 "Contact: sip:%s@127.0.0.66:5060\r\n"
		 "CSeq: 1 OPTIONS\r\n"
		 "Accept: application/sdp\r\n"
		 "Content-Length: 0\r\n\r\n",
		 from, from, tag, ua, rename ? "alice" : "None");
	return parse(hdrs, "");
}

/* svwar: REGISTER sip:<domain> (or INVITE sip:ext@domain), From/To
 * "ext"<sip:ext@domain>, tag from the extension, Call-ID 32 bits. */
static const struct sip_msg *svwar(const char *method, const char *ext,
				   const char *ua)
{
	static char hdrs[2048];
	char tag[128];

	sv_tag(tag, sizeof(tag), ext, 1957747793UL);
	snprintf(hdrs, sizeof(hdrs),
		 "%s sip:%s%s127.0.0.1 SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 127.0.0.66:5060;branch=z9hG4bK-424238335"
		 ";rport\r\n"
		 "Max-Forwards: 70\r\n"
		 "To: \"%s\"<sip:%s@127.0.0.1>\r\n"
		 "From: \"%s\"<sip:%s@127.0.0.1>;tag=%s\r\n"
		 "User-Agent: %s\r\n"
		 "Call-ID: 719885386\r\n"
		 "Contact: sip:%s@127.0.0.1\r\n"
		 "CSeq: 1 %s\r\n"
		 "Accept: application/sdp\r\n"
		 "Content-Length: 0\r\n\r\n",
		 method, strcmp(method, "REGISTER") ? ext : "",
		 strcmp(method, "REGISTER") ? "@" : "", ext, ext, ext, ext, tag,
		 ua, ext, method);
	return parse(hdrs, "");
}

/* svwar -c: compact headers, no User-Agent. */
static const struct sip_msg *svwar_compact(const char *ext)
{
	static char hdrs[2048];
	char tag[128];

	sv_tag(tag, sizeof(tag), ext, 846930886UL);
	snprintf(hdrs, sizeof(hdrs),
		 "REGISTER sip:127.0.0.1 SIP/2.0\r\n"
		 "v: SIP/2.0/UDP 127.0.0.66:5060;branch=z9hG4bK-1681692777"
		 ";rport\r\n"
		 "t: \"%s\"<sip:%s@127.0.0.1>\r\n"
		 "f: \"%s\"<sip:%s@127.0.0.1>;tag=%s\r\n"
		 "i: 1714636915\r\n"
		 "m: sip:%s@127.0.0.1\r\n"
		 "CSeq: 1 REGISTER\r\n"
		 "Max-Forwards: 70\r\n"
		 "Accept: application/sdp\r\n"
		 "Content-Length: 0\r\n\r\n",
		 ext, ext, ext, ext, tag, ext);
	return parse(hdrs, "");
}

/* svcrack: first REGISTER with the fixed tag; then CSeq 2 with the
 * tag from "user:password" and Authorization at the end. */
static const struct sip_msg *svcrack(const char *ua, const char *pass,
				     bool server_qop)
{
	static char hdrs[2048];
	char tag[128], auth[512];

	if (!pass) {
		snprintf(tag, sizeof(tag), "3206210844");
		auth[0] = '\0';
	} else {
		char up[64];

		snprintf(up, sizeof(up), "1000:%s", pass);
		sv_tag(tag, sizeof(tag), up, 1649760492UL);
		snprintf(auth, sizeof(auth),
			 "Authorization: Digest username=\"1000\""
			 ",realm=\"asterisk\",nonce=\"4a1b2c3d\""
			 ",uri=\"sip:127.0.0.1\"%s"
			 ",algorithm=MD5,qop=auth"
			 ",response=\"0f5e5c3a9a6d2f1b8e7c4d3a2b1c0d9e\"\r\n",
			 server_qop ? ",cnonce=\"6f1e2d3c4b5a6978\""
				      ",nc=00000001"
				    : "");
	}
	snprintf(hdrs, sizeof(hdrs),
		 "REGISTER sip:127.0.0.1 SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 127.0.0.66:5060;branch=z9hG4bK-596516649"
		 ";rport\r\n"
		 "Max-Forwards: 70\r\n"
		 "To: \"1000\" <sip:1000@127.0.0.1>\r\n"
		 "From: \"1000\" <sip:1000@127.0.0.1>;tag=%s\r\n"
		 "User-Agent: %s\r\n"
		 "Call-ID: 1189641421\r\n"
		 "Contact: sip:123@1.1.1.1\r\n"
		 "CSeq: %d REGISTER\r\n"
		 "Accept: application/sdp\r\n"
		 "Content-Length: 0\r\n"
		 "%s\r\n",
		 tag, ua, pass ? 2 : 1, auth);
	return parse(hdrs, "");
}

static void expect_scanner(const struct sip_msg *m, uint32_t must,
			   const char *what)
{
	uint32_t ind;
	unsigned score = inspect_structure_score(m, &ind);

	if (score < INSPECT_STRUCT_THRESHOLD || (ind & must) != must)
		fail_msg("%s: score %u indicators %#x (want %#x)", what, score,
			 ind, must);
}

static void test_sipvicious(void **state)
{
	static const char *const uas[] = {SV_UA_SCANNER, SV_UA_PHONE};
	const uint32_t sv = INSPECT_I_SV_BRANCH | INSPECT_I_NUM_CALLID |
			    INSPECT_I_SV_TAG | INSPECT_I_SV_ORDER;
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		expect_scanner(svmap_options(uas[i], false),
			       sv | INSPECT_I_SV_FROM | INSPECT_I_NONE_USER,
			       "svmap");
		expect_scanner(svmap_options(uas[i], true), sv,
			       "svmap --fromname");
		expect_scanner(svwar("REGISTER", "1000", uas[i]), sv,
			       "svwar REGISTER");
		expect_scanner(svwar("INVITE", "2001", uas[i]), sv,
			       "svwar INVITE");
		expect_scanner(svwar("OPTIONS", "1234567890", uas[i]), sv,
			       "svwar OPTIONS");
		expect_scanner(svcrack(uas[i], NULL, false), sv, "svcrack");
		expect_scanner(svcrack(uas[i], "secret", false),
			       sv | INSPECT_I_SV_DIGEST, "svcrack auth");
		expect_scanner(svcrack(uas[i], "pa ss!", true),
			       sv | INSPECT_I_SV_DIGEST, "svcrack auth qop");
	}
	expect_scanner(svwar_compact("1000"), sv, "svwar -c");
}

/* Each indicator alone, and the weak ones together, stay below. */
static void test_weights(void **state)
{
	uint32_t ind;

	(void)state;
	/* Numeric Call-ID and a digit-only dashed branch with rport: 2. */
	assert_int_equal(
		inspect_structure_score(
			parse("REGISTER sip:example.com SIP/2.0\r\n"
			      "Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK-"
			      "12345678;rport\r\n"
			      "From: <sip:42@example.com>;tag=1225432999\r\n"
			      "To: <sip:42@example.com>\r\n"
			      "Call-ID: 1222971951\r\n"
			      "CSeq: 1 REGISTER\r\n"
			      "Contact: <sip:42@10.0.0.5>\r\n"
			      "Content-Length: 0\r\n\r\n",
			      ""),
			&ind),
		2);
	assert_int_equal(ind, INSPECT_I_SV_BRANCH | INSPECT_I_NUM_CALLID);
	/* nmap's From alone is enough. */
	assert_true(inspect_structure_score(
			    parse("OPTIONS sip:nm SIP/2.0\r\n"
				  "Via: SIP/2.0/UDP nm;branch=foo\r\n"
				  "From: <sip:nm@nm>;tag=root\r\n"
				  "To: <sip:nm2@nm2>\r\n"
				  "Call-ID: 50000\r\n"
				  "CSeq: 42 OPTIONS\r\n"
				  "Max-Forwards: 70\r\n"
				  "Content-Length: 0\r\n"
				  "Contact: <sip:nm@nm>\r\n"
				  "Accept: application/sdp\r\n\r\n",
				  ""),
			    &ind) >= INSPECT_STRUCT_THRESHOLD);
	assert_true(ind & INSPECT_I_NMAP);
}

/* ------------------------------------------- ordinary clients: no match */

static const char sdp_body[] = "v=0\r\n"
			       "o=- 3842 3843 IN IP4 192.168.1.22\r\n"
			       "s=-\r\n"
			       "c=IN IP4 192.168.1.22\r\n"
			       "t=0 0\r\n"
			       "m=audio 10000 RTP/AVP 0 8 101\r\n"
			       "a=rtpmap:101 telephone-event/8000\r\n";

static const char cisco_sdp[] =
	"v=0\r\n"
	"o=CiscoSystemsSIP-GW-UserAgent 1468 3932 IN IP4 198.51.100.9\r\n"
	"s=SIP Call\r\n"
	"c=IN IP4 198.51.100.9\r\n"
	"t=0 0\r\n"
	"m=audio 20002 RTP/AVP 18 0 101\r\n";

static const struct {
	const char *name, *hdrs, *body;
} normal[] = {
	{"linphone REGISTER",
	 "REGISTER sip:sip.example.com SIP/2.0\r\n"
	 "Via: SIP/2.0/UDP 192.168.1.20:5060;branch=z9hG4bK.Xr3vL9a2c;"
	 "rport\r\n"
	 "From: <sip:alice@sip.example.com>;tag=5yW~lKZbR\r\n"
	 "To: sip:alice@sip.example.com\r\n"
	 "CSeq: 20 REGISTER\r\n"
	 "Call-ID: 8wE0Yf6Zb1\r\n"
	 "Max-Forwards: 70\r\n"
	 "Supported: replaces, outbound, gruu, path\r\n"
	 "Accept: application/sdp\r\n"
	 "Accept: text/plain\r\n"
	 "Contact: <sip:alice@192.168.1.20;transport=udp>;expires=600\r\n"
	 "Expires: 600\r\n"
	 "User-Agent: Linphone Desktop/5.2.0 (Ubuntu 22.04) "
	 "LinphoneCore/5.3.0\r\n"
	 "Content-Length: 0\r\n\r\n",
	 NULL},
	{"linphone REGISTER with credentials",
	 "REGISTER sip:sip.example.com SIP/2.0\r\n"
	 "Via: SIP/2.0/UDP 192.168.1.20:5060;branch=z9hG4bK.kJ2sd9Q1m;"
	 "rport\r\n"
	 "From: <sip:alice@sip.example.com>;tag=5yW~lKZbR\r\n"
	 "To: sip:alice@sip.example.com\r\n"
	 "CSeq: 21 REGISTER\r\n"
	 "Call-ID: 8wE0Yf6Zb1\r\n"
	 "Max-Forwards: 70\r\n"
	 "Accept: application/sdp\r\n"
	 "Contact: <sip:alice@192.168.1.20;transport=udp>;expires=600\r\n"
	 "Expires: 600\r\n"
	 "User-Agent: Linphone Desktop/5.2.0\r\n"
	 "Authorization:  Digest realm=\"sip.example.com\", "
	 "nonce=\"Y2V4ZQ\", algorithm=MD5, opaque=\"+GNywA==\", "
	 "username=\"alice\",  uri=\"sip:sip.example.com\", "
	 "response=\"2bd1c7b5c2b0f3e0c9a8c7d6e5f40312\", cnonce=\"aZ2\", "
	 "nc=00000001, qop=auth\r\n"
	 "Content-Length: 0\r\n\r\n",
	 NULL},
	{"zoiper REGISTER",
	 "REGISTER sip:sip.example.com;transport=UDP SIP/2.0\r\n"
	 "Via: SIP/2.0/UDP 192.168.1.21:52314;branch=z9hG4bK-524287-1---"
	 "9a4e7f3b2c1d0e8f;rport\r\n"
	 "Max-Forwards: 70\r\n"
	 "Contact: <sip:bob@192.168.1.21:52314;rinstance=8c3a2f1e9d7b6a54;"
	 "transport=UDP>\r\n"
	 "To: <sip:bob@sip.example.com;transport=UDP>\r\n"
	 "From: <sip:bob@sip.example.com;transport=UDP>;tag=3d2f9a1b\r\n"
	 "Call-ID: ZDI0YzE3NTk0ZGQ5YzJhNGE1ZDM3ZjY3YmM5ZmE0NjI\r\n"
	 "CSeq: 1 REGISTER\r\n"
	 "Expires: 60\r\n"
	 "Allow: INVITE, ACK, CANCEL, BYE, NOTIFY, REFER, MESSAGE, OPTIONS, "
	 "INFO, SUBSCRIBE\r\n"
	 "Supported: replaces, norefersub, extended-refer, timer, outbound, "
	 "path, X-cisco-serviceuri\r\n"
	 "User-Agent: Z 5.6.1 v2.10.19.9\r\n"
	 "Allow-Events: presence, kpml, talk\r\n"
	 "Content-Length: 0\r\n\r\n",
	 NULL},
	{"baresip INVITE",
	 "INVITE sip:1001@sip.example.com SIP/2.0\r\n"
	 "Via: SIP/2.0/UDP 192.168.1.22:5060;branch=z9hG4bK8f1a7c2e9b3d4a06;"
	 "rport\r\n"
	 "Contact: <sip:carol-0x55d1@192.168.1.22:5060>\r\n"
	 "Max-Forwards: 70\r\n"
	 "To: <sip:1001@sip.example.com>\r\n"
	 "From: \"Carol\" <sip:carol@sip.example.com>;tag=4a1c9e2f7b3d8a65\r\n"
	 "Call-ID: 0c3e8b5a9f21d47e\r\n"
	 "CSeq: 27133 INVITE\r\n"
	 "User-Agent: baresip v3.10.1 (x86_64/linux)\r\n"
	 "Allow: INVITE,ACK,BYE,CANCEL,OPTIONS,NOTIFY,SUBSCRIBE,INFO,MESSAGE,"
	 "UPDATE,REFER\r\n"
	 "Supported: replaces,norefersub,100rel\r\n"
	 "Content-Type: application/sdp\r\n"
	 "Content-Length: @BODY@",
	 sdp_body},
	{"asterisk INVITE to a trunk",
	 "INVITE sip:5551234@203.0.113.10 SIP/2.0\r\n"
	 "Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK6b8b4567;rport\r\n"
	 "Max-Forwards: 70\r\n"
	 "From: \"Asterisk\" <sip:100@198.51.100.7>;tag=as327b23c6\r\n"
	 "To: <sip:5551234@203.0.113.10>\r\n"
	 "Contact: <sip:100@198.51.100.7:5060>\r\n"
	 "Call-ID: 643c98696e8a2e1b2ae9bd3b5a4c7f10@198.51.100.7:5060\r\n"
	 "CSeq: 102 INVITE\r\n"
	 "User-Agent: Asterisk PBX 18.20.0\r\n"
	 "Proxy-Authorization: Digest username=\"100\", realm=\"trunk\", "
	 "algorithm=MD5, uri=\"sip:5551234@203.0.113.10\", "
	 "nonce=\"5f1c\", response=\"9c6e5a1b2d3f4e5a6b7c8d9e0f1a2b3c\"\r\n"
	 "Date: Tue, 04 Jun 2024 10:00:00 GMT\r\n"
	 "Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, SUBSCRIBE, "
	 "NOTIFY, INFO, PUBLISH, MESSAGE\r\n"
	 "Supported: replaces, timer\r\n"
	 "Content-Type: application/sdp\r\n"
	 "Content-Length: @BODY@",
	 sdp_body},
	{"asterisk OPTIONS qualify",
	 "OPTIONS sip:203.0.113.10 SIP/2.0\r\n"
	 "Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK1f2e3d4c;rport\r\n"
	 "Max-Forwards: 70\r\n"
	 "From: \"asterisk\" <sip:asterisk@198.51.100.7>;tag=as0a1b2c3d\r\n"
	 "To: <sip:203.0.113.10>\r\n"
	 "Contact: <sip:asterisk@198.51.100.7:5060>\r\n"
	 "Call-ID: 1a2b3c4d5e6f70811223344556677889@198.51.100.7:5060\r\n"
	 "CSeq: 102 OPTIONS\r\n"
	 "User-Agent: Asterisk PBX 18.20.0\r\n"
	 "Date: Tue, 04 Jun 2024 10:00:00 GMT\r\n"
	 "Accept: application/sdp\r\n"
	 "Content-Length: 0\r\n\r\n",
	 NULL},
	{"pjsip REGISTER",
	 "REGISTER sip:sip.example.com SIP/2.0\r\n"
	 "Via: SIP/2.0/UDP 192.168.1.30:5060;rport;"
	 "branch=z9hG4bKPj0c1d2e3f-4a5b-6c7d-8e9f-a0b1c2d3e4f5\r\n"
	 "Max-Forwards: 70\r\n"
	 "From: <sip:dave@sip.example.com>;tag=1d2c3b4a-5e6f-7a8b-9c0d\r\n"
	 "To: <sip:dave@sip.example.com>\r\n"
	 "Call-ID: 7f3e2d1c-0b9a-8f7e-6d5c-4b3a2f1e0d9c\r\n"
	 "CSeq: 41234 REGISTER\r\n"
	 "User-Agent: PJSUA v2.13 Linux-5.15/x86_64/glibc-2.35\r\n"
	 "Contact: <sip:dave@192.168.1.30:5060;ob>\r\n"
	 "Expires: 300\r\n"
	 "Allow: PRACK, INVITE, ACK, BYE, CANCEL, UPDATE, INFO, SUBSCRIBE, "
	 "NOTIFY, REFER, MESSAGE, OPTIONS\r\n"
	 "Content-Length:  0\r\n\r\n",
	 NULL},
	{"embedded phone with numeric ids",
	 "REGISTER sip:192.168.10.62 SIP/2.0\r\n"
	 "Via: SIP/2.0/UDP 192.168.10.1:5060;branch=z9hG4bK1491280923;"
	 "rport\r\n"
	 "From: <sip:88001@192.168.10.62>;tag=1225432999\r\n"
	 "To: <sip:88001@192.168.10.62>\r\n"
	 "Call-ID: 1222971951\r\n"
	 "CSeq: 1 REGISTER\r\n"
	 "Contact: <sip:88001@192.168.10.1:5060>\r\n"
	 "Max-Forwards: 70\r\n"
	 "User-Agent: Grandstream GXP2170 1.0.11.3\r\n"
	 "Expires: 3600\r\n"
	 "Content-Length: 0\r\n\r\n",
	 NULL},
	{"cisco SPA with a dashed digit branch",
	 "INVITE sip:2000@sip.example.com SIP/2.0\r\n"
	 "Via: SIP/2.0/UDP 192.168.1.40:5060;branch=z9hG4bK-12345678\r\n"
	 "From: \"Erin\" <sip:erin@sip.example.com>;tag=d8f0a1b2c3d4e5f6i0\r\n"
	 "To: <sip:2000@sip.example.com>\r\n"
	 "Remote-Party-ID: \"Erin\" <sip:erin@sip.example.com>;screen=no\r\n"
	 "Call-ID: 2d5d2f0c-e4b3e1f3@192.168.1.40\r\n"
	 "CSeq: 101 INVITE\r\n"
	 "Max-Forwards: 70\r\n"
	 "Contact: \"Erin\" <sip:erin@192.168.1.40:5060>\r\n"
	 "Expires: 240\r\n"
	 "User-Agent: Cisco/SPA504G-7.6.2e\r\n"
	 "Content-Type: application/sdp\r\n"
	 "Content-Length: @BODY@",
	 sdp_body},
	{"real cisco gateway",
	 "INVITE sip:5550100@203.0.113.10:5060 SIP/2.0\r\n"
	 "Via: SIP/2.0/UDP 198.51.100.9:5060;branch=z9hG4bK2A1B3C\r\n"
	 "From: <sip:5550199@198.51.100.9>;tag=1A2B3C4D-5E6F\r\n"
	 "To: <sip:5550100@203.0.113.10>\r\n"
	 "Date: Tue, 04 Jun 2024 10:00:00 GMT\r\n"
	 "Call-ID: 9F8E7D6C-11EF1234-8001A2B3-C4D5E6F7@198.51.100.9\r\n"
	 "CSeq: 101 INVITE\r\n"
	 "Max-Forwards: 70\r\n"
	 "User-Agent: Cisco-SIPGateway/IOS-15.6.3.M2\r\n"
	 "Contact: <sip:5550199@198.51.100.9:5060>\r\n"
	 "Content-Type: application/sdp\r\n"
	 "Content-Length: @BODY@",
	 cisco_sdp},
	{"sipp uac",
	 "INVITE sip:service@127.0.0.1:5060 SIP/2.0\r\n"
	 "Via: SIP/2.0/UDP 127.0.1.1:5061;branch=z9hG4bK-4242-1-0\r\n"
	 "From: sipp <sip:sipp@127.0.1.1:5061>;tag=4242SIPpTag001\r\n"
	 "To: service <sip:service@127.0.0.1:5060>\r\n"
	 "Call-ID: 1-4242@127.0.1.1\r\n"
	 "CSeq: 1 INVITE\r\n"
	 "Contact: sip:sipp@127.0.1.1:5061\r\n"
	 "Max-Forwards: 70\r\n"
	 "Subject: Performance Test\r\n"
	 "Content-Type: application/sdp\r\n"
	 "Content-Length: @BODY@",
	 sdp_body},
};

static void test_normal_clients(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(normal) / sizeof(normal[0]); i++) {
		uint32_t ind;
		unsigned score = inspect_structure_score(
			parse(normal[i].hdrs,
			      normal[i].body ? normal[i].body : ""),
			&ind);

		if (score >= INSPECT_STRUCT_THRESHOLD)
			fail_msg("%s: false positive, score %u ind %#x",
				 normal[i].name, score, ind);
	}
}

/* The Cisco-gateway SDP from something that is not Cisco: weak alone. */
static void test_sdp_spoof(void **state)
{
	uint32_t ind;
	unsigned score;

	(void)state;
	score = inspect_structure_score(
		parse("INVITE sip:0044123456@203.0.113.10 SIP/2.0\r\n"
		      "Via: SIP/2.0/UDP 192.0.2.200:5071;branch=z9hG4bK-"
		      "77;rport\r\n"
		      "From: <sip:1000@203.0.113.10>;tag=ab12\r\n"
		      "To: <sip:0044123456@203.0.113.10>\r\n"
		      "Call-ID: 77\r\n"
		      "CSeq: 1 INVITE\r\n"
		      "Content-Type: application/sdp\r\n"
		      "Content-Length: @BODY@",
		      cisco_sdp),
		&ind);
	assert_int_equal(ind, INSPECT_I_SDP_SPOOF | INSPECT_I_SV_BRANCH |
				      INSPECT_I_NUM_CALLID);
	assert_int_equal(score, 3);
}

/* From-tag format corner cases. */
static void test_tag_format(void **state)
{
	static const struct {
		const char *tag;
		bool sv;
	} cases[] = {
		{"3206210844", true},
		/* "1000" 01 "1957747793": svwar's tag for extension 1000 */
		{"313030300131393537373437373933", true},
		{"0131323334353637", true}, /* empty data, 7 digits */
		{"01313233", false},        /* 3 digits: too few */
		{"31303030013139353737343737393", false},    /* odd */
		{"31303030013139353737343737393333", false}, /* 11 digits */
		{"313030300231393537373437373933", false},   /* 02 */
		{"313030300131393537373437373a33", false},   /* ":" */
		{"1f3030300131393537373437373933", false},   /* control */
		{"4A3030300131393537373437373933", false},   /* upper */
		{"as327b23c6", false},
		{"3206210845", false},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char hdrs[512];
		uint32_t ind;

		snprintf(hdrs, sizeof(hdrs),
			 "OPTIONS sip:example.com SIP/2.0\r\n"
			 "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKx\r\n"
			 "From: <sip:a@example.com>;tag=%s\r\n"
			 "To: <sip:example.com>\r\n"
			 "Call-ID: a@b\r\n"
			 "CSeq: 1 OPTIONS\r\n"
			 "Content-Length: 0\r\n\r\n",
			 cases[i].tag);
		inspect_structure_score(parse(hdrs, ""), &ind);
		if (!!(ind & INSPECT_I_SV_TAG) != cases[i].sv)
			fail_msg("tag %s: ind %#x", cases[i].tag, ind);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fps_parse),
		cmocka_unit_test(test_fps_limits),
		cmocka_unit_test(test_fps_file_is_builtin),
		cmocka_unit_test(test_fps_every_entry),
		cmocka_unit_test(test_fps_normal_agents),
		cmocka_unit_test(test_fps_scan_bound),
		cmocka_unit_test(test_sipvicious),
		cmocka_unit_test(test_weights),
		cmocka_unit_test(test_normal_clients),
		cmocka_unit_test(test_sdp_spoof),
		cmocka_unit_test(test_tag_format),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	assert_no_leaks();
	return rc;
}
