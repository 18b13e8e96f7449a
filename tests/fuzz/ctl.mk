# Fuzz target of the control protocol: JSON request lines (jansson
# underneath), the encoder round trip, addresses, durations and the
# follower filter (src/ctl/ctlproto.c, subq.c).
FUZZ_TARGETS += ctlproto
