/*
 * fuzz_config.c - the configuration loader (conf_load_str) on arbitrary
 * bytes.
 *
 * Invariants checked beyond "no crash, no leak":
 *  - 0 comes with a configuration, an error with none and with a single
 *    NUL-terminated line "fuzz:..." in the error buffer;
 *  - an accepted configuration is within its bounds (zone count, unique
 *    names, every listen address parses);
 *  - dumping it and loading the dump gives the same struct, and the two
 *    differ in nothing a reload would refuse.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/conf.h"
#include "core/mem.h"

#define CHECK(cond)                                                       \
	do {                                                              \
		if (!(cond)) {                                            \
			fprintf(stderr, "invariant failed: %s (%s:%d)\n", \
				#cond, __FILE__, __LINE__);               \
			abort();                                          \
		}                                                         \
	} while (0)

static void check_error(int rc, const char *err, size_t errsz)
{
	CHECK(rc == -EINVAL || rc == -ENOMEM);
	CHECK(memchr(err, '\0', errsz) != NULL);
	CHECK(strncmp(err, "fuzz:", 5) == 0);
	CHECK(strchr(err, '\n') == NULL);
}

static void check_conf(const struct sg_conf *c)
{
	struct conf_addr a;
	size_t z, z2, l, nlisten = 0;

	CHECK(c->n_zones >= 1 && c->n_zones <= CONF_MAX_ZONES);
	for (z = 0; z < c->n_zones; z++) {
		CHECK(c->zones[z].name[0] != '\0');
		CHECK(c->zones[z].n_listen <= CONF_MAX_LISTEN);
		CHECK(c->zones[z].route.n_backends <= CONF_MAX_BACKENDS);
		for (z2 = 0; z2 < z; z2++)
			CHECK(strcmp(c->zones[z].name, c->zones[z2].name));
		for (l = 0; l < c->zones[z].n_listen; l++)
			CHECK(conf_addr_parse(&a, c->zones[z].listen[l]) == 0);
		for (l = 0; l < c->zones[z].route.n_backends; l++)
			CHECK(conf_addr_parse(
				      &a, c->zones[z].route.backends[l]) == 0);
		nlisten += c->zones[z].n_listen;
	}
	CHECK(nlisten > 0);
	CHECK(c->sip.t1 <= c->sip.t2);
}

static void check_roundtrip(const struct sg_conf *c)
{
	struct sg_conf *c2 = NULL;
	char err[CONF_ERR_LEN], *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int rc;

	CHECK(f != NULL);
	conf_dump(c, f);
	fclose(f);
	rc = conf_load_str(&c2, "fuzz-dump", text, len, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "dump does not load: %s\n%s", err, text);
		abort();
	}
	CHECK(memcmp(c, c2, sizeof(*c)) == 0);
	CHECK(conf_reload_check(c, c2, err, sizeof(err)) == 0);
	conf_free(c2);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sg_conf *c = (struct sg_conf *)&c;
	char err[CONF_ERR_LEN];
	size_t live = mem_live();
	int rc;

	memset(err, 'x', sizeof(err));
	rc = conf_load_str(&c, "fuzz", size ? (const char *)data : "", size,
			   err, sizeof(err));
	if (rc) {
		CHECK(c == NULL);
		check_error(rc, err, sizeof(err));
	} else {
		CHECK(c != NULL);
		check_conf(c);
		check_roundtrip(c);
		conf_free(c);
	}
	CHECK(mem_live() == live);
	return 0;
}
