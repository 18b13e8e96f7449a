# SRTP termination (issue 7): libsrtp2 contexts, relay hooks, SDES
UNIT_TESTS += media/test_srtp
$(BUILD)/tests/unit/media/test_srtp: $(BUILD)/tests/unit/media/call_helper.o
