# Fuzz target of shared binding records, dialog snapshots (and the
# dialog rebuilt from one) and bindings-channel messages (issue 9).
FUZZ_TARGETS += store_snap
