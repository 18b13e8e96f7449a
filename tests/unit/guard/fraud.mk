# Unit tests of toll-fraud protection: the dial plan (number
# normalisation, rules) and the fraud module (limits, anomaly rules).
UNIT_TESTS += guard/test_dialplan guard/test_fraud
