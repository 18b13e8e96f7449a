# store_batch(): a call's counters in one Redis round trip; against a
# real redis-server on 127.0.0.1:39451 (skipped without one).
UNIT_TESTS += store/test_store_batch
$(BUILD)/tests/unit/store/test_store_batch: $(BUILD)/tests/unit/redis_helper.o
