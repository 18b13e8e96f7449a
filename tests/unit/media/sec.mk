# SDES / DTLS-SRTP state of a stream on the heap only when negotiated
# (media/sec.c: memory per relayed call, issue 6).
UNIT_TESTS += media/test_sec
$(BUILD)/tests/unit/media/test_sec: $(BUILD)/tests/unit/media/call_helper.o
