# Fuzz target of the dialog table: hostile message sequences.
FUZZ_TARGETS += dialog
