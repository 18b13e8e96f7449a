# DTLS-SRTP engine (media/dtls.c): handshakes, keys, loss, floods.
UNIT_TESTS += media/test_dtls

# Interop helper: the engine over a UDP socket, for
# tests/e2e/test_dtls_interop.py (openssl, gnutls, baresip); libsrtp2
# checks the exported keys against a real SRTP peer.
E2E_BINS += $(BUILD)/tests/e2e/dtls_peer
$(BUILD)/tests/e2e/dtls_peer: tests/e2e/dtls_peer.c $(BUILD)/libsipguard.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libsipguard.a $(LDFLAGS) $(LDLIBS) \
		-lsrtp2
