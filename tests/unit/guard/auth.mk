# Unit tests of the auth module (local Digest, credentials, brute force,
# pass-through).
UNIT_TESTS += guard/test_creds guard/test_authfail guard/test_auth \
	guard/test_passthru
