/*
 * test_tls.c - SIP over TLS through struct transport, on loopback with
 * certificates made by tls_certs.sh (the openssl command) in a temporary
 * directory: configuration validation, context errors (bad, mismatched,
 * expired, encrypted files), the AEAD-only cipher policy, SNI selection,
 * a transport-to-transport loopback (outbound verification by name, a
 * wrong name refused), mutual TLS and the verified identity, session
 * resumption, the handshake timeout on a fake clock, the gate on TLS
 * accepts, and reload (bad refused and old kept; good swapped in while a
 * connection stays up).
 */
#include "tp_harness.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "core/conf.h"
#include "transport/tls_int.h"

static char dir[64];

static const char *path(const char *name)
{
	static char buf[32][256];
	static unsigned i;
	char *b = buf[i++ % 32];

	snprintf(b, sizeof(buf[0]), "%s/%s", dir, name);
	return b;
}

static int make_certs(void **state)
{
	char cmd[512], script[256];
	const char *slash = strrchr(__FILE__, '/');

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/sg-tls-unit-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(script, sizeof(script), "%.*s/tls_certs.sh",
		 (int)(slash - __FILE__), __FILE__);
	snprintf(cmd, sizeof(cmd), "sh %s %s", script, dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static int rm_certs(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* A server zone: server.pem (default) and other.pem (SNI). */
static struct tls_conf srv_conf(void)
{
	struct tls_conf c = {0};

	c.cert_files[0] = path("server.pem");
	c.key_files[0] = path("server.key");
	c.cert_files[1] = path("other.pem");
	c.key_files[1] = path("other.key");
	c.ncerts = 2;
	c.ca_file = path("ca.pem");
	return c;
}

static void copy_file(const char *from, const char *to)
{
	char cmd[640];

	snprintf(cmd, sizeof(cmd), "cp %s %s", from, to);
	assert_int_equal(system(cmd), 0);
}

/* ------------------------------------------------------------ config */

static void test_conf_validation(void **state)
{
	static const struct {
		const char *tls;
		const char *err; /* NULL: valid */
	} cases[] = {
		{"{certificates: [a.pem], keys: [a.key]}", NULL},
		{"{certificates: [a.pem, b.pem], keys: [a.key]}",
		 "one key per certificate"},
		{"{verify_clients: require}", "needed when verify_clients"},
		{"{verify_clients: optional, client_ca_file: ca.pem}", NULL},
		{"{ciphers: \"AES128-SHA; rm\"}", "not an OpenSSL cipher list"},
		{"{min_version: \"1.1\"}", "min_version"},
		{"{backend_name: \"pbx example\"}", "not a host name"},
		{"{handshake_timeout: 10ms}", "handshake_timeout"},
		{"{key_password: hunter2, session_resumption: false}", NULL},
		{"{allowed_clients: [trunk1.example]}", "needs verify_clients"},
		{"{allowed_clients: [trunk1.example], verify_clients: require,"
		 " client_ca_file: ca.pem}",
		 NULL},
	};
	char text[512], err[CONF_ERR_LEN];
	struct sg_conf *c;
	unsigned i;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text),
			 "zones:\n  - name: a\n    trust: untrusted\n"
			 "    listen: [\"tls:127.0.0.1:5061\"]\n    tls: %s\n",
			 cases[i].tls);
		rc = conf_load_str(&c, "t.yaml", text, strlen(text), err,
				   sizeof(err));
		if (!cases[i].err) {
			if (rc)
				fail_msg("case %u: %s", i, err);
			assert_string_equal(c->zones[0].tls.ciphers,
					    tls_default_ciphers);
			assert_string_equal(c->zones[0].tls.ciphersuites,
					    tls_default_ciphersuites);
			conf_free(c);
			continue;
		}
		assert_int_equal(rc, -EINVAL);
		if (!strstr(err, cases[i].err))
			fail_msg("case %u: '%s' lacks '%s'", i, err,
				 cases[i].err);
	}
	/* The password is never dumped. */
	snprintf(text, sizeof(text),
		 "zones:\n  - name: a\n    trust: untrusted\n"
		 "    listen: [\"udp:127.0.0.1:5060\"]\n"
		 "    tls: {key_password: hunter2}\n");
	assert_int_equal(
		conf_load_str(&c, "t", text, strlen(text), err, sizeof(err)),
		0);
	{
		char *out = NULL;
		size_t n = 0;
		FILE *f = open_memstream(&out, &n);

		conf_dump(c, f);
		fclose(f);
		assert_null(strstr(out, "hunter2"));
		free(out);
	}
	conf_free(c);
	assert_no_leaks();
}

