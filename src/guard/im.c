/*
 * im.c - IM content security for SIP MESSAGE (RFC 3428; RFC 3862 for
 * message/cpim, RFC 2046 for multipart): rates, size, content types,
 * file transfer, and the deny rules on the text.  See im.h for the rules
 * and their answers.
 *
 * The body is walked as a tree (multipart parts, the content inside a
 * CPIM wrapper) at most IM_MAX_DEPTH deep; every node's type is checked
 * against the file list and the allowed list, and every leaf is scanned
 * by the text rules.  Anything the walk cannot split is refused (400):
 * passing it would pass it uninspected.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <errno.h>
#include <pcre2.h>
#include <stdio.h>
#include <string.h>

#include "core/mem.h"
#include "guard/im.h"
#include "guard/keytab.h"
#include "guard/window.h"

enum {
	IM_TYPE_LEN = 64,
	IM_WORD_LEN = 64,
	IM_MATCH_LIMIT = 200000, /* PCRE2 backtracking steps */
	IM_DEPTH_LIMIT = 10000,
	IM_USER_KEY = 256,
	IM_JIT_STACK = 512 * 1024,
	IM_FOLD_MAX = SIP_MAX_MSG_SIZE,
};

const char *const im_rule_names[] = {
	"im-rate-source", "im-rate-user", "im-size", "im-malformed",
	"im-file",        "im-type",      "im-url",  "im-keyword",
	"im-regex",       NULL,
};

/* Executable and file-transfer types (the subtype "*" means any). */
static const char *const file_types[] = {
	"application/octet-stream",
	"application/x-msdownload",
	"application/x-msdos-program",
	"application/x-dosexec",
	"application/x-executable",
	"application/x-sharedlib",
	"application/x-elf",
	"application/x-mach-binary",
	"application/vnd.microsoft.portable-executable",
	"application/x-msi",
	"application/x-ms-installer",
	"application/java-archive",
	"application/x-java-archive",
	"application/vnd.android.package-archive",
	"application/x-apple-diskimage",
	"application/x-sh",
	"application/x-shellscript",
	"application/x-csh",
	"application/x-bat",
	"application/x-msbatch",
	"application/hta",
	"application/x-ms-shortcut",
	"application/zip",
	"application/x-zip-compressed",
	"application/x-rar-compressed",
	"application/vnd.rar",
	"application/x-7z-compressed",
	"application/x-tar",
	"application/gzip",
	"application/x-gzip",
	"application/vnd.gsma.rcs-ft-http+xml",
	"message/external-body",
	"message/partial",
};

/* Owner: the guard. */
struct im {
	enum im_dir dir;
	char types[IM_MAX_TYPES][IM_TYPE_LEN];
	unsigned ntypes;
	size_t max_size;
	uint32_t src_max, user_max, window_ms;
	bool block_files;
	struct keytab src, user;
	pcre2_code *re[IM_MAX_REGEX];
	unsigned nregex;
	pcre2_match_data *md;
	pcre2_match_context *mctx;
	pcre2_jit_stack *jstack;
	char *fold; /* text lower-cased for keywords */
	char domains[IM_MAX_DOMAINS][IM_HOST_MAX + 1];
	unsigned ndomains;
	char words[IM_MAX_KEYWORDS][IM_WORD_LEN];
	unsigned nwords;
	char accept[GUARD_EXTRA_MAX];
	size_t accept_len;
	char why[96];
};

void im_conf_default(struct im_conf *c)
{
	static const char *const def[] = {
		"text/plain",
		"message/cpim",
		"application/im-iscomposing+xml",
		"message/imdn+xml",
		"multipart/mixed",
		"multipart/alternative",
	};
	unsigned i;

	memset(c, 0, sizeof(*c));
	c->dir = IM_DIR_UNTRUSTED;
	for (i = 0; i < sizeof(def) / sizeof(def[0]); i++)
		c->types[i] = def[i];
	c->ntypes = i;
	c->max_size = 4096;
	c->src_max = 60;
	c->user_max = 60;
	c->window_ms = 60000;
	c->table_size = 4096;
	c->block_files = true;
}

