# Kernel fast path of the media relay (media.kernel, issue 6): the BPF
# program on loopback with a real relay thread (skipped without BPF).
UNIT_TESTS += media/test_kfast
$(BUILD)/tests/unit/media/test_kfast: $(BUILD)/tests/unit/media/call_helper.o
