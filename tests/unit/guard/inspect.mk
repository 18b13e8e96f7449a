# Unit tests of the guard's inspect module (rates, scanners, overload).
UNIT_TESTS += guard/test_inspect guard/test_scanner
