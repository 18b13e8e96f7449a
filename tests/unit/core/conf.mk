UNIT_TESTS += core/test_conf
