# SRTP termination (issue 7): libsrtp2 contexts, relay hooks, SDES
UNIT_TESTS += media/test_srtp
