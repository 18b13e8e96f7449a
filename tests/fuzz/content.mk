# Fuzz targets of IM content security and presence privacy: the URL
# extractor and host matching, the MESSAGE content walk (multipart,
# CPIM), the PIDF scrubber and the choice for a NOTIFY body (PIDF,
# resource lists).
FUZZ_TARGETS += im_url im_content pidf presence_notify
