# Fuzz target of DTLS-SRTP negotiation and SDP rewrite (issue 7).
FUZZ_TARGETS += dtls_sdp
$(BUILD)/tests/fuzz/replay_dtls_sdp $(BUILD_ROOT)/fuzz/tests/fuzz/fuzz_dtls_sdp: \
	$(BUILD)/tests/fuzz/media_fuzz.o
