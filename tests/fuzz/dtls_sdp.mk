# Fuzz target of DTLS-SRTP negotiation and SDP rewrite (issue 7).
FUZZ_TARGETS += dtls_sdp
