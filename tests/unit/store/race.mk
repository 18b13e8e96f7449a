# Reorderings between the two Redis connections, the user-hash key;
# against a real redis-server on 127.0.0.1:39501 (skipped without one).
UNIT_TESTS += store/test_store_race
$(BUILD)/tests/unit/store/test_store_race: $(BUILD)/tests/unit/redis_helper.o
