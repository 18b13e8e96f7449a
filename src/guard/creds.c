/*
 * creds.c - the credentials file of local Digest authentication: one
 * "user:realm:ha1-md5[:ha1-sha256]" entry per line (format in auth.h).
 *
 * Only HA1 hashes are stored (RFC 7616 3.4.2: H(user:realm:password)),
 * never passwords.  The file is read once into a heap copy, parsed into
 * one sorted array, and the copy is wiped; creds_free() wipes the HA1s.
 * Lookups are a binary search over (realm, user): O(log n) whether or
 * not the user exists.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/mem.h"
#include "guard/auth_int.h"

enum {
	MD5_HEX = 32,
	SHA256_HEX = 64,
};

struct creds_ent {
	size_t user_off, user_len, realm_off, realm_len;
	char md5[MD5_HEX + 1];       /* "" when absent */
	char sha256[SHA256_HEX + 1]; /* "" when absent */
};

/* Owner: the caller of creds_parse()/creds_load(). */
struct creds {
	struct creds_ent *e;
	size_t n;
	char *names; /* users and realms, back to back */
	size_t names_len;
};

/* A realm may hold inner spaces (it is a quoted-string on the wire),
 * a user name may not; neither may hold ':', '"', '\\' or controls. */
static bool name_ok(struct str s, bool space, size_t max)
{
	size_t i;

	if (!s.len || s.len >= max)
		return false;
	for (i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.p[i];

		if (c < ' ' || c == 0x7f || c == ':' || c == '"' || c == '\\' ||
		    (c == ' ' && !space))
			return false;
	}
	return true;
}

static int bad(const char **reasonp, const char *why)
{
	*reasonp = why;
	return -EINVAL;
}

static bool hex_ok(struct str s, size_t n)
{
	size_t i;

	if (s.len != n)
		return false;
	for (i = 0; i < n; i++) {
		char c = s.p[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		      (c >= 'A' && c <= 'F')))
			return false;
	}
	return true;
}

static struct str trim_sp(struct str s)
{
	while (s.len && (s.p[0] == ' ' || s.p[0] == '\t'))
		s = str_skip(s, 1);
	while (s.len && (s.p[s.len - 1] == ' ' || s.p[s.len - 1] == '\t' ||
			 s.p[s.len - 1] == '\r'))
		s.len--;
	return s;
}

int creds_parse_line(struct creds_line *lp, struct str line,
		     const char **reasonp)
{
	struct str rest, f[5];
	unsigned n = 0;

	memset(lp, 0, sizeof(*lp));
	*reasonp = NULL;
	line = trim_sp(line);
	if (!line.len || line.p[0] == '#')
		return 0;
	if (line.len > CREDS_MAX_LINE)
		return bad(reasonp, "line too long");
	rest = line;
	while (n < 5 && str_split(&rest, ':', &f[n]))
		f[n] = trim_sp(f[n]), n++;
	if (n < 3 || n > 4)
		return bad(reasonp, "expected user:realm:ha1-md5[:ha1-sha256]");
	lp->user = f[0];
	lp->realm = f[1];
	lp->ha1_md5 = f[2];
	lp->ha1_sha256 = n == 4 ? f[3] : STR_NULL;
	if (!name_ok(lp->user, false, AUTH_USER_MAX))
		return bad(reasonp, "bad user name");
	if (!name_ok(lp->realm, true, AUTH_REALM_MAX))
		return bad(reasonp, "bad realm");
	if (lp->ha1_md5.len && !hex_ok(lp->ha1_md5, MD5_HEX))
		return bad(reasonp, "MD5 HA1 must be 32 hex digits");
	if (lp->ha1_sha256.len && !hex_ok(lp->ha1_sha256, SHA256_HEX))
		return bad(reasonp, "SHA-256 HA1 must be 64 hex digits");
	if (!lp->ha1_md5.len && !lp->ha1_sha256.len)
		return bad(reasonp, "no HA1");
	return 1;
}

static struct str ent_user(const struct creds *c, const struct creds_ent *e)
{
	return str_make(c->names + e->user_off, e->user_len);
}

