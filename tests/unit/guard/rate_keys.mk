# Source addresses in the shared failure / request-rate windows: keyed
# hashes, never in clear (real redis-server on 43500).
UNIT_TESTS += guard/test_rate_keys
$(BUILD)/tests/unit/guard/test_rate_keys: $(BUILD)/tests/unit/redis_helper.o \
	$(BUILD)/tests/unit/guard/rate_helper.o
