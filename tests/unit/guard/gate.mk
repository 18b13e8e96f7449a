UNIT_TESTS += guard/test_gate
