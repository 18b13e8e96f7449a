# bench/store.mk - one sipguard, store memory vs store redis (issue 9):
#   make bench-store      calls/s and CPU per call of each, and the cost
.PHONY: bench-store
bench-store: deps
	@$(MAKE) --no-print-directory VARIANT=release all
	/usr/bin/python3 bench/bench_store.py \
		--sipguard $(BUILD_ROOT)/release/sipguard
