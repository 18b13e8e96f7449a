# Toll-fraud limits across instances against a real redis-server.
UNIT_TESTS += guard/test_fraud_share
$(BUILD)/tests/unit/guard/test_fraud_share: $(BUILD)/tests/unit/redis_helper.o \
	$(BUILD)/tests/unit/guard/fraud_helper.o
