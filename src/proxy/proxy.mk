# proxy layer sources
PROXY_SRCS := \
	src/proxy/proxy.c \
	src/proxy/route.c \
	src/proxy/request.c \
	src/proxy/response.c \
	src/proxy/backend.c \
	src/proxy/registrar.c \
	src/proxy/guardconf.c \
	src/proxy/tlsconf.c \
	src/proxy/topo.c \
	src/proxy/topo_out.c \
	src/proxy/topo_seal.c \
	src/proxy/anchor.c
PROXY_SRCS += src/proxy/indialog.c src/proxy/regguard.c
PROXY_SRCS += src/proxy/reload.c
PROXY_SRCS += src/proxy/pmetrics.c
PROXY_SRCS += src/proxy/phep.c
PROXY_SRCS += src/proxy/pcalls.c
PROXY_SRCS += src/proxy/fraudhold.c
# issue 9: bindings handed between instances, dialog snapshots
PROXY_SRCS += src/proxy/cluster.c
