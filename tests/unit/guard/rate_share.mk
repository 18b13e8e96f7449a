# Auth-failure counts across instances against a real redis-server.
UNIT_TESTS += guard/test_rate_share
$(BUILD)/tests/unit/guard/test_rate_share: $(BUILD)/tests/unit/redis_helper.o \
	$(BUILD)/tests/unit/guard/rate_helper.o
