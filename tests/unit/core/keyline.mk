# SDES key lines: found (keyline_in) and masked for capture copies.
UNIT_TESTS += core/test_keyline