/* --------------------------------------------------------- contexts */

static void test_ctx_errors(void **state)
{
	struct {
		const char *cert, *key, *pass, *ciphers, *want;
		enum tls_verify verify;
	} cases[] = {
		{"garbage.pem", "server.key", NULL, NULL, "garbage.pem", 0},
		{"nonexistent.pem", "server.key", NULL, NULL, "nonexistent", 0},
		{"server.pem", "other.key", NULL, NULL, "does not match", 0},
		{"expired.pem", "expired.key", NULL, NULL, "expired", 0},
		{"server.pem", "enc.key", NULL, NULL, "password", 0},
		{"server.pem", "enc.key", "wrong", NULL, "password", 0},
		{"server.pem", "server.key", NULL, "NOPE-NOTHING", "ciphers",
		 0},
		{"server.pem", "server.key", NULL, NULL, "bad TLS settings",
		 TLS_VERIFY_REQUIRE},
		{"server.pem", "enc.key", "pw-secret", NULL, NULL, 0},
		{"server.pem", "server.key", NULL, NULL, NULL, 0},
	};
	char err[256];
	unsigned i;
	struct h h;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tls_conf c = {0};
		char cert[256], key[256];

		snprintf(cert, sizeof(cert), "%s", path(cases[i].cert));
		snprintf(key, sizeof(key), "%s", path(cases[i].key));
		c.cert_files[0] = cert;
		c.key_files[0] = key;
		c.ncerts = 1;
		c.key_password = cases[i].pass;
		c.ciphers = cases[i].ciphers;
		c.verify_clients = cases[i].verify;
		h_init(&h, NULL, false);
		rc = tp_tls_zone(h.tp, 1, &c, err, sizeof(err));
		if (!cases[i].want) {
			if (rc)
				fail_msg("case %u: %s", i, err);
			assert_int_equal(
				tp_tls_zone(h.tp, 1, &c, err, sizeof(err)),
				-EEXIST);
		} else {
			assert_int_equal(rc, -EINVAL);
			if (!strstr(err, cases[i].want))
				fail_msg("case %u: '%s' lacks '%s'", i, err,
					 cases[i].want);
			/* Never the password, whatever went wrong. */
			assert_null(strstr(err, "pw-secret"));
		}
		h_fini(&h);
	}
	/* No TLS listener without a certificate for its zone. */
	h_init(&h, NULL, false);
	{
		struct sg_addr a = h_addr("127.0.0.1:0");
		struct tls_conf c = {0};

		assert_int_equal(tp_listen(h.tp, SIP_TP_TLS, &a, 1, NULL),
				 -EPROTONOSUPPORT);
		assert_int_equal(tp_tls_zone(h.tp, 1, &c, err, sizeof(err)), 0);
		assert_int_equal(tp_listen(h.tp, SIP_TP_TLS, &a, 1, NULL),
				 -EPROTONOSUPPORT);
	}
	h_fini(&h);
	assert_no_leaks();
}

/* ------------------------------------------------- raw OpenSSL client */

struct cli {
	SSL_CTX *ctx;
	SSL *ssl;
	int fd;
};

