# media layer sources (issue 6): relay threads, ports, SDP anchoring
MEDIA_SRCS := \
	src/media/rtp.c \
	src/media/ports.c \
	src/media/ring.c \
	src/media/relay.c \
	src/media/relay_uring.c \
	src/media/media.c \
	src/media/offer.c
