# SIP message layer: methods, header names, message parser, RFC 4475 /
# RFC 5118 torture tests, stream framer, multipart, builder.
UNIT_TESTS += sip/test_method sip/test_hdr sip/test_msg sip/test_torture \
	sip/test_frame sip/test_multipart sip/test_build
