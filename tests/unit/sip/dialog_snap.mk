# A dialog rebuilt from another instance's snapshot (issue 9 takeover).
UNIT_TESTS += sip/test_dialog_snap