static void cli_new(struct cli *c, int maxver, const char *ciphers,
		    const char *cert, const char *key)
{
	memset(c, 0, sizeof(*c));
	c->ctx = SSL_CTX_new(TLS_client_method());
	assert_non_null(c->ctx);
	assert_int_equal(
		SSL_CTX_load_verify_locations(c->ctx, path("ca.pem"), NULL), 1);
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
	/* Without it OpenSSL drops TLS 1.3 tickets on the client side. */
	SSL_CTX_set_session_cache_mode(c->ctx, SSL_SESS_CACHE_CLIENT);
	if (maxver)
		SSL_CTX_set_max_proto_version(c->ctx, maxver);
	if (ciphers)
		assert_int_equal(SSL_CTX_set_cipher_list(c->ctx, ciphers), 1);
	if (cert) {
		assert_int_equal(
			SSL_CTX_use_certificate_chain_file(c->ctx, path(cert)),
			1);
		assert_int_equal(SSL_CTX_use_PrivateKey_file(c->ctx, path(key),
							     SSL_FILETYPE_PEM),
				 1);
	}
	c->fd = -1;
}

/* Connect to a (SNI name, optional session) and handshake while the
 * loop runs.  Returns true when the client side finished it. */
static bool cli_connect(struct h *h, struct cli *c, const struct sg_addr *a,
			const char *sni, SSL_SESSION *sess)
{
	int i, r;

	c->fd = h_connect(a);
	assert_int_equal(fcntl(c->fd, F_SETFL, O_NONBLOCK), 0);
	c->ssl = SSL_new(c->ctx);
	SSL_set_fd(c->ssl, c->fd);
	if (sni)
		SSL_set_tlsext_host_name(c->ssl, sni);
	if (sess)
		SSL_set_session(c->ssl, sess);
	for (i = 0; i < H_TURNS; i++) {
		r = SSL_connect(c->ssl);
		if (r == 1)
			return true;
		r = SSL_get_error(c->ssl, r);
		if (r != SSL_ERROR_WANT_READ && r != SSL_ERROR_WANT_WRITE)
			break;
		loop_run_once(h->l, 2);
	}
	ERR_clear_error();
	return false;
}

/* Read one TLS record's worth of plaintext while the loop runs. */
static int cli_read(struct h *h, struct cli *c, char *buf, int n)
{
	int i, r;

	for (i = 0; i < H_TURNS; i++) {
		r = SSL_read(c->ssl, buf, n);
		if (r > 0)
			return r;
		r = SSL_get_error(c->ssl, r);
		if (r != SSL_ERROR_WANT_READ && r != SSL_ERROR_WANT_WRITE)
			break;
		loop_run_once(h->l, 2);
	}
	ERR_clear_error();
	return -1;
}

static void cli_free(struct cli *c)
{
	SSL_free(c->ssl);
	SSL_CTX_free(c->ctx);
	if (c->fd >= 0)
		close(c->fd);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

static const char *peer_cn(struct cli *c, char *buf, size_t n)
{
	X509 *x = SSL_get0_peer_certificate(c->ssl);

	assert_non_null(x);
	X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, buf,
				  (int)n);
	return buf;
}

/* A TLS server transport (echo) on 127.0.0.1, zone 1. */
static void srv_up(struct h *h, struct tls_conf *c, bool fake,
		   struct sg_addr *la)
{
	char err[256];

	h_init(h, NULL, fake);
	h->echo = true;
	if (tp_tls_zone(h->tp, 1, c, err, sizeof(err)) != 0)
		fail_msg("tp_tls_zone: %s", err);
	h_listen(h, SIP_TP_TLS, "127.0.0.1:0", 1, la);
}

