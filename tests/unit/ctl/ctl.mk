# ctl layer: request parser and answer reader (table tests), and the
# control socket server round trip with a fake backend.
UNIT_TESTS += ctl/test_ctlproto ctl/test_ctl
