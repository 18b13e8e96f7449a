# Fuzz target of SDES negotiation and SDP rewrite for SRTP (issue 7).
FUZZ_TARGETS += srtp_sdp
