# Unit tests of the store layer (issue 9).
UNIT_TESTS += store/test_store_codec store/test_store_mem store/test_store
# Against a real redis-server on 127.0.0.1:34380 (skipped without one).
UNIT_TESTS += store/test_store_redis
# The tests that start a real redis-server share tests/unit/redis_helper.c.
$(BUILD)/tests/unit/store/test_store_redis \
$(BUILD)/tests/unit/store/test_store_cluster: \
	$(BUILD)/tests/unit/redis_helper.o
