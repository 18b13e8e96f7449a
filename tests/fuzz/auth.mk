# Fuzz targets of the auth module: credentials file, Digest verify path
# and pass-through rewriting.
FUZZ_TARGETS += creds digest_auth
