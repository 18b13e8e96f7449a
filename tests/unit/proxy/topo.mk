UNIT_TESTS += proxy/test_topo
