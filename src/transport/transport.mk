# transport layer sources
TRANSPORT_SRCS := \
	src/transport/udp.c
