/*
 * test.h - what every cmocka unit test includes.
 */
#ifndef SIPGUARD_TEST_H
#define SIPGUARD_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/mem.h"
#include "core/str.h"

#define assert_str_equal_cstr(s, c)                                      \
	do {                                                             \
		struct str s_ = (s);                                     \
		const char *c_ = (c);                                    \
		if (!str_eq(s_, str_cstr(c_)))                           \
			fail_msg("\"%.*s\" != \"%s\"", STR_FMT(s_), c_); \
	} while (0)

/* Every test file ends its main() with this: no allocation may leak. */
#define assert_no_leaks() assert_int_equal(mem_live(), 0)

#endif
