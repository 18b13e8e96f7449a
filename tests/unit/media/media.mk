# media layer (issue 6): RTP/RTCP checks, ports, rings, relay decisions,
# SDP anchoring and the offer/answer state machine.
UNIT_TESTS += media/test_rtp media/test_ports media/test_relay media/test_offer
