#!/bin/sh
# tls_certs.sh DIR - test certificates for the TLS unit and e2e tests,
# made with the openssl command (EC P-256, 2 days).  In DIR:
#   ca.pem ca.key               the test CA
#   server.pem/.key             server.test, SAN DNS:server.test IP:127.0.0.1
#   other.pem/.key              other.test (SNI; the wrong name)
#   client.pem/.key             client cert trunk1.example (same CA)
#   rogue-ca.pem, rogue.pem/.key  a client cert from an unknown CA
#   expired.pem/.key            server.test, expired yesterday
#   enc.key                     server.key encrypted, password pw-secret
#   garbage.pem                 not a certificate
set -eu
d=$1
mkdir -p "$d"
cd "$d"
o() { openssl "$@" 2>/dev/null; }
key() { o genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }
# leaf NAME CN SAN CA [DAYS]
leaf() {
	key "$1.key"
	o req -new -key "$1.key" -subj "/CN=$2" -out "$1.csr"
	printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\n' "$3" >"$1.ext"
	o x509 -req -in "$1.csr" -CA "$4.pem" -CAkey "$4.key" \
		-CAcreateserial -days "${5:-2}" -extfile "$1.ext" -out "$1.pem"
	rm -f "$1.csr" "$1.ext"
}
ca() {
	key "$1.key"
	o req -x509 -new -key "$1.key" -subj "/CN=$2" -days 2 -out "$1.pem"
}
ca ca "sipguard test CA"
ca rogue-ca "rogue CA"
leaf server server.test "DNS:server.test,IP:127.0.0.1" ca
leaf other other.test "DNS:other.test" ca
leaf client trunk1 "DNS:trunk1.example" ca
leaf rogue trunk1 "DNS:trunk1.example" rogue-ca
leaf expired server.test "DNS:server.test" ca -1
o pkey -in server.key -aes256 -passout pass:pw-secret -out enc.key
echo "not a certificate" >garbage.pem
chmod 600 ./*.key
