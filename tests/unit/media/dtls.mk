# DTLS-SRTP engine (media/dtls.c): handshakes, keys, loss, floods.
UNIT_TESTS += media/test_dtls
