# transport layer sources
TRANSPORT_SRCS := \
	src/transport/udp.c \
	src/transport/conn.c \
	src/transport/tcp.c \
	src/transport/tls.c \
	src/transport/tls_ctx.c \
	src/transport/tp.c
