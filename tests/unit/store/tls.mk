# store.tls: the TLS tunnel to Redis, against a real TLS-only
# redis-server on 127.0.0.1:39010 (skipped without redis-server/openssl).
UNIT_TESTS += store/test_store_tls
