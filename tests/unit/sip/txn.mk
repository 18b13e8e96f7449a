# SIP transactions (RFC 3261 17): server and client machines, matching,
# timers on a fake clock.
UNIT_TESTS += sip/test_txn_client sip/test_txn_server
