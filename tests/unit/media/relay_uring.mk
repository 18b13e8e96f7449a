# io_uring relay backend (issue 6): real relay thread, loopback sockets.
UNIT_TESTS += media/test_relay_uring
$(BUILD)/tests/unit/media/test_relay_uring: $(BUILD)/tests/unit/media/call_helper.o
