/*
 * conf.h - configuration loading (STYLE.md 9).
 *
 * Two parts:
 *
 *  1. A generic schema loader.  Every option is declared once, in a table
 *     of struct conf_opt: name, type, offset in the C struct it fills,
 *     default, bounds, reloadability, secrecy and help text.  That one
 *     table drives parsing of a YAML document (libyaml), validation,
 *     filling the struct, dumping the effective configuration, checking a
 *     reload and printing the reference documentation (docs/config.md).
 *
 *  2. sipguard's own configuration, struct sg_conf, whose table lives in
 *     conf_opts.c.  A loaded struct sg_conf is immutable: a reload loads a
 *     new one and swaps it in only if it is valid.
 *
 * Errors are reported as exactly one line
 *     file:line:column: key.path: reason
 * with 1-based line and column from libyaml's marks and a key path such as
 * zones[1].listen[0].  YAML syntax errors read file:line:column: reason.
 */
#ifndef SIPGUARD_CORE_CONF_H
#define SIPGUARD_CORE_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/addr.h"

/* ============================================== sipguard's configuration */

enum {
	CONF_MAX_FILE = 1 << 20, /* bytes in one configuration file */
	CONF_MAX_ZONES = 16,
	CONF_MAX_LISTEN = 8,     /* listen addresses of one zone */
	CONF_MAX_BACKENDS = 8,   /* backends of one zone's route */
	CONF_NAME_LEN = 32,      /* zone name, NUL included */
	CONF_HDR_TEXT_LEN = 128, /* a header value we write, NUL included */
	CONF_ADDR_LEN = 64,      /* "tls:[v6 address]:port", NUL incl. */
	CONF_PATH_LEN = 256,     /* file names, NUL included */
	CONF_TEXT_LEN = 128,     /* free text (User-Agent), NUL incl. */
	CONF_ERR_LEN = 512,      /* enough for any error message */
	CONF_MAX_CERTS = 4,      /* TLS certificates of one zone (SNI) */
	CONF_CIPHERS_LEN = 512,  /* an OpenSSL cipher list, NUL incl. */
	CONF_HOST_LEN = 254,     /* a DNS name, NUL included */
	CONF_MAX_IDENTS = 8,     /* allowed client certificate names */
};

/* Values of the enum options; the fields hold them as int. */
enum conf_trust {
	CONF_UNTRUSTED,
	CONF_TRUSTED,
};

/* zones[].srtp: SRTP termination on the media legs of a zone. */
enum conf_srtp {
	CONF_SRTP_OFF,      /* plain RTP only; SRTP offers refused */
	CONF_SRTP_OPTIONAL, /* either; offers to it follow the offerer */
	CONF_SRTP_REQUIRED, /* SRTP only; plain offers get 488 */
};

/* zones[].srtp_key_exchange: how SRTP keys are agreed on its legs. */
enum conf_srtp_kx {
	CONF_SRTP_KX_ANY,  /* either; offers to it follow the offerer */
	CONF_SRTP_KX_SDES, /* a=crypto only; DTLS-SRTP offers get 488 */
	CONF_SRTP_KX_DTLS, /* DTLS-SRTP only; SDES offers get 488 */
};

enum conf_transport {
	CONF_TP_UDP,
	CONF_TP_TCP,
	CONF_TP_TLS,
};

/*
 * Every string is a NUL-terminated copy in a fixed array; an empty string
 * means "not set".  Durations are int64_t milliseconds, sizes int64_t
 * bytes.  Lists are fixed arrays with a count named n_<field>.
 */
struct sg_conf_log {
	int level; /* enum log_level (log.h) */
	char events_file[CONF_PATH_LEN];
	char call_records_file[CONF_PATH_LEN];
};

/* Run-time limits of the SIP parser (lower or equal to SIP_MAX_*). */
struct sg_conf_limits {
	int64_t max_message_size;
	int64_t max_headers;
	int64_t max_header_line;
	int64_t max_via;
	int64_t max_uri;
	int64_t max_body_parts;
};

