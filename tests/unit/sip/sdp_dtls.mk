# DTLS-SRTP SDP attributes: a=fingerprint, a=setup, a=tls-id, roles.
UNIT_TESTS += sip/test_sdp_dtls
