# Fuzz targets of IM content security and presence privacy: the URL
# extractor and host matching, the MESSAGE content walk (multipart,
# CPIM), and the PIDF scrubber.
FUZZ_TARGETS += im_url im_content pidf
