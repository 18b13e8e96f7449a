# Fuzz target of the store's bans-channel messages and ban records.
FUZZ_TARGETS += store_codec