static void test_policy_sni_echo(void **state)
{
	struct tls_conf sc = srv_conf();
	const struct tls_zone *z;
	struct sg_addr la;
	struct cli c;
	char m[512], buf[512];
	size_t n;
	struct h h;

	(void)state;
	srv_up(&h, &sc, false, &la);
	/* Every context cleanses decrypted records (SDES keys). */
	z = tp__tls_zone_of(h.tp, 1);
	assert_non_null(z);
	assert_true(z->cur.nsrv == 2 && z->cur.cli);
	for (unsigned i = 0; i < z->cur.nsrv; i++)
		assert_true(SSL_CTX_get_options(z->cur.srv[i]) &
			    SSL_OP_CLEANSE_PLAINTEXT);
	assert_true(SSL_CTX_get_options(z->cur.cli) & SSL_OP_CLEANSE_PLAINTEXT);
	/* Non-AEAD TLS 1.2 client: refused by the default policy. */
	cli_new(&c, TLS1_2_VERSION, "AES128-SHA", NULL, NULL);
	assert_false(cli_connect(&h, &c, &la, NULL, NULL));
	H_PUMP_UNTIL(&h, h_stats(&h).tls_failed == 1);
	H_PUMP_UNTIL(&h, h.why == TP_CLOSE_HANDSHAKE);
	cli_free(&c);
	/* TLS 1.2 with AEAD: fine; no SNI gets the default certificate. */
	cli_new(&c, TLS1_2_VERSION, NULL, NULL, NULL);
	assert_true(cli_connect(&h, &c, &la, NULL, NULL));
	assert_string_equal(peer_cn(&c, buf, sizeof(buf)), "server.test");
	assert_string_equal(SSL_get_version(c.ssl), "TLSv1.2");
	assert_non_null(strstr(SSL_get_cipher_name(c.ssl), "GCM"));
	n = h_msg(m, sizeof(m), "tls12", "hello");
	assert_int_equal(SSL_write(c.ssl, m, (int)n), (int)n);
	H_PUMP_UNTIL(&h, h.nmsg == 1);
	assert_int_equal(h.msg[0].from.tp, SIP_TP_TLS);
	assert_memory_equal(h.msg[0].p, m, n);
	assert_int_equal(cli_read(&h, &c, buf, sizeof(buf)), (int)n);
	assert_memory_equal(buf, m, n);
	/* No client certificate: no identity. */
	assert_int_equal(
		tp_tls_identity(h.tp, h.msg[0].from.conn_id, buf, sizeof(buf)),
		-EPERM);
	cli_free(&c);
	/* SNI picks the certificate that carries the name; an unknown
	 * name gets the default. */
	cli_new(&c, 0, NULL, NULL, NULL);
	assert_true(cli_connect(&h, &c, &la, "other.test", NULL));
	assert_string_equal(peer_cn(&c, buf, sizeof(buf)), "other.test");
	assert_string_equal(SSL_get_version(c.ssl), "TLSv1.3");
	cli_free(&c);
	cli_new(&c, 0, NULL, NULL, NULL);
	assert_true(cli_connect(&h, &c, &la, "unknown.test", NULL));
	assert_string_equal(peer_cn(&c, buf, sizeof(buf)), "server.test");
	cli_free(&c);
	h_fini(&h);
	assert_no_leaks();
}

static void test_resumption(void **state)
{
	struct tls_conf sc = srv_conf();
	SSL_SESSION *sess;
	struct sg_addr la;
	struct cli c;
	char m[256], buf[256];
	size_t n;
	struct h h;

	(void)state;
	srv_up(&h, &sc, false, &la);
	cli_new(&c, 0, NULL, NULL, NULL);
	assert_true(cli_connect(&h, &c, &la, NULL, NULL));
	/* TLS 1.3 tickets come after the handshake: read the echo. */
	n = h_msg(m, sizeof(m), "resume", "");
	assert_int_equal(SSL_write(c.ssl, m, (int)n), (int)n);
	assert_int_equal(cli_read(&h, &c, buf, sizeof(buf)), (int)n);
	sess = SSL_get1_session(c.ssl);
	assert_non_null(sess);
	/* Without close_notify OpenSSL marks the session not resumable. */
	(void)SSL_shutdown(c.ssl);
	SSL_free(c.ssl);
	c.ssl = NULL;
	close(c.fd);
	assert_true(cli_connect(&h, &c, &la, NULL, sess));
	assert_true(SSL_session_reused(c.ssl));
	H_PUMP_UNTIL(&h, h_stats(&h).tls_resumed == 1);
	assert_int_equal(h_stats(&h).tls_handshakes, 2);
	SSL_SESSION_free(sess);
	cli_free(&c);
	h_fini(&h);
	assert_no_leaks();
}

/* min_version 1.3 refuses TLS 1.2 clients; no_resumption resumes
 * nothing. */
