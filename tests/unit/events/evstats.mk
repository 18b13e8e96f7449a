# events layer: counters derived from security events (operations views).
UNIT_TESTS += events/test_evstats
