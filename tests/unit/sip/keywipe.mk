# SDES keys wiped from the SIP copies that carried them (txn layer).
UNIT_TESTS += sip/test_keywipe
