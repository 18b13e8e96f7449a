# Fuzz target of the media relay's RTP/RTCP parsers and per-packet path.
FUZZ_TARGETS += rtp
