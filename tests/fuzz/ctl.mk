# Fuzz target of the control protocol: request lines, durations and the
# JSON answer reader (src/ctl/ctlproto.c).
FUZZ_TARGETS += ctlproto
