# store layer: shared state between instances (issue 9)
STORE_SRCS := src/store/store.c src/store/store_codec.c src/store/store_mem.c \
	src/store/store_redis.c src/store/store_redis_ban.c \
	src/store/store_redis_count.c src/store/store_loop.c \
	src/store/store_snap.c src/store/store_cluster.c \
	src/store/store_key.c
# store_batch(): a call's counters in one Redis round trip.
STORE_SRCS += src/store/store_batch.c
# store.tls: the TLS tunnel thread hiredis 0.14 connects through.
STORE_SRCS += src/store/store_tls.c src/store/store_tls_conn.c
# Its private directory; the ones a killed daemon left are removed.
STORE_SRCS += src/store/store_tls_dir.c
# Commands written in Redis' protocol (hot path: no printf-like formatting).
STORE_SRCS += src/store/store_resp.c
# The bindings channel's messages, published together every 20 ms.
STORE_SRCS += src/store/store_cpub.c
# The takeover half of store_cluster.c.
STORE_SRCS += src/store/store_takeover.c
# hiredis' reply objects from a free list (no calloc/free per value).
STORE_SRCS += src/store/store_reply.c
