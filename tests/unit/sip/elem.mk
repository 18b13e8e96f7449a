# SIP element parsers: URI, params, name-addr, Via, small headers, Digest.
UNIT_TESTS += sip/test_uri sip/test_params sip/test_nameaddr sip/test_via \
	sip/test_hparse sip/test_digest
