# Fuzz target of the gate: allow-list CIDRs and ban keys as text.
FUZZ_TARGETS += cidr
