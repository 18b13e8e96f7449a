# Fuzz target of SDES a=crypto keys and the SRTP receive path (issue 7).
FUZZ_TARGETS += sdp_crypto
