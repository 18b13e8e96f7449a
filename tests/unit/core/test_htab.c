/*
 * test_htab.c - intrusive hash table: insert/find/remove, duplicates,
 * iteration with removal, per-table random keys, and the bucket spread of
 * keys built to collide under a weak (unkeyed polynomial) hash.
 */
#include <errno.h>
#include <stdio.h>

#include "test.h"
#include "core/core.h"

struct item {
	struct hnode node;
	char key[40];
	size_t len;
	int val;
};

static bool item_eq(const struct hnode *n, const void *key)
{
	const struct item *it = HTAB_ENTRY(n, const struct item, node);
	const struct str *k = key;

	return str_eq(str_make(it->key, it->len), *k);
}

static bool item_caseeq(const struct hnode *n, const void *key)
{
	const struct item *it = HTAB_ENTRY(n, const struct item, node);
	const struct str *k = key;

	return str_caseeq(str_make(it->key, it->len), *k);
}

static void item_set(struct item *it, const char *key, int val)
{
	it->len = strlen(key);
	memcpy(it->key, key, it->len);
	it->val = val;
}

static struct item *lookup(struct htab *h, const char *key)
{
	struct str k = str_cstr(key);
	struct hnode *n = htab_find(h, htab_hash(h, k.p, k.len), item_eq, &k);

	return n ? HTAB_ENTRY(n, struct item, node) : NULL;
}

static void test_basic(void **state)
{
	static const char *const keys[] = {"a", "b", "abc@host", "", "zz"};
	struct item it[5];
	struct htab h;
	size_t i;

	(void)state;
	assert_int_equal(htab_init(&h, 1000), 0);
	assert_int_equal(htab_buckets(&h), 1024);
	for (i = 0; i < 5; i++) {
		item_set(&it[i], keys[i], (int)i);
		htab_insert(&h, &it[i].node,
			    htab_hash(&h, it[i].key, it[i].len));
	}
	assert_int_equal(htab_count(&h), 5);
	for (i = 0; i < 5; i++)
		assert_ptr_equal(lookup(&h, keys[i]), &it[i]);
	assert_null(lookup(&h, "missing"));
	assert_true(htab_remove(&h, &it[2].node));
	assert_false(htab_remove(&h, &it[2].node));
	assert_null(lookup(&h, "abc@host"));
	assert_ptr_equal(lookup(&h, "zz"), &it[4]);
	assert_int_equal(htab_count(&h), 4);
	htab_fini(&h);
	htab_fini(&h);
	assert_null(lookup(&h, "a"));
	assert_no_leaks();
}

static void test_case_and_dups(void **state)
{
	struct item it[3];
	struct htab h;
	struct str k = STR("Alice@Example.COM");
	struct hnode *n;
	uint64_t hv;
	int seen = 0;

	(void)state;
	assert_int_equal(htab_init(&h, 16), 0);
	item_set(&it[0], "alice@example.com", 0);
	item_set(&it[1], "ALICE@EXAMPLE.COM", 1);
	item_set(&it[2], "bob@example.com", 2);
	for (int i = 0; i < 3; i++)
		htab_insert(&h, &it[i].node,
			    htab_hash_case(&h, it[i].key, it[i].len));
	hv = htab_hash_case(&h, k.p, k.len);
	for (n = htab_find(&h, hv, item_caseeq, &k); n;
	     n = htab_find_next(n, item_caseeq, &k))
		seen |= 1 << HTAB_ENTRY(n, struct item, node)->val;
	assert_int_equal(seen, 3);
	assert_null(htab_find(&h, hv, item_eq, &k));
	htab_fini(&h);
	assert_no_leaks();
}

