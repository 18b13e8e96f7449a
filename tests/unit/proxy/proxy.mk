UNIT_TESTS += proxy/test_route
