# Fuzz target of Redis replies read into store_reply.c's objects.
FUZZ_TARGETS += store_reply
