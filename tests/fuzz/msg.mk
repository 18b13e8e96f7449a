# Fuzz targets of the SIP message layer: parser and stream framer.
FUZZ_TARGETS += sip_msg frame
