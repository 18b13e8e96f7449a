# Fuzz target of topology hiding: sealed tokens, the inbound mapping and
# the outbound rewrites on hostile messages (src/proxy/topo*.c).
FUZZ_TARGETS += topo
