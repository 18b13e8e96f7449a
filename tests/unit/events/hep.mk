# operations: HEPv3 export (issue 8)
UNIT_TESTS += events/test_hep
