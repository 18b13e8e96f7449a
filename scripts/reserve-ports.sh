#!/usr/bin/env bash
# Keep the tests' fixed ports out of Linux's ephemeral range while any
# test run needs them, and put the setting back when the last one ends.
#
#   reserve-ports.sh acquire PID   PID's run needs the ports
#   reserve-ports.sh release PID   it is done
#
# The unit tests (redis-server on 34380, 37902, 38401, ...) and the e2e
# tests (25060-49999) listen on fixed ports inside
# the ephemeral range (32768-60999): an outgoing connection of another
# test (a Redis client, sipp over TCP) could take one as its local port
# and make a listener's bind fail with EADDRINUSE.
# net.ipv4.ip_local_reserved_ports keeps 25000-49999 off the kernel's
# choice.  Several runs may overlap (make test's run, an e2e file run by
# hand under pytest, another worktree's): the value before the first is
# saved once, each run registers its pid, and the release that leaves no
# live run restores the saved value, so no run takes the reservation
# from another and none leaves it behind.  Without root (or without the
# sysctl) it does nothing and exits 0: the tests run as before.
set -u
RESERVED=${SG_PORTS_SYSCTL:-/proc/sys/net/ipv4/ip_local_reserved_ports}
TEST_PORTS=25000-49999
STATE=${SG_PORTS_STATE:-/tmp/sipguard-reserved-ports}

op=${1:-} pid=${2:-}
case "$op" in acquire | release) ;; *) op= ;; esac
if [ -z "$op" ] || ! [ "$pid" -gt 0 ] 2>/dev/null; then
	echo "usage: $0 acquire|release PID" >&2
	exit 2
fi
[ -w "$RESERVED" ] || exit 0
mkdir -p "$STATE/runs" 2>/dev/null || exit 0

# Runs whose process is gone (killed before their release) count no more.
prune() {
	local f
	for f in "$STATE"/runs/*; do
		[ -e "$f" ] || continue
		kill -0 "${f##*/}" 2>/dev/null || rm -f "$f"
	done
}

live_runs() {
	ls -A "$STATE/runs" 2>/dev/null | wc -l
}

(
	flock 9
	prune
	if [ "$op" = acquire ]; then
		if [ "$(live_runs)" -eq 0 ]; then
			# A run that reserved the range without this script
			# (an older conftest.py) would have it kept for good.
			old=$(tr , '\n' <"$RESERVED" | grep -vx "$TEST_PORTS" |
				paste -sd,)
			echo "$old" >"$STATE/saved" || exit 0
			echo "${old:+$old,}$TEST_PORTS" >"$RESERVED" 2>/dev/null ||
				exit 0
		fi
		: >"$STATE/runs/$pid"
	else
		rm -f "$STATE/runs/$pid"
		if [ "$(live_runs)" -eq 0 ] && [ -f "$STATE/saved" ]; then
			old=$(cat "$STATE/saved")
			echo "${old:-}" >"$RESERVED" 2>/dev/null
			rm -f "$STATE/saved"
		fi
	fi
) 9>"$STATE/lock"
exit 0
