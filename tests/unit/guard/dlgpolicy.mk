UNIT_TESTS += guard/test_dlgpolicy