struct sg_conf_sip {
	struct sg_conf_limits limits;
	int64_t t1; /* ms, RFC 3261 17.1.1.1 */
	int64_t t2; /* ms */
	int64_t t4; /* ms */
	int64_t max_transactions;
	int64_t max_transaction_memory; /* bytes */
	int64_t max_dialogs;
	int64_t max_call_duration;   /* ms, 0: none */
	int64_t dialog_idle_timeout; /* ms, 0: none */
	int64_t setup_timeout;       /* ms */
	char user_agent[CONF_TEXT_LEN];
};

/* Addresses below are "udp|tcp|tls:ADDR:PORT"; see conf_addr_parse(). */
struct sg_conf_route {
	char backends[CONF_MAX_BACKENDS][CONF_ADDR_LEN]; /* tried in order */
	size_t n_backends;
	char trunk[CONF_ADDR_LEN]; /* "" when none */
};

struct sg_conf_tcp {
	int64_t idle_timeout; /* ms */
	int64_t max_connections_per_source;
	int64_t max_buffer; /* bytes */
};

enum conf_tls_version {
	CONF_TLS_12,
	CONF_TLS_13,
};

enum conf_tls_verify {
	CONF_TLS_VERIFY_NONE,
	CONF_TLS_VERIFY_OPTIONAL,
	CONF_TLS_VERIFY_REQUIRE,
};

/* TLS of a zone: its listeners (server side) and the connections it
 * opens (client side).  key_password is secret. */
struct sg_conf_tls {
	char certificates[CONF_MAX_CERTS][CONF_PATH_LEN]; /* PEM chains */
	size_t n_certificates;
	char keys[CONF_MAX_CERTS][CONF_PATH_LEN]; /* PEM keys, same order */
	size_t n_keys;
	char key_password[CONF_TEXT_LEN];    /* "" when the keys are clear */
	char ciphers[CONF_CIPHERS_LEN];      /* TLS 1.2 (OpenSSL syntax) */
	char ciphersuites[CONF_CIPHERS_LEN]; /* TLS 1.3 */
	int min_version;                     /* enum conf_tls_version */
	char client_ca_file[CONF_PATH_LEN];
	int verify_clients; /* enum conf_tls_verify */
	char allowed_clients[CONF_MAX_IDENTS][CONF_HOST_LEN];
	size_t n_allowed_clients;
	char ca_file[CONF_PATH_LEN];      /* "" = the system's CAs */
	char backend_name[CONF_HOST_LEN]; /* names route.backends carry */
	char trunk_name[CONF_HOST_LEN];
	int64_t handshake_timeout; /* ms */
	bool session_resumption;
};

struct sg_conf_zone {
	char name[CONF_NAME_LEN]; /* unique among zones */
	int trust;                /* enum conf_trust */
	char listen[CONF_MAX_LISTEN][CONF_ADDR_LEN];
	size_t n_listen;
	struct sg_conf_route route;
	struct sg_conf_tcp tcp;
	struct sg_conf_tls tls;
	/* Topology hiding (proxy/topo.c): untrusted zones only. */
	bool topology_hiding;
	char server_header[CONF_HDR_TEXT_LEN]; /* keep | remove | text */
	bool hide_call_id;
	/* SRTP (media/srtp.c, media/srtp_sdp.c) and signalling privacy. */
	int srtp;              /* enum conf_srtp */
	bool require_tls;      /* every listen address is tls: */
	int srtp_key_exchange; /* enum conf_srtp_kx (media/dtls_sdp.c) */
};

enum {
	CONF_MAX_ALLOW = 32, /* guard.allow CIDRs */
	CONF_MAX_RULES = 32, /* guard.monitor_rules */
	CONF_RULE_LEN = 32,
};

enum conf_auth_mode {
	CONF_AUTH_OFF,
	CONF_AUTH_LOCAL,
	CONF_AUTH_PASSTHROUGH,
};

/* Pre-parse gate: bans and per-source token buckets. */
struct sg_conf_gate {
	int64_t packets_per_second; /* 0: off */
	int64_t packet_burst;
	int64_t bytes_per_second; /* 0: off */
	int64_t ban_time;         /* ms, first ban */
	int64_t ban_max_time;     /* ms */
	int64_t ban_factor;
	int64_t flood_drops; /* per second -> ban; 0: off */
};

/* Per-source request rates, per second, by method class. */
struct sg_conf_rates {
	int64_t invite, register_, options, subscribe, message, other;
	int64_t per_user; /* per 10 s, all sources */
};

