# Fuzz target of the SDES key-line finder and masker (core/keyline.c).
FUZZ_TARGETS += keyline