static void test_tls13_only_no_resumption(void **state)
{
	struct tls_conf sc = srv_conf();
	SSL_SESSION *sess;
	struct sg_addr la;
	struct cli c;
	char m[256], buf[256];
	size_t n;
	struct h h;

	(void)state;
	sc.tls13_only = true;
	sc.no_resumption = true;
	srv_up(&h, &sc, false, &la);
	cli_new(&c, TLS1_2_VERSION, NULL, NULL, NULL);
	assert_false(cli_connect(&h, &c, &la, NULL, NULL));
	H_PUMP_UNTIL(&h, h_stats(&h).tls_failed == 1);
	cli_free(&c);
	cli_new(&c, 0, NULL, NULL, NULL);
	assert_true(cli_connect(&h, &c, &la, NULL, NULL));
	n = h_msg(m, sizeof(m), "noresume", "");
	assert_int_equal(SSL_write(c.ssl, m, (int)n), (int)n);
	assert_int_equal(cli_read(&h, &c, buf, sizeof(buf)), (int)n);
	sess = SSL_get1_session(c.ssl);
	(void)SSL_shutdown(c.ssl);
	SSL_free(c.ssl);
	c.ssl = NULL;
	close(c.fd);
	assert_true(cli_connect(&h, &c, &la, NULL, sess));
	assert_false(SSL_session_reused(c.ssl));
	SSL_SESSION_free(sess);
	cli_free(&c);
	assert_int_equal(h_stats(&h).tls_resumed, 0);
	h_fini(&h);
	assert_no_leaks();
}

static void test_mutual(void **state)
{
	struct tls_conf sc = srv_conf();
	struct sg_addr la;
	struct cli c;
	char m[256], buf[256];
	size_t n;
	struct h h;

	(void)state;
	sc.client_ca_file = path("ca.pem");
	sc.verify_clients = TLS_VERIFY_REQUIRE;
	srv_up(&h, &sc, false, &la);
	/* Without a certificate, and with one from an unknown CA: refused
	 * (TLS 1.3 clients finish first, so look at the server). */
	cli_new(&c, 0, NULL, NULL, NULL);
	(void)cli_connect(&h, &c, &la, NULL, NULL);
	H_PUMP_UNTIL(&h, h_stats(&h).tls_failed == 1);
	cli_free(&c);
	cli_new(&c, 0, NULL, "rogue.pem", "rogue.key");
	(void)cli_connect(&h, &c, &la, NULL, NULL);
	H_PUMP_UNTIL(&h, h_stats(&h).tls_failed == 2);
	cli_free(&c);
	assert_int_equal(h.nmsg, 0);
	/* A trusted client certificate: its name is the identity. */
	cli_new(&c, 0, NULL, "client.pem", "client.key");
	assert_true(cli_connect(&h, &c, &la, NULL, NULL));
	n = h_msg(m, sizeof(m), "mtls", "");
	assert_int_equal(SSL_write(c.ssl, m, (int)n), (int)n);
	H_PUMP_UNTIL(&h, h.nmsg == 1);
	assert_int_equal(
		tp_tls_identity(h.tp, h.msg[0].from.conn_id, buf, sizeof(buf)),
		0);
	assert_string_equal(buf, "trunk1.example");
	assert_int_equal(tp_tls_identity(h.tp, 12345, buf, sizeof(buf)),
			 -ENOENT);
	cli_free(&c);
	h_fini(&h);
	/* allowed_clients: a trusted certificate with another name is
	 * refused; one with a listed name passes. */
	sc.allowed_clients[0] = "trunk2.example";
	sc.allowed_clients[1] = "TRUNK1.example"; /* names are caseless */
	sc.nallowed = 1;
	srv_up(&h, &sc, false, &la);
	cli_new(&c, 0, NULL, "client.pem", "client.key");
	(void)cli_connect(&h, &c, &la, NULL, NULL);
	H_PUMP_UNTIL(&h, h.why == TP_CLOSE_HANDSHAKE);
	assert_int_equal(h_stats(&h).tls_failed, 1);
	cli_free(&c);
	h_fini(&h);
	sc.nallowed = 2;
	srv_up(&h, &sc, false, &la);
	cli_new(&c, 0, NULL, "client.pem", "client.key");
	assert_true(cli_connect(&h, &c, &la, NULL, NULL));
	assert_int_equal(SSL_write(c.ssl, m, (int)n), (int)n);
	H_PUMP_UNTIL(&h, h.nmsg == 1);
	assert_int_equal(h_stats(&h).tls_failed, 0);
	cli_free(&c);
	h_fini(&h);
	/* Only with verify_clients require. */
	sc.verify_clients = TLS_VERIFY_OPTIONAL;
	h_init(&h, NULL, false);
	assert_int_equal(tp_tls_zone(h.tp, 1, &sc, buf, sizeof(buf)), -EINVAL);
	h_fini(&h);
	assert_no_leaks();
}

