# Fuzz target of the guard's inspect module: fingerprint file parser and
# structural scanner matcher (plus the whole inspect path).
FUZZ_TARGETS += scanner
