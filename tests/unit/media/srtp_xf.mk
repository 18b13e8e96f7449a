# Our SRTP transform (AES-CM and AEAD AES-GCM) against libsrtp2 and
# RFC 7714's test vectors
UNIT_TESTS += media/test_srtp_xf
