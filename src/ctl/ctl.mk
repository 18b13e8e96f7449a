# ctl layer: control socket server and its protocol (in the library), and
# the sipguardctl client (its own binary).
CTL_SRCS := \
	src/ctl/ctl.c \
	src/ctl/ctlproto.c
CTLCLIENT_SRCS := src/ctl/sipguardctl.c
CTL_SRCS += src/ctl/http.c
CTL_SRCS += src/ctl/subq.c
CTL_SRCS += src/ctl/ctlout.c
