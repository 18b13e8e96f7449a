# media layer sources (issue 6): relay threads, ports, SDP anchoring
MEDIA_SRCS := \
	src/media/rtp.c \
	src/media/ports.c \
	src/media/ring.c \
	src/media/relay.c \
	src/media/relay_uring.c \
	src/media/media.c \
	src/media/media_stats.c \
	src/media/offer.c
# DTLS-SRTP engine per leg (RFC 5763/5764), memory BIOs, no sockets
MEDIA_SRCS += src/media/dtls.c src/media/dtls_cert.c
# DTLS-SRTP on a relay leg: relay side, SDP negotiation (issue 7)
MEDIA_SRCS += src/media/dtls_leg.c src/media/dtls_sdp.c
# SRTP termination (issue 7): libsrtp2 contexts, SDES negotiation
MEDIA_SRCS += src/media/srtp.c src/media/srtp_cm.c src/media/srtp_sdp.c
# ... our transform's shared state (srtp_xf.c) and AEAD AES-GCM cipher
MEDIA_SRCS += src/media/srtp_xf.c src/media/srtp_gcm.c
# Kernel fast path (media.kernel, issue 6): eBPF program at TCX ingress,
# compiled for the BPF target and embedded (kfast_obj.c .incbin's it).
MEDIA_SRCS += src/media/kfast.c src/media/kfast_relay.c src/media/kfast_obj.c
# ... and its interfaces, kept up to date from rtnetlink events
MEDIA_SRCS += src/media/kfast_link.c
LDLIBS += -lbpf
KFAST_BPF := $(BUILD)/src/media/kfast.bpf.o
KFAST_ARCH := $(shell gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
$(KFAST_BPF): src/media/kfast.bpf.c src/media/kfast_abi.h
	@mkdir -p $(dir $@)
	clang -O2 -g -target bpf -I/usr/include/$(KFAST_ARCH) -Isrc/media \
		-Wall -Werror -c -o $@ $<
$(BUILD)/src/media/kfast_obj.o: $(KFAST_BPF)
$(BUILD)/src/media/kfast_obj.o: CFLAGS += -DKFAST_OBJ='"$(KFAST_BPF)"'
# SDES / DTLS-SRTP state of a stream, on the heap only when negotiated.
MEDIA_SRCS += src/media/sec.c
