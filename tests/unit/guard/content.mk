# Unit tests of IM content security and presence privacy (im.c,
# im_text.c, presence.c, pidf.c, their wiring in guard.c).
UNIT_TESTS += guard/test_im guard/test_presence
