# ctl layer: event followers (queue, filter, "events" request).
UNIT_TESTS += ctl/test_subq
