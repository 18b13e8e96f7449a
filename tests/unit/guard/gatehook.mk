UNIT_TESTS += guard/test_gatehook
