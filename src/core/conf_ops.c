/*
 * conf_ops.c - the `media`, `ops` and `store` sections of sipguard's
 * configuration: the media relay (issue 6), operations (metrics, HEP
 * export, privileges; issue 8) and the state shared between instances
 * (issue 9).  Kept out of conf_opts.c, like conf_fraud.c, so that each
 * file stays one readable set of tables; conf_opts.c links them into
 * the root.
 */
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/conf.h"

#define RL CONF_RELOAD

static int check_media(struct conf_ctx *c, const void *obj)
{
	const struct sg_conf_media *m = obj;

	/* At least one RTP/RTCP pair (even, odd) in the range. */
	if (m->port_max < ((m->port_min + 1) & ~1LL) + 1)
		return conf_fail(c, "port_max",
				 "the range holds no RTP/RTCP port pair");
	if (!m->dtls_certificate[0] != !m->dtls_key[0])
		return conf_fail(c, "dtls_key",
				 "dtls_certificate and dtls_key go together");
	return 0;
}

/* media.kernel_interfaces: an interface name or an fnmatch(3) pattern of
 * names.  The kernel refuses "." and "..", '/', ':' and white space in
 * names; we keep to what names use in practice (and the pattern
 * characters), so that a stray quote or backslash is an error rather
 * than an entry that silently matches nothing.  At most IFNAMSIZ - 1
 * bytes: the field's size says so. */
static int check_ifname(const char *s, char *why, size_t whysz)
{
	size_t i;

	if (!s[0] || !strcmp(s, ".") || !strcmp(s, "..")) {
		snprintf(why, whysz, "not an interface name");
		return -EINVAL;
	}
	if (strchr(s, ':')) {
		snprintf(why, whysz,
			 "an address label (eth0:1) is not an interface: "
			 "name the interface (eth0)");
		return -EINVAL;
	}
	for (i = 0; s[i]; i++) {
		if (s[i] == '[' && !strchr(s + i + 1, ']')) {
			snprintf(why, whysz, "'[' without its ']'");
			return -EINVAL;
		}
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') ||
		      strchr("-_.+*?[]!", s[i]))) {
			snprintf(why, whysz,
				 "letters, digits, -_.+ and the pattern "
				 "characters *?[]! only");
			return -EINVAL;
		}
	}
	return 0;
}

static const struct conf_enum media_io[] = {
	{"epoll", CONF_MEDIA_IO_EPOLL},
	{"uring", CONF_MEDIA_IO_URING},
	{NULL, 0},
};

static const struct conf_enum media_kernel[] = {
	{"off", CONF_MEDIA_KERNEL_OFF},
	{"auto", CONF_MEDIA_KERNEL_AUTO},
	{"on", CONF_MEDIA_KERNEL_ON},
	{NULL, 0},
};

