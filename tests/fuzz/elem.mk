# Fuzz targets of the SIP element parsers (uri.c, digest.c, via.c,
# nameaddr.c and the small header parsers).
FUZZ_TARGETS += uri digest via nameaddr
