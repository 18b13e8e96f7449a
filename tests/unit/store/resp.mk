# Commands written in Redis' protocol (store_resp.c), byte for byte, and
# the IPv4 text written by hand on the same per-call path (core/addr.c).
UNIT_TESTS += store/test_store_resp