static void lower_copy(char *dst, size_t dsz, const char *src)
{
	size_t i;

	for (i = 0; src[i] && i + 1 < dsz; i++)
		dst[i] = (src[i] >= 'A' && src[i] <= 'Z')
				 ? (char)(src[i] | 0x20)
				 : src[i];
	dst[i] = '\0';
}

static int fail(char *err, size_t errsz, int rc, const char *fmt, const char *a,
		unsigned i)
{
	if (err && errsz)
		snprintf(err, errsz, fmt, i, a);
	return rc;
}

static int compile_all(struct im *im, const struct im_conf *c, char *err,
		       size_t errsz)
{
	PCRE2_UCHAR msg[128];
	PCRE2_SIZE off;
	unsigned i;
	int ec;

	for (i = 0; i < c->nregex && i < IM_MAX_REGEX; i++) {
		im->re[i] = pcre2_compile(
			(PCRE2_SPTR)c->regex[i], PCRE2_ZERO_TERMINATED,
			PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &ec, &off, NULL);
		if (!im->re[i]) {
			pcre2_get_error_message(ec, msg, sizeof(msg));
			return fail(err, errsz, -EINVAL,
				    "guard.im.deny_regex[%u]: %s",
				    (const char *)msg, i);
		}
		im->nregex = i + 1;
		/* JIT when the platform allows it (ten times faster on long
		 * texts); the interpreter otherwise. */
		(void)pcre2_jit_compile(im->re[i], PCRE2_JIT_COMPLETE);
	}
	if (!im->nregex)
		return 0;
	im->md = pcre2_match_data_create(1, NULL);
	im->mctx = pcre2_match_context_create(NULL);
	im->jstack = pcre2_jit_stack_create(32 * 1024, IM_JIT_STACK, NULL);
	if (!im->md || !im->mctx || !im->jstack)
		return -ENOMEM;
	pcre2_jit_stack_assign(im->mctx, NULL, im->jstack);
	/* A pattern with nested quantifiers must not stall the loop on
	 * crafted text (ReDoS): bound the work of every match. */
	pcre2_set_match_limit(im->mctx, IM_MATCH_LIMIT);
	pcre2_set_depth_limit(im->mctx, IM_DEPTH_LIMIT);
	return 0;
}

/* The Accept header of a 415 (RFC 3261 21.4.13): the allowed types. */
static void make_accept(struct im *im)
{
	size_t n = 0;
	unsigned i;
	int w;

	w = snprintf(im->accept, sizeof(im->accept), "Accept: ");
	n = (size_t)w;
	for (i = 0; i < im->ntypes; i++) {
		w = snprintf(im->accept + n, sizeof(im->accept) - n, "%s%s",
			     i ? ", " : "", im->types[i]);
		if (w < 0 || (size_t)w >= sizeof(im->accept) - n - 2)
			break;
		n += (size_t)w;
	}
	memcpy(im->accept + n, "\r\n", 2);
	im->accept_len = n + 2;
}