struct sg_conf_scanner {
	bool fingerprints;
	bool structure;
	char fingerprints_file[CONF_PATH_LEN]; /* "" = built-in list */
	int64_t distinct_users;                /* per 10 s; 0: off */
	int64_t failures;                      /* 4xx per 60 s; 0: off */
};

struct sg_conf_auth {
	int mode; /* enum conf_auth_mode */
	char realm[CONF_TEXT_LEN];
	char credentials[CONF_PATH_LEN];
	bool md5, sha256;
	int64_t nonce_lifetime; /* ms */
	int64_t max_failures_ip;
	int64_t max_failures_user;
	int64_t max_failures_user_ip;
	int64_t failure_window; /* ms */
	int64_t user_lock;      /* ms */
	int64_t known_good;     /* ms */
};

/* IM content security (guard/im.h). */
enum conf_im_dir {
	CONF_IM_OFF,
	CONF_IM_UNTRUSTED,
	CONF_IM_BOTH,
};

enum {
	CONF_IM_TYPES = 32,
	CONF_IM_TYPE_LEN = 64,
	CONF_IM_REGEX = 32,
	CONF_IM_REGEX_LEN = 256,
	CONF_IM_DOMAINS = 128,
	CONF_IM_DOMAIN_LEN = 128,
	CONF_IM_KEYWORDS = 64,
	CONF_IM_KEYWORD_LEN = 64,
	CONF_PRES_EVENTS = 16,
	CONF_PRES_EVENT_LEN = 32,
};

struct sg_conf_im {
	int direction;                             /* enum conf_im_dir */
	char zones[CONF_MAX_ZONES][CONF_NAME_LEN]; /* "" list: direction */
	size_t n_zones;
	char content_types[CONF_IM_TYPES][CONF_IM_TYPE_LEN];
	size_t n_content_types;       /* 0: built-in list */
	int64_t max_size;             /* bytes, 0: none */
	int64_t per_source, per_user; /* per rate_window; 0: off */
	int64_t rate_window;          /* ms */
	bool block_files;
	char deny_regex[CONF_IM_REGEX][CONF_IM_REGEX_LEN];
	size_t n_deny_regex;
	char deny_domains[CONF_IM_DOMAINS][CONF_IM_DOMAIN_LEN];
	size_t n_deny_domains;
	char deny_keywords[CONF_IM_KEYWORDS][CONF_IM_KEYWORD_LEN];
	size_t n_deny_keywords;
	int64_t table_size;
};

/* Presence privacy (guard/presence.h).  Empty lists: built-in lists. */
struct sg_conf_presence {
	bool enabled;
	char zones[CONF_MAX_ZONES][CONF_NAME_LEN]; /* "" list: untrusted */
	size_t n_zones;
	char subscribe[CONF_PRES_EVENTS][CONF_PRES_EVENT_LEN];
	size_t n_subscribe;
	char subscribe_self[CONF_PRES_EVENTS][CONF_PRES_EVENT_LEN];
	size_t n_subscribe_self;
	char publish[CONF_PRES_EVENTS][CONF_PRES_EVENT_LEN];
	size_t n_publish;
	char notify[CONF_PRES_EVENTS][CONF_PRES_EVENT_LEN];
	size_t n_notify;
	int64_t harvest_users;  /* 0: off */
	int64_t harvest_window; /* ms */
	int64_t table_size;
	bool scrub_notes, scrub_geo, scrub_devices, scrub_contacts;
};

/* Call-state enforcement (issue 5): in-dialog requests. */
enum conf_dlg_rebind {
	CONF_REBIND_NEVER,
	CONF_REBIND_SAME_IP,
	CONF_REBIND_AUTHENTICATED,
	CONF_REBIND_ANY,
};

struct sg_conf_dialog {
	bool enforce;
	int action_untrusted; /* 0 drop, 1 reply (481) */
	int rebind;           /* enum conf_dlg_rebind */
	int rebind_trusted;
	bool media_check;
	char media_addresses[CONF_MAX_ALLOW][CONF_ADDR_LEN];
	size_t n_media_addresses;
};

