# store.tls: the tunnel's private directories, and the ones a killed daemon left.
UNIT_TESTS += store/test_store_tls_dir
