# proxy layer sources
PROXY_SRCS := \
	src/proxy/proxy.c \
	src/proxy/route.c \
	src/proxy/request.c \
	src/proxy/response.c \
	src/proxy/backend.c \
	src/proxy/registrar.c \
	src/proxy/guardconf.c
PROXY_SRCS += src/proxy/indialog.c src/proxy/regguard.c
