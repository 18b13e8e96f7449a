UNIT_TESTS += sip/test_sdp sip/test_sdp_build
