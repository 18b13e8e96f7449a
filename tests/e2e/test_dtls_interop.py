"""
DTLS-SRTP interop (issue 7): sipguard's engine (media/dtls.c, run over a
UDP socket by tests/e2e/dtls_peer.c) against DTLS stacks we did not
write: OpenSSL's `openssl s_client` / `s_server`, and GnuTLS's
`gnutls-cli` / `gnutls-serv` (no code shared with OpenSSL).

Each case checks that the handshake completes in both roles for every SRTP
profile and that the keying material our engine hands to SRTP is byte for
byte what OpenSSL's exporter prints (`-keymatexport EXTRACTOR-dtls_srtp`,
RFC 5764 4.2); and that a wrong fingerprint, a peer without a certificate
and a peer without use_srtp are refused with the reason we report.

Ports 36500-36999 only (this file's range); no sipguard daemon is needed.
"""
import os
import re
import subprocess
import time

import pytest

from conftest import BIN, ROOT

PEER = os.path.join(os.path.dirname(BIN), "tests/e2e/dtls_peer")
VARIANT = os.path.basename(os.path.dirname(BIN))

PROFILES = [
    # (openssl name, our name, bit in dtls_ctx_conf.profiles, keymat length)
    ("SRTP_AES128_CM_SHA1_80", "AES128_CM_SHA1_80", 0x1, 60),
    ("SRTP_AES128_CM_SHA1_32", "AES128_CM_SHA1_32", 0x2, 60),
    ("SRTP_AEAD_AES_128_GCM", "AEAD_AES_128_GCM", 0x4, 56),
    ("SRTP_AEAD_AES_256_GCM", "AEAD_AES_256_GCM", 0x8, 88),
]

_port = [36500]


def ports():
    """Two fresh ports of this file's range per case."""
    _port[0] += 2
    assert _port[0] + 1 <= 36999
    return _port[0], _port[0] + 1


@pytest.fixture(scope="module")
def peer_bin():
    if not os.path.exists(PEER):
        subprocess.run(["make", "--no-print-directory", "VARIANT=" + VARIANT,
                        os.path.relpath(PEER, ROOT)], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)
    return PEER


