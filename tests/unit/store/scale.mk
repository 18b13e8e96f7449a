# Issue 9 scale-out: binding records, dialog snapshots, channel messages.
UNIT_TESTS += store/test_store_snap