/* Registration hijack protection (issue 5). */
struct sg_conf_registration {
	int64_t max_bindings; /* per AOR; 0: no cap */
	int64_t move_hold;    /* ms; 0: off */
	bool forbid_private_contacts;
	char forbidden_contacts[CONF_MAX_ALLOW][CONF_ADDR_LEN];
	size_t n_forbidden_contacts;
};

struct sg_conf_guard {
	bool monitor; /* every rule: log only */
	char monitor_rules[CONF_MAX_RULES][CONF_RULE_LEN];
	size_t n_monitor_rules;
	char allow[CONF_MAX_ALLOW][CONF_ADDR_LEN]; /* never banned */
	size_t n_allow;
	char control_socket[CONF_PATH_LEN]; /* "" = none */
	struct sg_conf_gate gate;
	struct sg_conf_rates rates;
	struct sg_conf_scanner scanner;
	struct sg_conf_auth auth;
	struct sg_conf_im im;
	struct sg_conf_presence presence;
	struct sg_conf_dialog dialog;
	struct sg_conf_registration registration;
};

/* media.kernel_interfaces: entries (= KF_PATS_MAX) and IFNAMSIZ. */
enum { CONF_MAX_KIFS = 32, CONF_IFNAME_LEN = 16 };

/* The media relay (src/media/, issue 6). */
struct sg_conf_media {
	bool enabled;
	int64_t port_min, port_max; /* relay ports, RTP/RTCP pairs */
	int64_t quarantine;         /* ms before a closed pair is reused */
	int64_t timeout;            /* ms without media on a confirmed call */
	bool end_call_on_timeout;
	bool anomaly_drop; /* drop packets raising media-anomaly */
	int64_t max_seq_jump, max_ts_jump;
	bool policing;
	int64_t policing_margin; /* percent over the negotiated rate */
	bool scrub_cname;
	int64_t threads;
	int64_t max_calls;
	int io; /* enum conf_media_io */
	/* DTLS-SRTP (media/dtls_leg.c): certificate, handshake timeout. */
	char dtls_certificate[CONF_PATH_LEN]; /* "" = generated */
	char dtls_key[CONF_PATH_LEN];
	int64_t dtls_handshake_timeout; /* ms */
	int kernel; /* enum conf_media_kernel (media/kfast.c) */
	/* Where the kernel path attaches: names or fnmatch(3) patterns;
	 * none: every eligible interface (media/kfast_link.c). */
	char kernel_interfaces[CONF_MAX_KIFS][CONF_IFNAME_LEN];
	size_t n_kernel_interfaces;
};

/* media: io: how the relay threads do their socket I/O. */
enum conf_media_io { CONF_MEDIA_IO_EPOLL = 0, CONF_MEDIA_IO_URING = 1 };
/* media: kernel: the in-kernel fast path (eBPF, TCX). */
enum conf_media_kernel {
	CONF_MEDIA_KERNEL_OFF = 0,
	CONF_MEDIA_KERNEL_AUTO = 1,
	CONF_MEDIA_KERNEL_ON = 2,
};

/* Operations (issue 8): metrics endpoint, HEP export, privileges. */
struct sg_conf_ops {
	char metrics_listen[CONF_ADDR_LEN]; /* "tcp:ADDR:PORT", "" = off */
	char hep_server[CONF_ADDR_LEN];     /* "udp:ADDR:PORT", "" = off */
	int64_t hep_capture_id;
	bool hep_events;
	bool hep_keys;
	char user[CONF_NAME_LEN];            /* "" = stay as started */
	char group[CONF_NAME_LEN];           /* "" = the user's group */
	char capabilities[8][CONF_NAME_LEN]; /* kept after the switch */
	size_t n_capabilities;
	bool seccomp;
	bool dashboard;            /* /dashboard on metrics_listen */
	char dashboard_token[128]; /* secret; "" = none */
};

/* Shared state between instances (issue 9, src/store/). */
enum conf_store_backend {
	CONF_STORE_MEMORY,
	CONF_STORE_REDIS,
};