#define MEDIA struct sg_conf_media
static const struct conf_opt media_opts[] = {
	CONF_OPT_BOOL(
		MEDIA, enabled, "true", 0,
		"Relay the media of calls: every SDP crossing sipguard is "
		"rewritten to relay ports that accept media only from "
		"the parties the signalling names."),
	CONF_OPT_INT(MEDIA, port_min, "30000", 1024, 65534, 0,
		     "Lowest relay port (RTP/RTCP pairs, RTP even)."),
	CONF_OPT_INT(MEDIA, port_max, "39999", 1025, 65535, 0,
		     "Highest relay port."),
	CONF_OPT_DURATION(MEDIA, quarantine, "60s", 0, 3600000, 0,
			  "A closed port pair is not reused for this long, so "
			  "late packets of an old call never reach a new one."),
	CONF_OPT_DURATION(
		MEDIA, timeout, "60s", 1000, 86400000, 0,
		"No media for this long on a confirmed call raises "
		"media-timeout (held and inactive streams excepted)."),
	CONF_OPT_BOOL(MEDIA, end_call_on_timeout, "true", 0,
		      "On media-timeout, end the call (BYE to both sides)."),
	CONF_OPT_BOOL(MEDIA, anomaly_drop, "false", 0,
		      "Drop the packets that raise media-anomaly (SSRC change, "
		      "sequence or timestamp jump); otherwise only report."),
	CONF_OPT_INT(MEDIA, max_seq_jump, "3000", 1, 32767, 0,
		     "RTP sequence jump that is an anomaly."),
	CONF_OPT_INT(MEDIA, max_ts_jump, "1440000", 1, 2147483647LL, 0,
		     "RTP timestamp jump that is an anomaly (clock units)."),
	CONF_OPT_BOOL(MEDIA, policing, "true", 0,
		      "Police each stream's rate: b=AS if given, else a "
		      "default for its media type, plus the margin."),
	CONF_OPT_INT(MEDIA, policing_margin, "50", 0, 1000, 0,
		     "Percent over the negotiated rate before packets drop."),
	CONF_OPT_BOOL(MEDIA, scrub_cname, "true", 0,
		      "Overwrite the RTCP SDES CNAME of untrusted parties "
		      "(it often holds user@host)."),
	CONF_OPT_INT(MEDIA, threads, "1", 1, 16, 0,
		     "Relay threads (each its own event loop)."),
	CONF_OPT_INT(MEDIA, max_calls, "20000", 1, 1000000, 0,
		     "Calls with relayed media at once; more get 503. Each "
		     "stream also holds 4 sockets: streams are capped by the "
		     "descriptor limit (RLIMIT_NOFILE less 1024; with io: "
		     "uring, plus RLIMIT_NOFILE per relay thread)."),
	CONF_OPT_ENUM(MEDIA, io, "uring", media_io, 0,
		      "Relay socket I/O: uring (io_uring: multishot receives, "
		      "batched sends, sockets as direct descriptors outside "
		      "the descriptor limit, up to RLIMIT_NOFILE per relay "
		      "thread; a busy relay waits up to 1 ms to batch) or "
		      "epoll (recvmmsg/sendmmsg per socket). uring falls back "
		      "to epoll, with a warning, when io_uring is unavailable "
		      "(old kernel, kernel.io_uring_disabled, seccomp)."),
	CONF_OPT_STRING(MEDIA, dtls_certificate, "", 0, NULL, 0,
			"DTLS-SRTP: PEM certificate whose sha-256 fingerprint "
			"sipguard puts in its a=fingerprint. Empty: a "
			"self-signed ECDSA P-256 certificate is made at start "
			"(peers check only the fingerprint, RFC 5763 5)."),
	CONF_OPT_STRING(MEDIA, dtls_key, "", 0, NULL, 0,
			"DTLS-SRTP: PEM private key of dtls_certificate."),
	CONF_OPT_DURATION(MEDIA, dtls_handshake_timeout, "20s", 1000, 120000, 0,
			  "A DTLS-SRTP handshake not finished this long after "
			  "the answer fails the stream (event "
			  "dtls-handshake)."),
	CONF_OPT_ENUM(
		MEDIA, kernel, "auto", media_kernel, 0,
		"In-kernel fast path (eBPF at TCX ingress, kernel 6.6): once "
		"the relay accepted a plain RTP stream's packet, the kernel "
		"relays that direction's RTP itself, with the same source, "
		"payload type, SSRC/sequence/timestamp and bandwidth checks; "
		"anything else (strangers, RTCP, SRTP, DTLS, failed checks) "
		"still goes to the relay. Needs CAP_BPF and CAP_NET_ADMIN at "
		"start; the program goes with the process. auto: used when "
		"it loads, else a warning; on: refuse to start without it."),
	CONF_OPT_STRLIST(
		MEDIA, kernel_interfaces, 0, check_ifname, 0,
		"Interfaces the kernel path attaches to: names (`eth0`) or "
		"shell patterns (fnmatch(3): `enp*s0`, `eth[01]`, `vlan?`), "
		"each at most 15 characters of letters, digits, `-_.+` and "
		"`*?[]!`. Empty: every interface that is up, Ethernet-framed "
		"or loopback and holds an address (container bridges and "
		"veths, management NICs included). Set: only those whose "
		"name matches, at start and when one appears, comes up or "
		"is renamed into the list later; one renamed out of it is "
		"detached. Loopback only if listed (`lo`): list it when "
		"parties on this host exchange media through sipguard. An "
		"entry matching no interface at start is logged (info) and "
		"attached when it appears. If no listed interface is up "
		"with an address at start, `on` refuses to start and "
		"`auto` starts with a warning, relays in userspace and "
		"attaches when one appears. Interfaces without an Ethernet "
		"header (tun, WireGuard) are never attached (a warning when "
		"listed)."),
	CONF_OPT_END,
};
#undef MEDIA