int im_new(struct im **ip, const struct im_conf *c, char *err, size_t errsz)
{
	struct im *im = mem_zalloc(sizeof(*im));
	unsigned i;
	int rc;

	if (!im)
		return -ENOMEM;
	im->dir = c->dir;
	for (i = 0; i < c->ntypes && i < IM_MAX_TYPES; i++)
		lower_copy(im->types[i], IM_TYPE_LEN, c->types[i]);
	im->ntypes = i;
	for (i = 0; i < c->ndomains && i < IM_MAX_DOMAINS; i++)
		im->domains[i][im_host_norm(im->domains[i], IM_HOST_MAX,
					    str_cstr(c->domains[i]))] = '\0';
	im->ndomains = i;
	for (i = 0; i < c->nkeywords && i < IM_MAX_KEYWORDS; i++)
		lower_copy(im->words[i], IM_WORD_LEN, c->keywords[i]);
	im->nwords = i;
	im->max_size = c->max_size;
	im->src_max = c->src_max;
	im->user_max = c->user_max;
	im->window_ms = c->window_ms ? c->window_ms : 60000;
	im->block_files = c->block_files;
	make_accept(im);
	im->fold = im->nwords ? mem_alloc(IM_FOLD_MAX) : NULL;
	if (im->nwords && !im->fold) {
		im_free(im);
		return -ENOMEM;
	}
	rc = keytab_init(&im->src, c->table_size ? c->table_size : 4096,
			 sizeof(struct win_ctr));
	if (!rc)
		rc = keytab_init(&im->user,
				 c->table_size ? c->table_size : 4096,
				 sizeof(struct win_ctr));
	if (!rc)
		rc = compile_all(im, c, err, errsz);
	if (rc) {
		im_free(im);
		return rc;
	}
	*ip = im;
	return 0;
}

void im_free(struct im *im)
{
	unsigned i;

	if (!im)
		return;
	for (i = 0; i < im->nregex; i++)
		pcre2_code_free(im->re[i]);
	pcre2_match_data_free(im->md);
	pcre2_match_context_free(im->mctx);
	pcre2_jit_stack_free(im->jstack);
	mem_free(im->fold);
	keytab_fini(&im->src);
	keytab_fini(&im->user);
	mem_free(im);
}

bool im_applies(const struct im *im, bool trusted)
{
	return im->dir == IM_DIR_BOTH ||
	       (im->dir == IM_DIR_UNTRUSTED && !trusted);
}

static void refuse(struct guard_verdict *v, int status, const char *reason,
		   const char *rule, const char *why)
{
	v->action = GUARD_REPLY;
	v->status = status;
	v->reason = reason;
	v->rule = rule;
	v->why = why;
}

/* --------------------------------------------------------------- types */

/* "type/sub" (lower case) matches type t / subtype s; "type/" "*" any. */
static bool type_match(const char *pat, struct str t, struct str s)
{
	const char *slash = strchr(pat, '/');

	if (!slash || !str_caseeq(str_make(pat, (size_t)(slash - pat)), t))
		return false;
	return strcmp(slash + 1, "*") == 0 || str_caseeq_cstr(s, slash + 1);
}

static bool is_file_type(struct str t, struct str s)
{
	unsigned i;

	for (i = 0; i < sizeof(file_types) / sizeof(file_types[0]); i++)
		if (type_match(file_types[i], t, s))
			return true;
	/* application/x-<anything>-executable, e.g. x-pie-executable */
	return str_caseeq_cstr(t, "application") && s.len > 11 &&
	       str_caseeq_cstr(str_make(s.p + s.len - 11, 11), "-executable");
}

static bool type_allowed(const struct im *im, struct str t, struct str s)
{
	unsigned i;

	for (i = 0; i < im->ntypes; i++)
		if (type_match(im->types[i], t, s))
			return true;
	return false;
}

/* ---------------------------------------------------- MIME header blocks */

/* Split at the first empty line: headers before, the rest after.  A block
 * starting with an empty line has no headers.  false: no empty line. */
static bool split_block(struct str s, struct str *hdrsp, struct str *restp)
{
	size_t i;

	if (s.len >= 2 && s.p[0] == '\r' && s.p[1] == '\n') {
		*hdrsp = STR_NULL;
		*restp = str_skip(s, 2);
		return true;
	}
	if (s.len >= 1 && s.p[0] == '\n') {
		*hdrsp = STR_NULL;
		*restp = str_skip(s, 1);
		return true;
	}
	for (i = 0; i + 1 < s.len; i++) {
		if (s.p[i] != '\n')
			continue;
		if (s.p[i + 1] == '\n') {
			*hdrsp = str_make(s.p, i + 1);
			*restp = str_skip(s, i + 2);
			return true;
		}
		if (i + 2 < s.len && s.p[i + 1] == '\r' && s.p[i + 2] == '\n') {
			*hdrsp = str_make(s.p, i + 1);
			*restp = str_skip(s, i + 3);
			return true;
		}
	}
	return false;
}

