# DTLS-SRTP on a relay leg (issue 7): SDP negotiation, relay side
UNIT_TESTS += media/test_dtls_leg
$(BUILD)/tests/unit/media/test_dtls_leg: $(BUILD)/tests/unit/media/call_helper.o
