# SDES a=crypto keys (issue 7)
UNIT_TESTS += sip/test_sdp_crypto