const struct conf_section conf__media_sec = {
	.name = "media",
	.size = sizeof(struct sg_conf_media),
	.opts = media_opts,
	.check = check_media,
	.help = "Media relay: per-call pinholes bound to the signalling.",
};

/* --- operations (issue 8): metrics, HEP, privileges --- */

static int check_tcp_addr(const char *s, char *why, size_t whysz)
{
	struct conf_addr ca;

	if (conf__addr_parse(&ca, s, why, whysz))
		return -EINVAL;
	if (ca.transport != CONF_TP_TCP) {
		snprintf(why, whysz, "must be tcp:ADDR:PORT");
		return -EINVAL;
	}
	return 0;
}

static int check_udp_addr(const char *s, char *why, size_t whysz)
{
	struct conf_addr ca;

	if (conf__addr_parse(&ca, s, why, whysz))
		return -EINVAL;
	if (ca.transport != CONF_TP_UDP) {
		snprintf(why, whysz, "must be udp:ADDR:PORT");
		return -EINVAL;
	}
	return 0;
}

static const struct {
	const char *name;
	int cap;
} cap_names[] = {
	{"net_bind_service", CAP_NET_BIND_SERVICE},
	{"net_admin", CAP_NET_ADMIN},
	{"net_raw", CAP_NET_RAW},
	{"sys_nice", CAP_SYS_NICE},
	{"sys_resource", CAP_SYS_RESOURCE},
};

int conf_cap_from_name(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(cap_names) / sizeof(cap_names[0]); i++)
		if (strcmp(name, cap_names[i].name) == 0)
			return cap_names[i].cap;
	return -EINVAL;
}

static int check_cap(const char *s, char *why, size_t whysz)
{
	if (conf_cap_from_name(s) >= 0)
		return 0;
	snprintf(why, whysz,
		 "unknown capability (one of net_bind_service, "
		 "net_admin, net_raw, sys_nice, sys_resource)");
	return -EINVAL;
}

/* A bearer token: printable, no spaces or quotes (it travels in an
 * HTTP header and the dashboard's URL fragment). */
static int check_token(const char *s, char *why, size_t whysz)
{
	size_t i, n = strlen(s);

	if (n && n < 16) {
		snprintf(why, whysz, "at least 16 characters");
		return -EINVAL;
	}
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') ||
		      strchr("-._~+/=", s[i]))) {
			snprintf(why, whysz,
				 "letters, digits and -._~+/= only");
			return -EINVAL;
		}
	return 0;
}

static int check_ops(struct conf_ctx *c, const void *obj)
{
	const struct sg_conf_ops *o = obj;

	if (o->dashboard && !o->metrics_listen[0])
		return conf_fail(c, "dashboard",
				 "needs metrics_listen (its HTTP server)");
	if (o->dashboard && !o->dashboard_token[0])
		return conf_fail(c, "dashboard", "needs dashboard_token");
	return 0;
}

