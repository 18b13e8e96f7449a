# Fuzz target of the call-state policy: media addresses of re-offers and
# Contact ranges (src/guard/dlgpolicy.c).
FUZZ_TARGETS += dlgmedia
