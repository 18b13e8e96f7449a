# DTLS-SRTP engine input path (media/dtls.c + OpenSSL DTLS).
FUZZ_TARGETS += dtls