#define OPS struct sg_conf_ops
static const struct conf_opt ops_opts[] = {
	CONF_OPT_STRING(
		OPS, metrics_listen, "", 0, check_tcp_addr, 0,
		"Prometheus endpoint, tcp:ADDR:PORT; GET /metrics is served there (plain HTTP: keep it on a management address). Empty: off."),
	CONF_OPT_STRING(
		OPS, hep_server, "", 0, check_udp_addr, 0,
		"HEPv3 capture server (Homer, sngrep -L), udp:ADDR:PORT: a copy of every SIP message received and sent, on every zone, is sent there. Empty: off."),
	CONF_OPT_INT(OPS, hep_capture_id, "2001", 0, 4294967295LL, 0,
		     "HEP capture agent id of this sipguard."),
	CONF_OPT_BOOL(
		OPS, hep_events, "false", 0,
		"Also send each security event line (JSON, HEP protocol type 100) to hep_server."),
	CONF_OPT_BOOL(
		OPS, hep_keys, "false", 0,
		"Send SDES master keys (the key material after inline: in a=crypto lines) to hep_server as they are. Off: each key is replaced by '*' of the same length in the captured copy (the message keeps its length; suite and lifetime stay visible), so that whoever reads the capture server cannot decrypt the calls. The messages themselves are never changed."),
	CONF_OPT_STRING(
		OPS, user, "", 0, conf__check_name, 0,
		"After binding its sockets and reading its keys, sipguard switches to this user (started as root). Empty: it stays as started. The configuration and credentials files must be readable by this user for reloads."),
	CONF_OPT_STRING(
		OPS, group, "", 0, conf__check_name, 0,
		"Group to switch to; empty: the user's own group. Supplementary groups are dropped."),
	CONF_OPT_STRLIST(
		OPS, capabilities, 0, check_cap, 0,
		"Linux capabilities kept after the switch (net_bind_service, net_admin, net_raw, sys_nice, sys_resource); none by default: every socket is bound before."),
	CONF_OPT_BOOL(
		OPS, seccomp, "false", 0,
		"Install a seccomp filter allowing only the system calls the running daemon makes; any other call kills the process. Builds with AddressSanitizer allow the calls its leak checker needs too."),
	CONF_OPT_BOOL(
		OPS, dashboard, "false", 0,
		"Serve the live dashboard at /dashboard on metrics_listen: calls, security events, charts, top offending sources, bans and an unban button. Its data and actions need dashboard_token; keep the listener on a management address (plain HTTP)."),
	CONF_OPT_STRING(
		OPS, dashboard_token, "", 0, check_token, CONF_SECRET,
		"Bearer token of the dashboard's data and actions (at least 16 characters of letters, digits and -._~+/=). Open http://ADDR:PORT/dashboard#token=TOKEN, or paste it into the page. Required with dashboard."),
	CONF_OPT_END,
};
#undef OPS

const struct conf_section conf__ops_sec = {
	.name = "ops",
	.size = sizeof(struct sg_conf_ops),
	.opts = ops_opts,
	.check = check_ops,
	.help = "Operations: metrics, capture export, privileges, dashboard.",
};

/* ---------------------------------------------- store (issue 9) */

static const struct conf_enum store_backends[] = {
	{"memory", CONF_STORE_MEMORY},
	{"redis", CONF_STORE_REDIS},
	{NULL, 0},
};

/* A file the daemon must read at start: 0, or the reason. */
static int check_readable(struct conf_ctx *c, const char *opt, const char *path)
{
	if (path[0] && access(path, R_OK) != 0)
		return conf_fail(c, opt, "%s: %s", path, strerror(errno));
	return 0;
}

/* store.tls (store/store_tls.c): TCP only, a client certificate comes
 * with its key, every file readable now rather than at the first
 * connection.  TLS settings without tls: true would leave the password
 * in clear while the operator believes otherwise: refused. */
static int check_store(struct conf_ctx *c, const void *obj)
{
	const struct sg_conf_store *st = obj;
	int rc;

	if (!st->tls) {
		if (st->tls_ca[0] || st->tls_cert[0] || st->tls_key[0] ||
		    st->tls_server_name[0])
			return conf_fail(c, "tls",
					 "tls_ca, tls_cert, tls_key "
					 "and tls_server_name need tls: true");
		return 0;
	}
	if (!strncmp(st->address, "unix:", 5))
		return conf_fail(c, "tls", "not with a unix: address");
	if (!st->tls_cert[0] != !st->tls_key[0])
		return conf_fail(c, st->tls_cert[0] ? "tls_key" : "tls_cert",
				 "tls_cert and tls_key go together");
	if ((rc = check_readable(c, "tls_ca", st->tls_ca)) != 0 ||
	    (rc = check_readable(c, "tls_cert", st->tls_cert)) != 0 ||
	    (rc = check_readable(c, "tls_key", st->tls_key)) != 0)
		return rc;
	return 0;
}

