# SIP dialogs: lifecycles, forks, timers, BYE builder, memory per dialog.
UNIT_TESTS += sip/test_dialog
