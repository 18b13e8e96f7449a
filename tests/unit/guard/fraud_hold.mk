# Toll fraud's blocks and throttles across instances (real redis-server
# on 43620).
UNIT_TESTS += guard/test_fraud_hold
$(BUILD)/tests/unit/guard/test_fraud_hold: $(BUILD)/tests/unit/redis_helper.o \
	$(BUILD)/tests/unit/guard/fraud_helper.o
