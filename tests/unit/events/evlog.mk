# events layer: event log (aggregation, rate cap) and rule registry.
UNIT_TESTS += events/test_evlog events/test_rules