static struct str ent_realm(const struct creds *c, const struct creds_ent *e)
{
	return str_make(c->names + e->realm_off, e->realm_len);
}

/* Order: realm, then user; bytewise (user names are case-sensitive). */
static int key_cmp(struct str ra, struct str ua, struct str rb, struct str ub)
{
	size_t n = ra.len < rb.len ? ra.len : rb.len;
	int r = memcmp(ra.p, rb.p, n);

	if (r || ra.len != rb.len)
		return r ? r : (ra.len < rb.len ? -1 : 1);
	n = ua.len < ub.len ? ua.len : ub.len;
	r = memcmp(ua.p, ub.p, n);
	if (r || ua.len != ub.len)
		return r ? r : (ua.len < ub.len ? -1 : 1);
	return 0;
}

static int ent_cmp(const void *a, const void *b, void *ctx)
{
	const struct creds_ent *x = a, *y = b;
	const struct creds *c = ctx;

	return key_cmp(ent_realm(c, x), ent_user(c, x), ent_realm(c, y),
		       ent_user(c, y));
}

static void lower_copy(char *dst, struct str hex)
{
	size_t i;

	for (i = 0; i < hex.len; i++) {
		char ch = hex.p[i];

		dst[i] = (ch >= 'A' && ch <= 'F') ? (char)(ch - 'A' + 'a') : ch;
	}
	dst[hex.len] = '\0';
}

/* Pass 1 counts and validates; pass 2 (c != NULL) stores. */
static int scan(struct creds *c, struct str text, struct creds_err *errp,
		size_t *np, size_t *namesp)
{
	struct str rest = text, line;
	struct creds_line cl;
	const char *why;
	unsigned lineno = 0;
	size_t n = 0, names = 0;
	int rc;

	while (str_split(&rest, '\n', &line)) {
		lineno++;
		rc = creds_parse_line(&cl, line, &why);
		if (rc < 0) {
			errp->line = lineno;
			errp->reason = why;
			return rc;
		}
		if (!rc)
			continue;
		if (n >= CREDS_MAX_ENTRIES) {
			errp->line = lineno;
			errp->reason = "too many entries";
			return -E2BIG;
		}
		if (c) {
			struct creds_ent *e = &c->e[n];

			e->user_off = names;
			e->user_len = cl.user.len;
			memcpy(c->names + names, cl.user.p, cl.user.len);
			e->realm_off = names + cl.user.len;
			e->realm_len = cl.realm.len;
			memcpy(c->names + e->realm_off, cl.realm.p,
			       cl.realm.len);
			lower_copy(e->md5, cl.ha1_md5);
			lower_copy(e->sha256, cl.ha1_sha256);
		}
		n++;
		names += cl.user.len + cl.realm.len;
	}
	*np = n;
	*namesp = names;
	return 0;
}

/* After sorting: a duplicate (user, realm) names the later line. */
static int find_dup(const struct creds *c, struct str text,
		    struct creds_err *errp)
{
	size_t i;

	for (i = 1; i < c->n; i++) {
		const struct creds_ent *a = &c->e[i - 1], *b = &c->e[i];
		struct str rest = text, line;
		struct creds_line cl;
		const char *why;
		unsigned lineno = 0, seen = 0;

		if (key_cmp(ent_realm(c, a), ent_user(c, a), ent_realm(c, b),
			    ent_user(c, b)))
			continue;
		/* Rare: rescan for the line of the second occurrence. */
		while (str_split(&rest, '\n', &line)) {
			lineno++;
			if (creds_parse_line(&cl, line, &why) == 1 &&
			    str_eq(cl.user, ent_user(c, a)) &&
			    str_eq(cl.realm, ent_realm(c, a)) && ++seen == 2)
				break;
		}
		errp->line = lineno;
		errp->reason = "duplicate user and realm";
		return -EINVAL;
	}
	return 0;
}