static void test_iterate_remove(void **state)
{
	enum { N = 500 };
	static struct item it[N];
	struct htab_iter iter;
	struct hnode *n;
	struct htab h;
	char key[32];
	size_t i, visited = 0;
	static bool seen[N];

	(void)state;
	assert_int_equal(htab_init(&h, 64), 0);
	for (i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "k%zu", i);
		item_set(&it[i], key, (int)i);
		htab_insert(&h, &it[i].node,
			    htab_hash(&h, it[i].key, it[i].len));
	}
	/* Remove every other node while walking. */
	htab_iter_init(&iter, &h);
	while ((n = htab_iter_next(&iter)) != NULL) {
		struct item *x = HTAB_ENTRY(n, struct item, node);

		assert_false(seen[x->val]);
		seen[x->val] = true;
		visited++;
		if (x->val % 2)
			assert_true(htab_remove(&h, n));
	}
	assert_int_equal(visited, N);
	assert_int_equal(htab_count(&h), N / 2);
	/* Then all of them. */
	visited = 0;
	htab_iter_init(&iter, &h);
	while ((n = htab_iter_next(&iter)) != NULL) {
		assert_int_equal(HTAB_ENTRY(n, struct item, node)->val % 2, 0);
		assert_true(htab_remove(&h, n));
		visited++;
	}
	assert_int_equal(visited, N / 2);
	assert_int_equal(htab_count(&h), 0);
	htab_fini(&h);
	assert_no_leaks();
}

/*
 * 2^14 keys made of the blocks "Aa" and "BB", which all collide under the
 * classic s[0]*31^(n-1) + ... string hash: an attacker's favourite.  With
 * a keyed hash they spread like random keys: with n keys in n buckets the
 * longest chain stays around ln n / ln ln n; 12 leaves a wide margin.
 */
static void test_colliding_keys_spread(void **state)
{
	enum { BITS = 14, N = 1 << BITS };
	static struct item it[N];
	struct htab h;
	uint32_t weak, first_weak = 0;
	size_t i, b, max;

	(void)state;
	assert_int_equal(htab_init(&h, N), 0);
	for (i = 0; i < N; i++) {
		it[i].len = 0;
		for (b = 0; b < BITS; b++) {
			memcpy(it[i].key + it[i].len,
			       (i >> b) & 1 ? "BB" : "Aa", 2);
			it[i].len += 2;
		}
		weak = 0;
		for (b = 0; b < it[i].len; b++)
			weak = weak * 31 + (uint8_t)it[i].key[b];
		if (i == 0)
			first_weak = weak;
		assert_int_equal(weak, first_weak); /* they do collide */
		htab_insert(&h, &it[i].node,
			    htab_hash(&h, it[i].key, it[i].len));
	}
	max = htab_max_chain(&h);
	print_message(
		"      %d colliding keys, %zu buckets: longest chain %zu\n", N,
		htab_buckets(&h), max);
	assert_true(max <= 12);
	for (i = 0; i < N; i += 97) {
		struct str k = str_make(it[i].key, it[i].len);

		assert_ptr_equal(
			htab_find(&h, htab_hash(&h, k.p, k.len), item_eq, &k),
			&it[i].node);
	}
	htab_fini(&h);
	assert_no_leaks();
}

static void test_keys_and_errors(void **state)
{
	static const uint8_t key[16] = {1};
	struct htab h1, h2, h3;

	(void)state;
	assert_int_equal(htab_init(&h1, 8), 0);
	assert_int_equal(htab_init(&h2, 8), 0);
	/* Each table draws its own key. */
	assert_true(htab_hash(&h1, "x", 1) != htab_hash(&h2, "x", 1));
	assert_int_equal(htab_init_key(&h3, 8, key), 0);
	assert_true(htab_hash(&h3, "x", 1) == siphash24("x", 1, key));
	htab_fini(&h1);
	htab_fini(&h2);
	htab_fini(&h3);

	assert_int_equal(htab_init(&h1, 0), -EINVAL);
	assert_int_equal(htab_init(&h1, (size_t)HTAB_MAX_BUCKETS + 1), -EINVAL);
	assert_int_equal(htab_init(NULL, 8), -EINVAL);
	mem_fail_nth(1);
	assert_int_equal(htab_init(&h1, 8), -ENOMEM);
	mem_fail_nth(0);
	assert_int_equal(htab_buckets(&h1), 0);
	htab_fini(&h1);
	assert_no_leaks();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_case_and_dups),
		cmocka_unit_test(test_iterate_remove),
		cmocka_unit_test(test_colliding_keys_spread),
		cmocka_unit_test(test_keys_and_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
