# Fuzz target of SDES negotiation and SDP rewrite for SRTP (issue 7).
FUZZ_TARGETS += srtp_sdp
$(BUILD)/tests/fuzz/replay_srtp_sdp $(BUILD_ROOT)/fuzz/tests/fuzz/fuzz_srtp_sdp: \
	$(BUILD)/tests/fuzz/media_fuzz.o