struct sg_conf_store {
	int backend;                 /* enum conf_store_backend */
	char address[CONF_PATH_LEN]; /* HOST:PORT or unix:PATH */
	char password[128];          /* secret */
	bool tls;
	char key_prefix[64];
	char instance[32]; /* "" = random */
	int64_t queue_max;
	int64_t timeout;       /* ms */
	int64_t reconnect_max; /* ms */
	int64_t read_coalesce; /* ms */
	int64_t counters;
	int64_t max_snapshots; /* dialog snapshots in Redis */
	int64_t max_bindings;  /* others' bindings kept here */
	char secret[128];      /* secret: user-hash key */
	/* TLS to Redis (store/store_tls.c). */
	char tls_ca[CONF_PATH_LEN];   /* "" = system CAs */
	char tls_cert[CONF_PATH_LEN]; /* client certificate */
	char tls_key[CONF_PATH_LEN];
	char tls_server_name[256]; /* "" = host of address */
};

/* ---------------------------------------------- toll fraud (conf_fraud.c) */

enum {
	CONF_MAX_FRAUD_CLASSES = 8,
	CONF_MAX_DIAL_RULES = 64,
	CONF_MAX_DIAL_PREFIXES = 16, /* per rule */
	CONF_DIAL_PREFIX_LEN = 20,
	CONF_DIAL_REGEX_LEN = 200,
	CONF_MAX_RULE_ZONES = 8,
	CONF_MAX_RULE_CLASSES = 8,
	CONF_MAX_FRAUD_USERS = 256,
	CONF_FRAUD_USER_LEN = 64,
	CONF_MAX_EMERGENCY = 24,
	CONF_EMERGENCY_LEN = 16,
	CONF_DIAL_CODE_LEN = 8, /* "00", "0", "44" */
};

enum conf_dial_action {
	CONF_DIAL_ALLOW,
	CONF_DIAL_DENY,
};

enum conf_fraud_action {
	CONF_FRAUD_ALERT,
	CONF_FRAUD_THROTTLE,
	CONF_FRAUD_BLOCK,
};

/* One dial rule: matches a normalised number by prefix or regex. */
struct sg_conf_dial_rule {
	char name[CONF_NAME_LEN];
	int action; /* enum conf_dial_action */
	char prefixes[CONF_MAX_DIAL_PREFIXES][CONF_DIAL_PREFIX_LEN];
	size_t n_prefixes;
	char regex[CONF_DIAL_REGEX_LEN];                    /* PCRE2; "" none */
	char classes[CONF_MAX_RULE_CLASSES][CONF_NAME_LEN]; /* none: all */
	size_t n_classes;
	char zones[CONF_MAX_RULE_ZONES][CONF_NAME_LEN]; /* none: all */
	size_t n_zones;
};

/* A user class: what its members may dial and how much. */
struct sg_conf_fraud_class {
	char name[CONF_NAME_LEN];
	int otherwise;          /* no rule matched */
	int names;              /* non-numeric targets */
	int64_t max_concurrent; /* 0: no limit */
	int64_t calls_per_second;
	int64_t calls_per_minute;
	int64_t calls_per_country_per_hour;
	int64_t max_call_duration; /* ms, 0: none */
};

struct sg_conf_fraud_user {
	char user[CONF_FRAUD_USER_LEN]; /* "*": the zone's default */
	char class[CONF_NAME_LEN];
	char zone[CONF_NAME_LEN]; /* "": every zone */
};

struct sg_conf_fraud_source {
	int64_t max_concurrent, calls_per_second, calls_per_minute;
};

struct sg_conf_fraud_short {
	int64_t count;        /* 0: off */
	int64_t shorter_than; /* ms */
	int64_t window;       /* ms */
	int action;           /* enum conf_fraud_action */
};

struct sg_conf_fraud_hours {
	int64_t after_calls; /* learning; 0: off */
	int64_t rare_percent;
	int action;
};

struct sg_conf_fraud_baseline {
	int64_t factor; /* 0: off */
	int64_t min_days;
	int64_t min_calls;
	int action;
};

struct sg_conf_fraud_anomaly {
	struct sg_conf_fraud_short short_calls;
	struct sg_conf_fraud_hours odd_hours;
	struct sg_conf_fraud_baseline baseline;
	int64_t throttle_calls_per_minute;
	int64_t throttle_time; /* ms */
	int64_t block_time;    /* ms */
	int64_t utc_offset;    /* minutes, for hours and days */
};