/* The value of header `name` in a raw block (first one; folded lines
 * are not joined: the values we look at are single tokens). */
static bool block_hdr(struct str blk, const char *name, struct str *valp)
{
	struct str line;
	size_t nlen = strlen(name);

	while (blk.len) {
		long nl = str_chr(blk, '\n');

		line = nl < 0 ? blk : str_make(blk.p, (size_t)nl);
		blk = nl < 0 ? STR_NULL : str_skip(blk, (size_t)nl + 1);
		if (line.len > nlen && line.p[nlen] == ':' &&
		    str_caseeq(str_make(line.p, nlen), str_make(name, nlen))) {
			*valp = str_trim(str_skip(line, nlen + 1));
			return true;
		}
	}
	return false;
}

/* ----------------------------------------------------------- body walk */

struct walk {
	struct im *im;
	struct str leaf[IM_MAX_LEAVES];
	unsigned nleaf;
	struct guard_verdict *v;
};

static int walk(struct walk *w, struct str ctype, struct str hdrs,
		struct str body, unsigned depth);

static int malformed(struct walk *w, const char *why)
{
	refuse(w->v, 400, "Bad Request", "im-malformed", why);
	return 1;
}

static int bad_type(struct walk *w, const char *why)
{
	refuse(w->v, 415, "Unsupported Media Type", "im-type", why);
	memcpy(w->v->extra, w->im->accept, w->im->accept_len);
	w->v->extra_len = w->im->accept_len;
	return 1;
}

/*
 * Part headers we cannot look through, or that announce a file.  Every
 * line counts, not the first of a name: a second
 * Content-Transfer-Encoding or Content-Type may be the one a client
 * reads.  NUL and bare CR are refused for the same reason.
 */
static int part_headers(struct walk *w, struct str hdrs)
{
	unsigned ctypes = 0;
	struct str name, val;

	if (sip_part_hdrs_bad(hdrs))
		return malformed(w, "control bytes in part headers");
	while (sip_part_hdr_next(&hdrs, &name, &val)) {
		if (sip_hdr_classify(name) == SIP_HDR_CONTENT_TYPE &&
		    ++ctypes > 1)
			return malformed(w, "part with two Content-Types");
		if (str_caseeq_cstr(name, "Content-Transfer-Encoding") &&
		    !sip_cte_identity(val))
			return bad_type(w, "encoded part cannot be inspected");
		if (w->im->block_files &&
		    sip_hdr_classify(name) == SIP_HDR_CONTENT_DISPOSITION &&
		    str_casestarts(val, STR("attachment"))) {
			refuse(w->v, 415, "Unsupported Media Type", "im-file",
			       "attachment refused");
			return 1;
		}
	}
	return 0;
}

static int walk_multipart(struct walk *w, const struct sip_ctype *ct,
			  struct str body, unsigned depth)
{
	struct sip_part parts[SIP_MAX_PARTS];
	struct sip_perr pe;
	unsigned n, i;
	int rc;

	if (!ct->boundary.len ||
	    sip_multipart_split(parts, SIP_MAX_PARTS, &n, body, ct->boundary,
				&pe) != 0)
		return malformed(w, "multipart body cannot be split");
	for (i = 0; i < n; i++) {
		/* RFC 2046 5.1: a part without Content-Type is text/plain. */
		rc = walk(w,
			  parts[i].ctype.len ? parts[i].ctype
					     : STR("text/plain"),
			  parts[i].headers, parts[i].body, depth + 1);
		if (rc)
			return rc;
	}
	return 0;
}