/* ------------------------------------------- transport to transport */

struct rx {
	unsigned n;
	struct sip_peer from;
};

static void rx_recv(void *arg, const struct sip_peer *from, const char *p,
		    size_t n)
{
	struct rx *r = arg;

	(void)p;
	(void)n;
	r->n++;
	r->from = *from;
}

/* Client transport b (zone 2, CA only) sends to the server at la,
 * expecting the name `name`.  Returns b's stats after the exchange. */
static struct tp_stats out_to(struct h *h, const struct sg_addr *la,
			      const char *name, unsigned want_msgs)
{
	struct tls_conf cc = {0};
	struct transport *b;
	struct sip_peer to;
	struct tp_stats st;
	struct rx rx = {0};
	char m[256], err[256];
	size_t n;

	cc.ca_file = path("ca.pem");
	assert_int_equal(tp_new(&b, h->l, NULL, rx_recv, &rx), 0);
	assert_int_equal(tp_tls_zone(b, 2, &cc, err, sizeof(err)), 0);
	if (name)
		assert_int_equal(tp_tls_peer_name(b, la, name), 0);
	memset(&to, 0, sizeof(to));
	to.tp = SIP_TP_TLS;
	to.addr = *la;
	to.zone = 2;
	n = h_msg(m, sizeof(m), "out", "x");
	assert_int_equal(tp_send(b, &to, m, n), 0);
	if (want_msgs) {
		H_PUMP_UNTIL(h, rx.n == want_msgs);
		assert_int_equal(rx.from.tp, SIP_TP_TLS);
		/* The same connection carries the next one. */
		assert_int_equal(tp_send(b, &rx.from, m, n), 0);
		H_PUMP_UNTIL(h, rx.n == want_msgs + 1);
	} else {
		int i;

		for (i = 0; i < H_TURNS; i++) {
			tp_get_stats(b, &st);
			if (st.conns_open == 0)
				break;
			loop_run_once(h->l, 2);
		}
	}
	tp_get_stats(b, &st);
	tp_free(b);
	return st;
}

static void test_outbound(void **state)
{
	struct tls_conf sc = srv_conf();
	struct tp_stats st;
	struct sg_addr la;
	struct h h;

	(void)state;
	srv_up(&h, &sc, false, &la);
	/* By configured name (also SNI: other.test is the second cert). */
	st = out_to(&h, &la, "server.test", 1);
	assert_int_equal(st.tls_handshakes, 1);
	st = out_to(&h, &la, "other.test", 1);
	assert_int_equal(st.tls_handshakes, 1);
	/* No name: the certificate must carry the IP (server.pem does). */
	st = out_to(&h, &la, NULL, 1);
	assert_int_equal(st.tls_handshakes, 1);
	/* A name the certificate does not carry: refused, nothing sent. */
	st = out_to(&h, &la, "pbx.example", 0);
	assert_int_equal(st.tls_failed, 1);
	assert_int_equal(st.closed[TP_CLOSE_HANDSHAKE], 1);
	assert_int_equal(h.nmsg, 3 * 2);
	h_fini(&h);
	assert_no_leaks();
}

/* ------------------------------------------- timeout, gate, reload */

static bool gate_no(void *arg, const struct sg_addr *src, enum sip_tp tp,
		    uint16_t zone, size_t bytes)
{
	enum sip_tp *seen = arg;

	(void)src;
	(void)zone;
	(void)bytes;
	*seen = tp;
	return false;
}

