UNIT_TESTS += core/test_loop_defer