/* RFC 3862 3: CPIM headers, empty line, MIME headers, empty line,
 * content. */
static int walk_cpim(struct walk *w, struct str body, unsigned depth)
{
	struct str cpim_h, rest, mime_h, content, ct;

	if (!split_block(body, &cpim_h, &rest) ||
	    !split_block(rest, &mime_h, &content))
		return malformed(w, "message/cpim cannot be split");
	if (!block_hdr(mime_h, "Content-Type", &ct))
		return content.len ? bad_type(w, "no inner Content-Type") : 0;
	return walk(w, ct, mime_h, content, depth + 1);
}

static int walk(struct walk *w, struct str ctype, struct str hdrs,
		struct str body, unsigned depth)
{
	struct sip_ctype ct;
	struct sip_perr pe;
	int rc;

	if (depth > IM_MAX_DEPTH)
		return malformed(w, "body nested too deep");
	if (sip_ctype_parse(&ct, ctype, &pe) != 0)
		return malformed(w, "bad Content-Type");
	if (depth && (rc = part_headers(w, hdrs)))
		return rc;
	if (w->im->block_files && is_file_type(ct.type, ct.subtype)) {
		refuse(w->v, 415, "Unsupported Media Type", "im-file",
		       "executable or file-transfer content");
		return 1;
	}
	if (!type_allowed(w->im, ct.type, ct.subtype))
		return bad_type(w, "content type not allowed");
	if (str_caseeq_cstr(ct.type, "multipart"))
		return walk_multipart(w, &ct, body, depth);
	if (str_caseeq_cstr(ct.type, "message") &&
	    str_caseeq_cstr(ct.subtype, "cpim"))
		return walk_cpim(w, body, depth);
	if (w->nleaf >= IM_MAX_LEAVES)
		return malformed(w, "too many parts");
	w->leaf[w->nleaf++] = body;
	return 0;
}

/* ----------------------------------------------------------- text rules */

static int text_url(struct im *im, struct str text, struct guard_verdict *v)
{
	char norm[IM_HOST_MAX + 1];
	struct str host;
	size_t pos = 0, n;
	unsigned i;

	if (!im->ndomains)
		return 0;
	while (im_url_next(text, &pos, &host)) {
		n = im_host_norm(norm, sizeof(norm), host);
		for (i = 0; n && i < im->ndomains; i++) {
			if (!im_host_in_domain(str_make(norm, n),
					       str_cstr(im->domains[i])))
				continue;
			snprintf(im->why, sizeof(im->why),
				 "URL host on deny_domains[%u]", i);
			refuse(v, 403, "Forbidden", "im-url", im->why);
			return 1;
		}
	}
	return 0;
}

static int text_rules(struct im *im, struct str text, struct guard_verdict *v)
{
	size_t n, j;
	unsigned i;
	int rc;

	if (text_url(im, text, v))
		return 1;
	/* Fold once, then a fast substring search per keyword. */
	n = text.len < IM_FOLD_MAX ? text.len : IM_FOLD_MAX;
	for (j = 0; im->nwords && j < n; j++) {
		char c = text.p[j];

		im->fold[j] = c >= 'A' && c <= 'Z' ? (char)(c | 0x20) : c;
	}
	for (i = 0; i < im->nwords; i++) {
		if (!im->words[i][0] ||
		    !memmem(im->fold, n, im->words[i], strlen(im->words[i])))
			continue;
		snprintf(im->why, sizeof(im->why), "deny_keywords[%u]", i);
		refuse(v, 403, "Forbidden", "im-keyword", im->why);
		return 1;
	}
	for (i = 0; i < im->nregex; i++) {
		rc = pcre2_match(im->re[i], (PCRE2_SPTR)(text.p ? text.p : ""),
				 text.len, 0, 0, im->md, im->mctx);
		if (rc == PCRE2_ERROR_NOMATCH)
			continue;
		/* A match, or a limit hit: fail closed. */
		snprintf(im->why, sizeof(im->why),
			 rc >= 0 ? "deny_regex[%u]"
				 : "deny_regex[%u] over its match "
				   "limit",
			 i);
		refuse(v, 403, "Forbidden", "im-regex", im->why);
		return 1;
	}
	return 0;
}

