# Issue 9 scale-out: binding records, dialog snapshots, channel messages.
UNIT_TESTS += store/test_store_snap
# Against a real redis-server on 127.0.0.1:37902 (skipped without one).
UNIT_TESTS += store/test_store_cluster
