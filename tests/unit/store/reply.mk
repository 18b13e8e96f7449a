# hiredis' reply objects from our free list (store_reply.c).
UNIT_TESTS += store/test_store_reply