struct sg_conf_fraud {
	char zones[CONF_MAX_ZONES][CONF_NAME_LEN]; /* "": untrusted */
	size_t n_zones;
	char reason[CONF_TEXT_LEN];
	char emergency[CONF_MAX_EMERGENCY][CONF_EMERGENCY_LEN];
	size_t n_emergency;
	char international_prefix[CONF_DIAL_CODE_LEN];
	char national_prefix[CONF_DIAL_CODE_LEN];
	char country_code[CONF_DIAL_CODE_LEN];
	char default_class[CONF_NAME_LEN];
	struct sg_conf_fraud_class classes[CONF_MAX_FRAUD_CLASSES];
	size_t n_classes;
	struct sg_conf_dial_rule dial_rules[CONF_MAX_DIAL_RULES];
	size_t n_dial_rules;
	struct sg_conf_fraud_user users[CONF_MAX_FRAUD_USERS];
	size_t n_users;
	struct sg_conf_fraud_source per_source;
	struct sg_conf_fraud_anomaly anomaly;
	int64_t max_users;
	int64_t max_calls;
};

/* The whole configuration.  Owner: whoever conf_load() returned it to. */
struct sg_conf {
	struct sg_conf_log log;
	struct sg_conf_sip sip;
	struct sg_conf_guard guard;
	struct sg_conf_media media;
	struct sg_conf_fraud fraud;
	struct sg_conf_zone zones[CONF_MAX_ZONES];
	size_t n_zones;
	struct sg_conf_ops ops;
	struct sg_conf_store store;
};

/*
 * Load and validate a configuration file.  On success *confp is a new
 * configuration (free it with conf_free) and 0 is returned.  On failure
 * *confp is NULL, err holds one NUL-terminated line (no newline) and
 * -EINVAL is returned (-ENOMEM when out of memory, -errno when the file
 * cannot be read).  err may be NULL when errsz is 0.
 */
int conf_load(struct sg_conf **confp, const char *path, char *err,
	      size_t errsz);
/* The same on text in memory; name stands for the file name in errors. */
int conf_load_str(struct sg_conf **confp, const char *name, const char *text,
		  size_t len, char *err, size_t errsz);
/* NULL does nothing. */
void conf_free(struct sg_conf *conf);
/* The effective configuration, defaults included, as YAML.  Secrets are
 * never printed. */
void conf_dump(const struct sg_conf *conf, FILE *f);
/* The reference documentation (Markdown), generated from the table. */
void conf_print_reference(FILE *f);
/*
 * May a running daemon switch from cur to next?  0 when every option that
 * differs can be reloaded; otherwise -EBUSY with "key.path: cannot change
 * on reload, restart needed" in err.
 */
int conf_reload_check(const struct sg_conf *cur, const struct sg_conf *next,
		      char *err, size_t errsz);

/* A parsed "udp|tcp|tls:ADDR:PORT"; IPv6 addresses are bracketed. */
struct conf_addr {
	int transport; /* enum conf_transport */
	struct sg_addr addr;
};

/* A capability name of ops.capabilities ("net_bind_service") as its
 * CAP_* number, or -EINVAL. */
int conf_cap_from_name(const char *name);

/* Parse an address as validated by the loader.  0 or -EINVAL. */
int conf_addr_parse(struct conf_addr *ap, const char *s);

/* ================================================ the generic schema */

enum conf_type {
	CONF_T_BOOL,     /* bool: true | false */
	CONF_T_INT,      /* int64_t in [min, max] */
	CONF_T_DURATION, /* int64_t ms: "250ms", "30s", "5m", "1h" */
	CONF_T_SIZE,     /* int64_t bytes: "4096", "64k", "1m", "1g" */
	CONF_T_STRING,   /* char[len]; min is the least length */
	CONF_T_ENUM,     /* int: one of enums[] by name */
	CONF_T_STRLIST,  /* char[max][len] + size_t n_<field> */
	CONF_T_SECTION,  /* nested struct, table sub */
	CONF_T_SECLIST,  /* struct[max] (stride len) + n_<field> */
};

enum conf_flag {
	CONF_REQUIRED = 1 << 0, /* missing key is an error */
	CONF_RELOAD = 1 << 1,   /* may change on reload */
	CONF_SECRET = 1 << 2,   /* never dumped */
};

struct conf_enum {
	const char *name;
	int value;
};

struct conf_ctx; /* walker state handed to check hooks */
struct conf_section;