def make_cert(d, kind):
    key, crt = os.path.join(d, kind + ".key"), os.path.join(d, kind + ".pem")
    if not os.path.exists(crt):
        alg = (["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
               if kind == "ec" else ["-newkey", "rsa:2048"])
        subprocess.run(["openssl", "req", "-x509", *alg, "-keyout", key,
                        "-out", crt, "-days", "2", "-nodes", "-subj",
                        "/CN=interop-" + kind], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out = subprocess.run(["openssl", "x509", "-in", crt, "-noout",
                          "-fingerprint", "-sha256"], check=True,
                         capture_output=True, text=True).stdout
    return crt, key, "sha-256 " + out.strip().split("=", 1)[1]


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("dtls"))
    return {k: make_cert(d, k) for k in ("ec", "rsa")}


def run_ours(peer_bin, role, lport, pport, fp, mask=0, timeout_ms=5000):
    return subprocess.Popen([peer_bin, role, str(lport), str(pport), fp,
                             str(mask), str(timeout_ms)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)


def openssl(args):
    # stdin stays open (a pipe) so the tool does not quit at EOF before
    # printing its session; the test closes it.
    return subprocess.Popen(["openssl", *args], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)


def finish(p, timeout=8):
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, _ = p.communicate()
    return out


def stop(p):
    if p.poll() is None:
        p.stdin.close()
        try:
            p.wait(timeout=3)
        except subprocess.TimeoutExpired:
            p.kill()
    return p.stdout.read()


def their_keymat(out):
    m = re.search(r"Keying material: ([0-9A-F]+)", out)
    return m.group(1) if m else None


def our_result(out):
    # An ASan build of the helper reports memory errors and leaks here.
    assert "Sanitizer" not in out, out
    prof = re.search(r"^profile (\S+)$", out, re.M)
    km = re.search(r"^keymat ([0-9A-F]+)$", out, re.M)
    failed = re.search(r"^failed (.*)$", out, re.M)
    return (prof.group(1) if prof else None, km.group(1) if km else None,
            failed.group(1) if failed else None)


def s_server(port, crt, key, profile, kmlen, extra=()):
    args = ["s_server", "-dtls1_2", "-accept", str(port), "-cert", crt,
            "-key", key, "-verify", "1", "-keymatexport",
            "EXTRACTOR-dtls_srtp", "-keymatexportlen", str(kmlen), *extra]
    if profile:
        args += ["-use_srtp", profile]
    p = openssl(args)
    time.sleep(0.3)  # let it bind
    return p


def s_client(port, crt, key, profile, kmlen, extra=()):
    args = ["s_client", "-dtls1_2", "-connect", "127.0.0.1:%d" % port,
            "-keymatexport", "EXTRACTOR-dtls_srtp", "-keymatexportlen",
            str(kmlen), *extra]
    if crt:
        args += ["-cert", crt, "-key", key]
    if profile:
        args += ["-use_srtp", profile]
    return openssl(args)


@pytest.mark.parametrize("prof", PROFILES, ids=[p[1] for p in PROFILES])
def test_we_are_client(peer_bin, certs, prof):
    oname, ours, _, kmlen = prof
    crt, key, fp = certs["ec"]
    a, b = ports()
    srv = s_server(b, crt, key, oname, kmlen)
    me = run_ours(peer_bin, "client", a, b, fp)
    out = finish(me)
    time.sleep(0.3)
    sout = stop(srv)
    profile, km, failed = our_result(out)
    assert failed is None, out
    assert profile == ours
    assert "SRTP Extension negotiated, profile=" + oname in sout, sout
    assert km == their_keymat(sout), (out, sout)
    assert len(km) == 2 * kmlen


@pytest.mark.parametrize("prof", PROFILES, ids=[p[1] for p in PROFILES])
def test_we_are_server(peer_bin, certs, prof):
    oname, ours, _, kmlen = prof
    crt, key, fp = certs["ec"]
    a, b = ports()
    me = run_ours(peer_bin, "server", a, 0, fp)
    time.sleep(0.2)
    cli = s_client(a, crt, key, oname, kmlen)
    out = finish(me)
    cout = stop(cli)
    profile, km, failed = our_result(out)
    assert failed is None, (out, cout)
    assert profile == ours
    assert km == their_keymat(cout), (out, cout)


def test_rsa_peer(peer_bin, certs):
    """A peer with an RSA certificate (ECDHE-RSA suites) as server."""
    crt, key, fp = certs["rsa"]
    a, b = ports()
    srv = s_server(b, crt, key, "SRTP_AES128_CM_SHA1_80", 60)
    out = finish(run_ours(peer_bin, "client", a, b, fp))
    sout = stop(srv)
    assert our_result(out)[1] == their_keymat(sout), (out, sout)


def test_our_preference(peer_bin, certs):
    """The peer offers several profiles: we (server) pick RFC 5764's."""
    crt, key, fp = certs["ec"]
    a, b = ports()
    me = run_ours(peer_bin, "server", a, 0, fp)
    time.sleep(0.2)
    cli = s_client(a, crt, key, "SRTP_AEAD_AES_256_GCM:SRTP_AES128_CM_SHA1_80",
                   60)
    out = finish(me)
    stop(cli)
    assert our_result(out)[0] == "AES128_CM_SHA1_80", out


def test_wrong_fingerprint(peer_bin, certs):
    crt, key, _ = certs["ec"]
    _, _, other = certs["rsa"]
    a, b = ports()
    srv = s_server(b, crt, key, "SRTP_AES128_CM_SHA1_80", 60)
    out = finish(run_ours(peer_bin, "client", a, b, other))
    sout = stop(srv)
    assert our_result(out)[2] == \
        "peer certificate does not match a=fingerprint", out
    assert their_keymat(sout) is None


def test_peer_without_certificate(peer_bin, certs):
    _, _, fp = certs["ec"]
    a, _ = ports()
    me = run_ours(peer_bin, "server", a, 0, fp, timeout_ms=3000)
    time.sleep(0.2)
    cli = s_client(a, None, None, "SRTP_AES128_CM_SHA1_80", 60)
    out = finish(me)
    stop(cli)
    failed = our_result(out)[2]
    assert failed and "certificate" in failed, out


def test_peer_without_use_srtp(peer_bin, certs):
    crt, key, fp = certs["ec"]
    a, b = ports()
    srv = s_server(b, crt, key, None, 60)
    out = finish(run_ours(peer_bin, "client", a, b, fp))
    stop(srv)
    assert our_result(out)[2] == "peer did not negotiate use_srtp", out


def test_no_peer_times_out(peer_bin, certs):
    """Nobody answers: retransmissions, then our handshake timeout."""
    _, _, fp = certs["ec"]
    a, b = ports()
    t0 = time.monotonic()
    out = finish(run_ours(peer_bin, "client", a, b, fp, timeout_ms=2500))
    assert our_result(out)[2] == "handshake timeout", out
    assert 2.4 <= time.monotonic() - t0 < 5


# GnuTLS (gnutls-bin): a DTLS stack that shares no code with OpenSSL.
# 3.7 has the two AES-CM profiles only; gnutls-serv does not print the
# exported keys, so that direction checks the handshake and profile.
GNUTLS_PROFILES = [
    ("SRTP_AES128_CM_HMAC_SHA1_80", "AES128_CM_SHA1_80"),
    ("SRTP_AES128_CM_HMAC_SHA1_32", "AES128_CM_SHA1_32"),
]
need_gnutls = pytest.mark.skipif(
    subprocess.run(["sh", "-c", "command -v gnutls-cli"],
                   capture_output=True).returncode != 0,
    reason="gnutls-bin not installed (scripts/deps.sh installs it)")


@need_gnutls
@pytest.mark.parametrize("prof", GNUTLS_PROFILES, ids=[p[1] for p in
                                                       GNUTLS_PROFILES])
def test_gnutls_client(peer_bin, certs, prof):
    gname, ours = prof
    crt, key, fp = certs["ec"]
    a, _ = ports()
    me = run_ours(peer_bin, "server", a, 0, fp)
    time.sleep(0.2)
    cli = subprocess.Popen(
        ["gnutls-cli", "--udp", "-p", str(a), "127.0.0.1", "--insecure",
         "--x509certfile=" + crt, "--x509keyfile=" + key,
         "--srtp-profiles=" + gname, "--keymatexport=EXTRACTOR-dtls_srtp",
         "--keymatexportsize=60"], stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = finish(me)
    cout = stop(cli)
    profile, km, failed = our_result(out)
    assert failed is None, (out, cout)
    assert profile == ours
    m = re.search(r"Key material: ([0-9a-f]+)", cout)
    assert m and m.group(1).upper() == km, (out, cout)


@need_gnutls
def test_gnutls_server(peer_bin, certs):
    crt, key, fp = certs["ec"]
    a, b = ports()
    srv = subprocess.Popen(
        ["gnutls-serv", "--udp", "-p", str(b), "--x509certfile=" + crt,
         "--x509keyfile=" + key,
         "--srtp-profiles=SRTP_AES128_CM_HMAC_SHA1_32"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    time.sleep(0.5)
    out = finish(run_ours(peer_bin, "client", a, b, fp))
    srv.terminate()
    stop(srv)
    profile, km, failed = our_result(out)
    assert failed is None, out
    assert profile == "AES128_CM_SHA1_32" and len(km) == 120
