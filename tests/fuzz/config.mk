FUZZ_TARGETS += config
