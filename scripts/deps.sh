#!/usr/bin/env bash
# Install the Debian packages sipguard's build, tests and benchmarks need.
# Only what is missing is installed; `apt-get update` runs once, first,
# and only when something is missing.  Both `make run` and `make test`
# call this script.
set -euo pipefail

PKGS=(
	build-essential pkg-config
	libyaml-dev            # configuration
	libssl-dev             # OpenSSL: Digest hashes, HMAC nonces, randomness, TLS
	openssl                # the TLS tests make their certificates with it
	libcmocka-dev          # unit tests
	libpcre2-dev           # PCRE2: dial-plan and IM content regular expressions
	clang libclang-rt-14-dev  # libFuzzer, sanitizers
	clang-format           # make test checks the layout (.clang-format)
	libosip2-dev           # parser benchmark comparison
	kamailio               # proxy benchmark comparison (make bench-proxy)
	python3 python3-pytest # e2e orchestration
	sip-tester             # sipp, a real SIP peer for e2e tests
	sipvicious             # svmap, svwar, svcrack: the guard e2e attackers
	libmicrohttpd-dev      # Prometheus /metrics endpoint (operations)
	libseccomp-dev         # seccomp filter of the running daemon
	liburing-dev           # media relay io_uring backend (media: io: uring)
	sngrep                 # HEP listener of the HEP export e2e test
	procps iproute2
	rtpengine-daemon       # media benchmark comparison (make bench-media)
	baresip                # media e2e: two softphones with a tone
	gnutls-bin             # DTLS-SRTP interop e2e: a second DTLS stack
	libhiredis-dev redis-server  # store: shared state (issue 9), e2e Redis
	libjansson-dev         # JSON requests and answers of the control socket (issue 8)
	chromium nodejs npm    # dashboard e2e: headless chromium driven by playwright-core (npm ci in tests/e2e/dash)
	libsrtp2-dev tcpdump   # SRTP termination (issue 7); e2e capture of the untrusted side
	libbpf-dev linux-libc-dev  # media kernel fast path (media.kernel): libbpf, BPF uapi; clang above compiles it
)

missing=()
for p in "${PKGS[@]}"; do
	# A Node.js from another archive (NodeSource's nodejs bundles npm and
	# conflicts with Debian's npm package) serves as well as Debian's.
	case "$p" in
	nodejs) command -v node >/dev/null && continue ;;
	npm) command -v npm >/dev/null && continue ;;
	esac
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		grep -q "install ok installed"; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing packages: ${missing[*]} (run as root)" >&2
	exit 1
fi
echo "deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y --no-install-recommends "${missing[@]}"
