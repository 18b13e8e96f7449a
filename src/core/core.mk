# core layer sources (libc only, plus libyaml for the config loader)
CORE_SRCS := \
	src/core/str.c \
	src/core/buf.c \
	src/core/mem.c \
	src/core/keyline.c \
	src/core/arena.c \
	src/core/slab.c \
	src/core/edit.c \
	src/core/addr.c \
	src/core/siphash.c \
	src/core/rand.c \
	src/core/htab.c \
	src/core/tmr.c \
	src/core/loop.c \
	src/core/loop_epoll.c \
	src/core/log.c \
	src/core/conf.c \
	src/core/conf_yaml.c \
	src/core/conf_opts.c \
	src/core/conf_ops.c
CORE_SRCS += src/core/conf_fraud.c
CORE_SRCS += src/core/conf_zone.c src/core/conf_guard.c src/core/conf_im.c
CORE_SRCS += src/core/conf_scalar.c src/core/conf_check.c
