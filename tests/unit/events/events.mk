# events layer: JSON escaping, call records.
UNIT_TESTS += events/test_cdr
