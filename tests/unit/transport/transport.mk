UNIT_TESTS += transport/test_tcp transport/test_tp