/*
 * Extra validation of a string value (CONF_T_STRING and each element of
 * a CONF_T_STRLIST).  Return 0, or -EINVAL with a reason in why.
 */
typedef int conf_vcheck_fn(const char *s, char *why, size_t whysz);
/*
 * Cross-field validation of a filled section (called once per section
 * instance, after its options).  Return 0, or conf_fail()'s value.
 */
typedef int conf_check_fn(struct conf_ctx *c, const void *obj);

struct conf_opt {
	const char *name; /* NULL ends a table */
	enum conf_type type;
	size_t off;                     /* of the field in the section struct */
	const char *def;                /* default, written as in YAML */
	int64_t min, max;               /* value, length or count bounds */
	size_t len;                     /* string array size, list stride */
	size_t count_off;               /* lists: offset of the size_t count */
	const struct conf_enum *enums;  /* CONF_T_ENUM: {NULL} terminated */
	const struct conf_section *sub; /* CONF_T_SECTION, CONF_T_SECLIST */
	conf_vcheck_fn *vcheck;
	unsigned flags; /* enum conf_flag */
	const char *help;
};

struct conf_section {
	const char *name; /* heading in the reference */
	size_t size;      /* sizeof the struct it fills */
	const struct conf_opt *opts;
	conf_check_fn *check; /* may be NULL */
	const char *help;
};

/*
 * Fill obj (size root->size, zeroed first) from a YAML document.
 * Returns 0, -EINVAL (err set) or -ENOMEM.  Used by conf_load_str and by
 * tests with their own tables.
 */
int conf_schema_load(const struct conf_section *root, void *obj,
		     const char *name, const char *text, size_t len, char *err,
		     size_t errsz);
void conf_schema_dump(const struct conf_section *root, const void *obj,
		      FILE *f);
void conf_schema_reference(const struct conf_section *root, FILE *f);
int conf_schema_reload_check(const struct conf_section *root, const void *cur,
			     const void *next, char *err, size_t errsz);
/* Self-check of a table (defaults valid, names unique...): 0 or -EINVAL. */
int conf_schema_verify(const struct conf_section *root, char *err,
		       size_t errsz);

/*
 * For check hooks: report "file:line:col: path.relpath: reason" where
 * relpath ("name", "zones[1].name", "" for the section itself) is
 * resolved in the YAML to find line and column.  Returns -EINVAL.
 */
