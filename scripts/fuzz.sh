#!/usr/bin/env bash
# Run each libFuzzer target for SECONDS, starting from (and adding to) its
# committed corpus.  Crashes land in tests/fuzz/crashes/<target>/; copy a
# minimised crash into tests/fuzz/corpus/<target>/ once it is fixed, so the
# normal test run replays it.
#   usage: fuzz.sh BUILD_DIR SECONDS TARGET...
set -u
cd "$(dirname "$0")/.."
dir=$1 secs=$2; shift 2
rc=0
for t in "$@"; do
	mkdir -p "tests/fuzz/corpus/$t" "tests/fuzz/crashes/$t"
	dict=; [ -f "tests/fuzz/$t.dict" ] && dict="-dict=tests/fuzz/$t.dict"
	echo "== fuzz $t for ${secs}s"
	"$dir/tests/fuzz/fuzz_$t" $dict -max_total_time="$secs" \
		-max_len=70000 -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="tests/fuzz/crashes/$t/" \
		"tests/fuzz/corpus/$t" 2>&1 | grep -E '^(#[0-9]+ *DONE|==|SUMMARY|INFO: .*corpus)' || true
	if ls "tests/fuzz/crashes/$t"/* >/dev/null 2>&1; then
		echo "fuzz $t: CRASH, see tests/fuzz/crashes/$t/"; rc=1
	fi
done
exit $rc
