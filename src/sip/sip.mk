# sip layer sources
SIP_SRCS := \
	src/sip/sipchars.c \
	src/sip/method.c \
	src/sip/hdr.c \
	src/sip/uri.c \
	src/sip/uri_cmp.c \
	src/sip/params.c \
	src/sip/nameaddr.c \
	src/sip/via.c \
	src/sip/hparse.c \
	src/sip/digest.c \
	src/sip/msg.c \
	src/sip/msg_hdrs.c \
	src/sip/frame.c \
	src/sip/multipart.c \
	src/sip/build.c \
	src/sip/reply.c \
	src/sip/sdp.c \
	src/sip/sdp_line.c \
	src/sip/sdp_attr.c \
	src/sip/sdp_build.c
# dialogs (RFC 3261 12): table and timers, message handling, BYE builder
SIP_SRCS += src/sip/dialog.c src/sip/dialog_msg.c src/sip/dialog_bye.c
# a dialog rebuilt from another instance's snapshot (issue 9)
SIP_SRCS += src/sip/dialog_snap.c
SIP_SRCS += src/sip/txn.c
SIP_SRCS += src/sip/txn_server.c
SIP_SRCS += src/sip/txn_client.c
# DTLS-SRTP SDP attributes (RFC 8122 fingerprint, RFC 4145 setup, RFC 8842)
SIP_SRCS += src/sip/sdp_dtls.c
# SDES keys of a=crypto (RFC 4568) for SRTP termination
SIP_SRCS += src/sip/sdp_crypto.c
