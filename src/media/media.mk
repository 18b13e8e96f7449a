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
