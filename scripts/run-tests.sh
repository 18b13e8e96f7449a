#!/usr/bin/env bash
# Run sipguard's test suite and print one closing line the CI can read:
#   N passed, N failed
#
#   --unit DIR    run every cmocka binary under DIR/tests/unit
#   --replay DIR  replay the committed fuzz corpus with DIR/tests/fuzz/replay_*
#   --e2e DIR     run the pytest end-to-end suite against DIR/sipguard
#   --format      check every tracked .c/.h against .clang-format (one test)
#   --clang       every source through clang's warnings (make check-clang, one test)
#
# Every binary runs under a timeout; a hang or crash counts as a failure.
set -u
cd "$(dirname "$0")/.."

unit_dir= replay_dir= e2e_dir= format= clang=
while [ $# -gt 0 ]; do
	case "$1" in
	--unit) unit_dir=$2; shift 2 ;;
	--replay) replay_dir=$2; shift 2 ;;
	--e2e) e2e_dir=$2; shift 2 ;;
	--format) format=1; shift ;;
	--clang) clang=1; shift ;;
	*) echo "usage: $0 [--unit DIR] [--replay DIR] [--e2e DIR] [--format] [--clang]" >&2; exit 2 ;;
	esac
done

passed=0 failed=0
failures=()
log=$(mktemp -d)
# The unit and e2e tests listen on fixed ports inside the ephemeral
# range: reserved for the whole run (scripts/reserve-ports.sh), released
# on every way out (an interrupt ends the script through the EXIT trap).
scripts/reserve-ports.sh acquire $$
trap 'scripts/reserve-ports.sh release $$; rm -rf "$log"' EXIT
trap 'exit 130' INT TERM HUP

run_cmocka() {
	local bin=$1 name out p f rc
	name=${bin#"$unit_dir"/tests/unit/}
	out="$log/$(echo "$name" | tr / _).out"
	timeout -k 5 120 "$bin" >"$out" 2>&1
	rc=$?
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -1)
	p=${p:-0} f=${f:-0}
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1	# crashed, hung or leaked: one failure at least
	fi
	passed=$((passed + p)) failed=$((failed + f))
	if [ "$f" -ne 0 ]; then
		failures+=("unit $name (rc=$rc)")
		echo "---- $name"; cat "$out"
	fi
	printf '  %-32s %3d passed, %d failed\n' "$name" "$p" "$f"
}

# STYLE.md: the formatter config in the repository settles the layout.
if [ -n "$format" ] && git rev-parse --git-dir >/dev/null 2>&1; then
	echo "== format (clang-format, .clang-format)"
	out="$log/format.out"
	if clang-format --dry-run --Werror $(git ls-files '*.c' '*.h') \
		>"$out" 2>&1; then
		passed=$((passed + 1))
		echo "  every tracked .c/.h file is formatted"
	else
		failed=$((failed + 1)); failures+=("format (make format)")
		grep -o '^[^:]*\.[ch]:' "$out" | sort -u | head -20
	fi
fi

# The fuzz variant is built by clang, whose warnings differ from gcc's.
if [ -n "$clang" ]; then
	echo "== clang warnings (make check-clang)"
	out="$log/clang.out"
	if make --no-print-directory check-clang >"$out" 2>&1; then
		passed=$((passed + 1))
		echo "  every source passes clang -Werror"
	else
		failed=$((failed + 1)); failures+=("clang warnings (make check-clang)")
		grep -E 'error|warning' "$out" | head -20
	fi
fi

if [ -n "$unit_dir" ]; then
	echo "== unit tests ($unit_dir)"
	for bin in $(find "$unit_dir/tests/unit" -type f -perm -u+x ! -name '*.d' | sort); do
		run_cmocka "$bin"
	done
fi

if [ -n "$replay_dir" ]; then
	echo "== fuzz corpus replay ($replay_dir)"
	for bin in $(find "$replay_dir/tests/fuzz" -name 'replay_*' ! -name '*.d' -type f | sort); do
		t=${bin##*/replay_}
		out="$log/replay_$t.out"
		if timeout -k 5 300 "$bin" "tests/fuzz/corpus/$t" >"$out" 2>&1; then
			passed=$((passed + 1))
			printf '  %-32s %s\n' "$t" "$(tail -1 "$out")"
		else
			failed=$((failed + 1)); failures+=("replay $t")
			echo "---- replay $t"; tail -40 "$out"
		fi
	done
fi

if [ -n "$e2e_dir" ] && [ -d tests/e2e ] &&
	ls tests/e2e/test_*.py >/dev/null 2>&1; then
	echo "== end-to-end tests"
	out="$log/e2e.out"
	SIPGUARD_BIN="$PWD/$e2e_dir/sipguard" timeout -k 10 1500 \
		/usr/bin/python3 -m pytest -q -p no:cacheprovider --durations=20 tests/e2e \
		2>&1 | tee "$out"
	p=$(grep -Eo '[0-9]+ passed' "$out" | tail -1 | grep -Eo '[0-9]+')
	f=$(grep -Eo '[0-9]+ (failed|errors?)' "$out" | tail -2 |
		awk '{s += $1} END {print s + 0}')
	p=${p:-0} f=${f:-0}
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
		f=1; failures+=("e2e: pytest ran nothing")
	fi
	[ "$f" -ne 0 ] && failures+=("e2e")
	passed=$((passed + p)) failed=$((failed + f))
fi

for x in "${failures[@]}"; do echo "FAILED: $x"; done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
