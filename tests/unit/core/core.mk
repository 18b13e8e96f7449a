UNIT_TESTS += core/test_str core/test_buf
UNIT_TESTS += core/test_slab
UNIT_TESTS += core/test_arena core/test_siphash core/test_htab core/test_tmr \
	core/test_loop core/test_log
