# Fuzz target of our SRTP transform (AES-CM and AEAD AES-GCM): hostile and
# genuine packets through one context pair, ROC/replay/SSRC state.
FUZZ_TARGETS += srtp_xf
