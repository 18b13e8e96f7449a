# Fuzz target of toll-fraud number normalisation and dial rules.
FUZZ_TARGETS += dialplan