int conf_fail(struct conf_ctx *c, const char *relpath, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* conf_fraud.c: the fraud section and its cross-checks (zones exist,
 * class names resolve). */
extern const struct conf_section conf__fraud_sec;
int conf__check_fraud(struct conf_ctx *c, const struct sg_conf *cf);

/* conf_ops.c: the media, ops and store sections. */
extern const struct conf_section conf__media_sec, conf__ops_sec,
	conf__store_sec;
/* conf_opts.c helpers the section files share: "udp|tcp|tls:ADDR:PORT"
 * (fills ap, may be NULL, or explains in why) and a plain name
 * (letters, digits, '-', '_', '.'). */
int conf__addr_parse(struct conf_addr *ap, const char *s, char *why,
		     size_t whysz);
int conf__check_name(const char *s, char *why, size_t whysz);

/* The table of sipguard's configuration (conf_opts.c). */
extern const struct conf_section conf_sipguard;

/*
 * Table-entry builders.  The key is the field name, and each macro checks
 * at compile time that the field has the C type its option type fills.
 */
#define CONF__F(st, f) (((st *)0)->f)
#define CONF__IS(t, e)                                                  \
	(0 *                                                            \
	 sizeof(char[__builtin_types_compatible_p(t, __typeof__(e)) ? 1 \
								    : -1]))
#define CONF__OFF(st, f, t) (offsetof(st, f) + CONF__IS(t, CONF__F(st, f)))
#define CONF__NELEM(st, f)  (sizeof(CONF__F(st, f)) / sizeof(CONF__F(st, f)[0]))

/* Ends every table of options. */
#define CONF_OPT_END         \
	{                    \
		.name = NULL \
	}

#define CONF_OPT_BOOL(st, f, dflt, fl, hlp)                                  \
	{                                                                    \
		.name = #f, .type = CONF_T_BOOL,                             \
		.off = CONF__OFF(st, f, bool), .def = (dflt), .flags = (fl), \
		.help = (hlp)                                                \
	}
#define CONF__OPT_NUM(ty, st, f, dflt, lo, hi, fl, hlp)                     \
	{                                                                   \
		.name = #f, .type = (ty), .off = CONF__OFF(st, f, int64_t), \
		.def = (dflt), .min = (lo), .max = (hi), .flags = (fl),     \
		.help = (hlp)                                               \
	}
#define CONF_OPT_INT(st, f, dflt, lo, hi, fl, hlp) \
	CONF__OPT_NUM(CONF_T_INT, st, f, dflt, lo, hi, fl, hlp)
#define CONF_OPT_DURATION(st, f, dflt, lo, hi, fl, hlp) \
	CONF__OPT_NUM(CONF_T_DURATION, st, f, dflt, lo, hi, fl, hlp)
#define CONF_OPT_SIZE(st, f, dflt, lo, hi, fl, hlp) \
	CONF__OPT_NUM(CONF_T_SIZE, st, f, dflt, lo, hi, fl, hlp)
#define CONF_OPT_STRING(st, f, dflt, minlen, chk, fl, hlp)                     \
	{                                                                      \
		.name = #f, .type = CONF_T_STRING,                             \
		.off = CONF__OFF(st, f, char[sizeof(CONF__F(st, f))]),         \
		.def = (dflt), .min = (minlen), .len = sizeof(CONF__F(st, f)), \
		.vcheck = (chk), .flags = (fl), .help = (hlp)                  \
	}
#define CONF_OPT_ENUM(st, f, dflt, vals, fl, hlp)                              \
	{                                                                      \
		.name = #f, .type = CONF_T_ENUM, .off = CONF__OFF(st, f, int), \
		.def = (dflt), .enums = (vals), .flags = (fl), .help = (hlp)   \
	}
#define CONF_OPT_STRLIST(st, f, lo, chk, fl, hlp)                             \
	{                                                                     \
		.name = #f, .type = CONF_T_STRLIST,                           \
		.off = CONF__OFF(                                             \
			st, f,                                                \
			char[CONF__NELEM(st, f)][sizeof(CONF__F(st, f)[0])]), \
		.min = (lo), .max = CONF__NELEM(st, f),                       \
		.len = sizeof(CONF__F(st, f)[0]),                             \
		.count_off = CONF__OFF(st, n_##f, size_t), .vcheck = (chk),   \
		.flags = (fl), .help = (hlp)                                  \
	}
#define CONF_OPT_SECTION(st, f, tbl, fl, hlp)                                \
	{                                                                    \
		.name = #f, .type = CONF_T_SECTION, .off = offsetof(st, f),  \
		.len = sizeof(CONF__F(st, f)), .sub = &(tbl), .flags = (fl), \
		.help = (hlp)                                                \
	}
#define CONF_OPT_SECLIST(st, f, tbl, lo, fl, hlp)                           \
	{                                                                   \
		.name = #f, .type = CONF_T_SECLIST, .off = offsetof(st, f), \
		.min = (lo), .max = CONF__NELEM(st, f),                     \
		.len = sizeof(CONF__F(st, f)[0]),                           \
		.count_off = CONF__OFF(st, n_##f, size_t), .sub = &(tbl),   \
		.flags = (fl), .help = (hlp)                                \
	}

/* ================================== internal to src/core/conf*.c */

struct yaml_document_s;
/* Parse exactly one YAML document (empty text gives an empty document). */
int conf__yaml_load(struct yaml_document_s *doc, const char *name,
		    const char *text, size_t len, char *err, size_t errsz);
/* Read a whole file of at most CONF_MAX_FILE bytes into mem_alloc'd text. */
int conf__read_file(char **textp, size_t *lenp, const char *path, char *err,
		    size_t errsz);
/* "file:line:col: path: reason", line and col 0-based as libyaml has them */
void conf__format(char *err, size_t errsz, const char *name, size_t line,
		  size_t col, const char *path, const char *reason);
/* Value formatting shared by dump and reference. */
void conf__fmt_duration(char *buf, size_t bufsz, int64_t ms);
void conf__fmt_size(char *buf, size_t bufsz, int64_t bytes);
void conf__put_string(FILE *f, const char *s);

#endif
