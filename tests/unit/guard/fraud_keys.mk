# Toll-fraud keys in Redis: no names in clear, shared only under one
# store.secret (real redis-server on 43001).
UNIT_TESTS += guard/test_fraud_keys
$(BUILD)/tests/unit/guard/test_fraud_keys: $(BUILD)/tests/unit/redis_helper.o \
	$(BUILD)/tests/unit/guard/fraud_helper.o