#define STORE struct sg_conf_store
static const struct conf_opt store_opts[] = {
	CONF_OPT_ENUM(STORE, backend, "memory", store_backends, 0,
		      "`memory`: this instance only, no other software. "
		      "`redis`: bans, counters and rates shared with every "
		      "instance using the same Redis and key_prefix."),
	CONF_OPT_STRING(STORE, address, "127.0.0.1:6379", 1, NULL, 0,
			"Redis server: `HOST:PORT`, `[IPV6]:PORT` or "
			"`unix:PATH`."),
	CONF_OPT_STRING(STORE, password, "", 0, NULL, CONF_SECRET,
			"Redis AUTH password; empty: none."),
	CONF_OPT_BOOL(STORE, tls, "false", 0,
		      "TLS to Redis (TLS 1.2 or later, Redis' `tls-port`): "
		      "the server certificate is verified against `tls_ca` "
		      "and must carry `tls_server_name` (else the host of "
		      "`address`). Not with a `unix:` address."),
	CONF_OPT_STRING(STORE, tls_ca, "", 0, NULL, 0,
			"PEM file of the CA(s) that sign Redis' certificate; "
			"empty: the system's CAs."),
	CONF_OPT_STRING(STORE, tls_cert, "", 0, NULL, 0,
			"PEM client certificate (and chain) for Redis' "
			"`tls-auth-clients`; with `tls_key`. Empty: none."),
	CONF_OPT_STRING(STORE, tls_key, "", 0, NULL, 0,
			"PEM private key of `tls_cert` (not encrypted)."),
	CONF_OPT_STRING(STORE, tls_server_name, "", 0, NULL, 0,
			"Name (or IP address) Redis' certificate must carry, "
			"also sent as SNI when a name; empty: the host of "
			"`address`."),
	CONF_OPT_STRING(STORE, key_prefix, "sipguard:", 0, NULL, 0,
			"Prefix of every Redis key and channel: instances "
			"with the same prefix share state."),
	CONF_OPT_STRING(STORE, instance, "", 0, NULL, 0,
			"This instance's name in the cluster (A-Z a-z 0-9 . "
			"_ -, at most 31); empty: a random one at start."),
	CONF_OPT_INT(STORE, queue_max, "10000", 16, 1000000, 0,
		     "Redis commands awaiting a reply, and unbans waiting "
		     "for Redis to return; beyond it work is answered "
		     "locally and resynchronised later."),
	CONF_OPT_DURATION(STORE, timeout, "1s", 100, 60000, 0,
			  "Connect and reply timeout; also bounds the startup "
			  "load of shared bans."),
	CONF_OPT_DURATION(STORE, reconnect_max, "10s", 200, 600000, 0,
			  "Longest wait between reconnection attempts "
			  "(backoff doubles from 100 ms)."),
	CONF_OPT_DURATION(STORE, read_coalesce, "2ms", 0, 20, 0,
			  "A new call held for its shared toll-fraud counts "
			  "(Redis) has its read written within this time, "
			  "together with the reads of the calls arriving "
			  "meanwhile: under load many calls share one write "
			  "and one reply.  It adds at most this to such a "
			  "call's set-up and to the cluster limits' race "
			  "window; 0: each loop turn's reads are written at "
			  "its end."),
	CONF_OPT_INT(STORE, counters, "65536", 64, 4194304, 0,
		     "Local counter and rate slots (memory backend, and the "
		     "local view kept beside Redis)."),
	CONF_OPT_INT(STORE, max_snapshots, "100000", 16, 10000000, 0,
		     "Redis backend: most dialog snapshots this instance "
		     "keeps in Redis (for another instance to end its calls "
		     "if it dies); calls beyond it are not snapshotted."),
	CONF_OPT_INT(STORE, max_bindings, "100000", 16, 10000000, 0,
		     "Redis backend: most registration bindings of other "
		     "instances replicated here (to hand their calls over); "
		     "beyond it a user is reached through its own instance "
		     "only."),
	CONF_OPT_STRING(STORE, secret, "", 0, NULL, CONF_SECRET,
			"Redis backend: a secret common to the cluster (same "
			"on every instance), never sent to Redis. Names the "
			"users whose authentication failures are counted "
			"across instances, and the users, dialled countries "
			"and source addresses of the shared toll-fraud "
			"counters, by a keyed hash of it and key_prefix, so "
			"Redis never holds them in clear. Empty: "
			"store.password is used; both empty: failures per "
			"user stay per instance, and the toll-fraud counters "
			"stay shared under a key anyone can derive from "
			"key_prefix (no name in clear, but a reader of Redis "
			"can test guesses; logged at start)."),
	CONF_OPT_END,
};
#undef STORE

const struct conf_section conf__store_sec = {
	.name = "store",
	.size = sizeof(struct sg_conf_store),
	.opts = store_opts,
	.check = check_store,
	.help = "State shared by several sipguard instances (bans, "
		"concurrent-call counts, rates).",
};