static void test_timeout_and_gate(void **state)
{
	struct tls_conf sc = srv_conf();
	enum sip_tp seen = SIP_TP_UDP;
	struct sg_addr la;
	struct h h;
	int fd;

	(void)state;
	sc.handshake_ms = 2000;
	srv_up(&h, &sc, true, &la);
	/* A client that never says hello is dropped after handshake_ms. */
	fd = h_connect(&la);
	H_PUMP_UNTIL(&h, h_stats(&h).accepted == 1);
	h_fake_ms += 1999;
	h_pump(&h, 3);
	assert_int_equal(h_stats(&h).conns_open, 1);
	h_fake_ms += 2;
	H_PUMP_UNTIL(&h, h_stats(&h).conns_open == 0);
	assert_int_equal(h_stats(&h).closed[TP_CLOSE_HANDSHAKE], 1);
	assert_true(h_wait_eof(&h, fd));
	close(fd);
	/* The gate sees TLS accepts before any handshake work. */
	tp_set_gate(h.tp, gate_no, &seen);
	fd = h_connect(&la);
	H_PUMP_UNTIL(&h, h_stats(&h).gated_accepts == 1);
	assert_int_equal(seen, SIP_TP_TLS);
	close(fd);
	h_fini(&h);
	assert_no_leaks();
}

static void test_reload(void **state)
{
	struct tls_conf sc = {0};
	struct sg_addr la;
	struct cli c, live;
	char cert[256], key[256], buf[256], m[256], err[256];
	size_t n;
	struct h h;

	(void)state;
	snprintf(cert, sizeof(cert), "%s", path("live.pem"));
	snprintf(key, sizeof(key), "%s", path("live.key"));
	copy_file(path("server.pem"), cert);
	copy_file(path("server.key"), key);
	sc.cert_files[0] = cert;
	sc.key_files[0] = key;
	sc.ncerts = 1;
	srv_up(&h, &sc, false, &la);
	cli_new(&live, 0, NULL, NULL, NULL);
	assert_true(cli_connect(&h, &live, &la, NULL, NULL));
	/* A bad certificate, then a mismatched pair: refused, old kept. */
	copy_file(path("garbage.pem"), cert);
	assert_int_equal(tp_tls_reload(h.tp, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "live.pem"));
	copy_file(path("other.pem"), cert);
	assert_int_equal(tp_tls_reload(h.tp, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "does not match"));
	cli_new(&c, 0, NULL, NULL, NULL);
	assert_true(cli_connect(&h, &c, &la, NULL, NULL));
	assert_string_equal(peer_cn(&c, buf, sizeof(buf)), "server.test");
	cli_free(&c);
	/* A good new pair: new handshakes get it... */
	copy_file(path("other.key"), key);
	assert_int_equal(tp_tls_reload(h.tp, err, sizeof(err)), 0);
	cli_new(&c, 0, NULL, NULL, NULL);
	assert_true(cli_connect(&h, &c, &la, NULL, NULL));
	assert_string_equal(peer_cn(&c, buf, sizeof(buf)), "other.test");
	cli_free(&c);
	/* ...and the connection made before the reloads still works. */
	n = h_msg(m, sizeof(m), "live", "");
	assert_int_equal(SSL_write(live.ssl, m, (int)n), (int)n);
	assert_int_equal(cli_read(&h, &live, buf, sizeof(buf)), (int)n);
	assert_memory_equal(buf, m, n);
	cli_free(&live);
	h_fini(&h);
	assert_no_leaks();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conf_validation),
		cmocka_unit_test(test_ctx_errors),
		cmocka_unit_test(test_policy_sni_echo),
		cmocka_unit_test(test_resumption),
		cmocka_unit_test(test_tls13_only_no_resumption),
		cmocka_unit_test(test_mutual),
		cmocka_unit_test(test_outbound),
		cmocka_unit_test(test_timeout_and_gate),
		cmocka_unit_test(test_reload),
	};

	log_set_level(LOG_LVL_ERR);
	return cmocka_run_group_tests(tests, make_certs, rm_certs);
}
