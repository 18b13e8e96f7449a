UNIT_TESTS += transport/test_tls