void im_check_content(struct im *im, const struct sip_msg *m,
		      struct guard_verdict *v)
{
	struct walk w = {.im = im, .v = v};
	const struct sip_hdr *h;
	unsigned i;

	guard_verdict_pass(v);
	if (im->max_size && m->body.len > im->max_size) {
		refuse(v, 413, "Request Entity Too Large", "im-size",
		       "body larger than guard.im.max_size");
		return;
	}
	if (m->count[SIP_HDR_CONTENT_TYPE] > 1) {
		(void)malformed(&w, "two Content-Types");
		return;
	}
	for (h = sip_msg_hdr(m, SIP_HDR_CONTENT_ENCODING); h;
	     h = sip_hdr_next(m, h)) {
		if (!str_caseeq_cstr(h->value, "identity")) {
			(void)bad_type(&w, "Content-Encoding cannot be "
					   "inspected");
			return;
		}
	}
	h = sip_msg_hdr(m, SIP_HDR_CONTENT_DISPOSITION);
	if (h && im->block_files &&
	    str_casestarts(h->value, STR("attachment"))) {
		refuse(v, 415, "Unsupported Media Type", "im-file",
		       "attachment refused");
		return;
	}
	if (m->body.len) {
		if (!m->content_type.len) {
			(void)bad_type(&w, "body without Content-Type");
			return;
		}
		if (walk(&w, m->content_type, STR_NULL, m->body, 0))
			return;
	}
	for (h = sip_msg_hdr(m, SIP_HDR_SUBJECT); h; h = sip_hdr_next(m, h))
		if (text_rules(im, h->value, v))
			return;
	for (i = 0; i < w.nleaf; i++)
		if (text_rules(im, w.leaf[i], v))
			return;
}

/* ---------------------------------------------------------------- rates */

static uint64_t user_hash(struct im *im, const struct sip_msg *m)
{
	char key[IM_USER_KEY];
	struct str u = m->from.uri.user, h = m->from.uri.host;
	size_t n = 0;

	if (u.len > sizeof(key) / 2)
		u.len = sizeof(key) / 2;
	if (h.len > sizeof(key) / 2 - 1)
		h.len = sizeof(key) / 2 - 1;
	memcpy(key, u.p ? u.p : "", u.len);
	n = u.len;
	key[n++] = '@';
	memcpy(key + n, h.p ? h.p : "", h.len);
	return keytab_hash(&im->user, key, n + h.len, true);
}

void im_check(struct im *im, const struct sip_msg *m,
	      const struct guard_src *src, uint64_t now_ms,
	      struct guard_verdict *v)
{
	struct win_ctr *c;
	uint32_t ns, nu;

	guard_verdict_pass(v);
	ns = 0;
	if (src) {
		c = keytab_get(&im->src,
			       keytab_hash(&im->src, src, sizeof(*src), false),
			       now_ms);
		ns = win_ctr_add(c, now_ms, im->window_ms, 1);
	}
	c = keytab_get(&im->user, user_hash(im, m), now_ms);
	nu = win_ctr_add(c, now_ms, im->window_ms, 1);
	if (im->src_max && ns > im->src_max) {
		refuse(v, 403, "Too Many Messages", "im-rate-source",
		       "MESSAGE rate of this source over guard.im.per_source");
		return;
	}
	if (im->user_max && nu > im->user_max) {
		refuse(v, 403, "Too Many Messages", "im-rate-user",
		       "MESSAGE rate of this sender over guard.im.per_user");
		return;
	}
	im_check_content(im, m, v);
}