int creds_parse(struct creds **credsp, struct str text, struct creds_err *errp)
{
	struct creds_err dummy;
	struct creds *c;
	size_t n, names;
	int rc;

	if (!errp)
		errp = &dummy;
	errp->line = 0;
	errp->reason = NULL;
	if (!credsp || (!text.p && text.len))
		return -EINVAL;
	*credsp = NULL;
	if ((rc = scan(NULL, text, errp, &n, &names)))
		return rc;
	if (!(c = mem_zalloc(sizeof(*c))))
		goto nomem;
	c->e = mem_zalloc((n ? n : 1) * sizeof(*c->e));
	c->names = mem_alloc(names ? names : 1);
	if (!c->e || !c->names)
		goto nomem;
	c->n = n;
	c->names_len = names;
	scan(c, text, errp, &n, &names);
	qsort_r(c->e, c->n, sizeof(*c->e), ent_cmp, c);
	if ((rc = find_dup(c, text, errp))) {
		creds_free(c);
		return rc;
	}
	*credsp = c;
	return 0;
nomem:
	creds_free(c);
	errp->reason = "out of memory";
	return -ENOMEM;
}

void creds_free(struct creds *c)
{
	if (!c)
		return;
	if (c->e)
		mem_secclean(c->e, c->n * sizeof(*c->e));
	mem_free(c->e);
	mem_free(c->names);
	mem_free(c);
}

size_t creds_count(const struct creds *c)
{
	return c ? c->n : 0;
}

static const struct creds_ent *lookup(const struct creds *c, struct str user,
				      struct str realm)
{
	size_t lo = 0, hi = c ? c->n : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct creds_ent *e = &c->e[mid];
		int r = key_cmp(realm, user, ent_realm(c, e), ent_user(c, e));

		if (!r)
			return e;
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

const char *creds_ha1(const struct creds *c, struct str user, struct str realm,
		      unsigned alg)
{
	const struct creds_ent *e = lookup(c, user, realm);
	const char *h;

	if (!e)
		return NULL;
	h = alg == AUTH_ALG_SHA256 ? e->sha256 : e->md5;
	return h[0] ? h : NULL;
}

int creds_check_algs(const struct creds *c, struct str realm, unsigned algs,
		     struct str *userp)
{
	size_t i;

	for (i = 0; c && i < c->n; i++) {
		const struct creds_ent *e = &c->e[i];

		if (!str_eq(ent_realm(c, e), realm))
			continue;
		if (((algs & AUTH_ALG_MD5) && !e->md5[0]) ||
		    ((algs & AUTH_ALG_SHA256) && !e->sha256[0])) {
			if (userp)
				*userp = ent_user(c, e);
			return -ENOENT;
		}
	}
	return 0;
}

/* Read the whole file into a fresh heap buffer (*lenp bytes). */
static int read_all(const char *path, char **bufp, size_t *lenp)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	ssize_t r;
	int fd, err = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	if (fstat(fd, &st) != 0) {
		err = -errno;
		goto out;
	}
	if (st.st_size > CREDS_MAX_FILE) {
		err = -EFBIG;
		goto out;
	}
	if (!(buf = mem_alloc((size_t)st.st_size + 1))) {
		err = -ENOMEM;
		goto out;
	}
	while (len < (size_t)st.st_size) {
		r = read(fd, buf + len, (size_t)st.st_size - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
out:
	close(fd);
	if (err) {
		mem_free(buf);
		return err;
	}
	*bufp = buf;
	*lenp = len;
	return 0;
}

int creds_load(struct creds **credsp, const char *path, char *err, size_t errsz)
{
	struct creds_err e = {0, NULL};
	char *buf = NULL;
	size_t len = 0;
	int rc;

	if (!credsp || !path)
		return -EINVAL;
	*credsp = NULL;
	if ((rc = read_all(path, &buf, &len))) {
		if (err)
			snprintf(err, errsz, "%s: %s", path, strerror(-rc));
		return rc;
	}
	rc = creds_parse(credsp, str_make(buf, len), &e);
	mem_secclean(buf, len);
	mem_free(buf);
	if (rc && err)
		snprintf(err, errsz, "%s:%u: %s", path, e.line,
			 e.reason ? e.reason : strerror(-rc));
	return rc;
}
