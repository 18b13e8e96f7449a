"""
DTLS-SRTP interop (issue 7): sipguard's engine (media/dtls.c, run over a
UDP socket by tests/e2e/dtls_peer.c) against DTLS stacks we did not
write: OpenSSL's `openssl s_client` / `s_server`, GnuTLS's
`gnutls-cli` / `gnutls-serv` (no code shared with OpenSSL), and baresip's
dtls_srtp module in a real call, with SRTP both ways (libsrtp2).

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


# baresip (Debian's, dtls_srtp module, libre's DTLS): it calls a tiny
# UAS here that answers with our engine's fingerprint and a=setup:active
# (what sipguard answers to actpass).  After the handshake dtls_peer
# exchanges SRTP with baresip for a while: packets from baresip must
# authenticate with the keys our engine exported (libsrtp2).
BARESIP = "/usr/bin/baresip"
need_baresip = pytest.mark.skipif(not os.path.exists(BARESIP),
                                  reason="baresip not installed")
# baresip also listens on SIP TCP/TLS at B_SIP and B_SIP + 1
B_SIP, B_CTRL, B_RTP, UAS = 36630, 36640, 36620, 36600


def baresip_start(d):
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config"), "w") as f:
        f.write("poll_method epoll\nsip_listen 127.0.0.1:%d\n"
                "audio_player aubridge,nowhere\naudio_alert aubridge,nowhere\n"
                "audio_source ausine,800\n"
                "ausrc_srate 48000\nausrc_channels 2\n"
                "auplay_srate 48000\nauplay_channels 2\n"
                "module_path /usr/lib/baresip/modules\n"
                "module g711.so\nmodule ausine.so\nmodule aubridge.so\n"
                "module dtls_srtp.so\nmodule ctrl_tcp.so\n"
                "module_app account.so\nmodule_app menu.so\n"
                "ctrl_tcp_listen 127.0.0.1:%d\nrtp_ports %d-%d\n"
                % (B_SIP, B_CTRL, B_RTP, B_RTP + 9))
    with open(os.path.join(d, "accounts"), "w") as f:
        f.write("<sip:alice@127.0.0.1>;regint=0;mediaenc=dtls_srtp;"
                "audio_codecs=PCMU\n")
    log = open(os.path.join(d, "out.log"), "wb")
    return subprocess.Popen([BARESIP, "-f", d], stdout=log,
                            stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL), log


def baresip_cmd(cmd, params=""):
    import json
    import socket
    msg = json.dumps({"command": cmd, "params": params,
                      "token": "t"}).encode()
    for _ in range(50):
        try:
            with socket.create_connection(("127.0.0.1", B_CTRL),
                                          timeout=2) as s:
                s.sendall(b"%d:%s," % (len(msg), msg))
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("baresip ctrl_tcp not reachable")


def sip_hdrs(msg, name):
    return [l.split(":", 1)[1].strip() for l in msg.split("\r\n")
            if l.lower().startswith(name.lower() + ":")]


def answer_200(inv, sdp):
    lines = inv.split("\r\n")
    out = ["SIP/2.0 200 OK"]
    for l in lines[1:]:
        name = l.split(":", 1)[0].strip().lower()
        if name in ("via", "from", "call-id", "cseq"):
            out.append(l)
        elif name == "to":
            out.append(l + ";tag=dtlsuas")
    out += ["Contact: <sip:uas@127.0.0.1:%d>" % UAS,
            "Content-Type: application/sdp",
            "Content-Length: %d" % len(sdp), "", ""]
    return ("\r\n".join(out) + sdp).encode()


@need_baresip
def test_baresip_dtls_srtp(peer_bin, tmp_path):
    import socket
    uas = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    uas.bind(("127.0.0.1", UAS))
    uas.settimeout(10)
    proc, log = baresip_start(str(tmp_path / "baresip"))
    me = None
    try:
        time.sleep(0.5)
        baresip_cmd("dial", "sip:bob@127.0.0.1:%d" % UAS)
        while True:
            data, src = uas.recvfrom(65535)
            inv = data.decode(errors="replace")
            if inv.startswith("INVITE "):
                break
        offer = inv.split("\r\n\r\n", 1)[1]
        fp = re.search(r"a=fingerprint:(.+)", offer).group(1).strip()
        setup = re.search(r"a=setup:(\w+)", offer).group(1)
        m = re.search(r"m=audio (\d+) (\S+)", offer)
        bport, proto = int(m.group(1)), m.group(2)
        assert setup == "actpass" and proto.startswith("UDP/TLS/RTP/SAVP"), \
            offer
        # srtp-ms 2500: SRTP both ways after the handshake
        me = subprocess.Popen([peer_bin, "client", str(UAS + 1), str(bport),
                               fp, "0", "8000", "2500"],
                              stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
        ours = me.stdout.readline().split(" ", 1)[1].strip()
        sdp = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\n"
               "c=IN IP4 127.0.0.1\r\nt=0 0\r\n"
               "m=audio %d %s 0\r\na=rtpmap:0 PCMU/8000\r\n"
               "a=fingerprint:%s\r\na=setup:active\r\na=sendrecv\r\n"
               % (UAS + 1, proto, ours))
        uas.sendto(answer_200(inv, sdp), src)
        out = finish(me, timeout=15)
    finally:
        if me and me.poll() is None:
            me.kill()
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        uas.close()
    blog = open(str(tmp_path / "baresip" / "out.log"),
                errors="replace").read()
    profile, km, failed = our_result(out)
    assert failed is None, out + blog
    assert profile, out + blog
    s = re.search(r"^srtp sent (\d+) ok (\d+) bad (\d+)$", out, re.M)
    assert s, out + blog
    sent, ok, bad = map(int, s.groups())
    assert sent > 50 and ok > 20 and bad == 0, out + blog
    # baresip's side: our certificate matched the a=fingerprint we gave,
    # and our SRTP passed its libsrtp check (it latches on valid media).
    assert "verified sha-256 fingerprint OK" in blog, blog
    assert "DTLS-SRTP complete" in blog, blog
    assert "incoming rtp for 'audio' established" in blog, blog
