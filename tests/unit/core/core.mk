UNIT_TESTS += core/test_str core/test_buf
