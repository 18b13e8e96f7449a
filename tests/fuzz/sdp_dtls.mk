# DTLS-SRTP SDP attributes (sip/sdp_dtls.c) on raw values and whole SDPs.
FUZZ_TARGETS += sdp_dtls
