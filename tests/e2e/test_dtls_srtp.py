"""
Issue 7, DTLS-SRTP on a leg (media/dtls_leg.c, media/dtls_sdp.c), end to
end: sipguard terminates DTLS-SRTP on the untrusted leg with its own
certificate and speaks plain RTP to the PBX side.

- The DTLS endpoint is tests/e2e/dtls_peer (sipguard's engine over a
  socket, SRTP with libsrtp2): it offers UDP/TLS/RTP/SAVP, actpass; the
  plain callee (sipp) gets RTP/AVP without DTLS attributes; sipguard
  answers a=setup:active with the fingerprint of its configured
  certificate, runs the handshake as client from the relay port, and
  relays SRTP <-> RTP both ways.
- A fingerprint that is not the caller's certificate: the handshake
  fails, a dtls-handshake event says why, no media passes.
- baresip (Debian, dtls_srtp module) calls through sipguard and
  Kamailio (the stand-in PBX) a plain baresip: both hear the other's
  tone, and a capture shows no clear RTP on the untrusted side.
Ports: SIP 36500-36699, RTP peers 36700-36799, relay 45000-45999.
"""
import os
import re
import signal
import subprocess
import time

import pytest

from conftest import BIN
from confparts import SIP_T1_FAST, log_files, media, zones
from encpeers import (TCPDUMP, start_capture, untrusted_media,
                      Baresip, callee_invite, events, media_callee,
                      pcap_udp, records, wait_for)
from peers import Kamailio, _stop
from rtpua import RtpPeer, Uac, rtp_packet, sdp_of

IP, IN_IP = "127.0.0.1", "127.0.0.2"
SG_OUT, SG_IN = 36560, 36570
UAS, UAC, UAC_RTP, UAS_RTP, SIPP_MP = 36580, 36600, 36710, 36720, 36730
PBX = 36590
PEER = os.path.join(os.path.dirname(BIN), "tests/e2e/dtls_peer")
# The default relay backend (io_uring) unless SIPGUARD_MEDIA_IO names
# one; test_dtls_caller_to_plain_callee also runs pinned to epoll.
MEDIA_IO = os.environ.get("SIPGUARD_MEDIA_IO", "")
BARESIP = "/usr/bin/baresip"


def config(tmpdir, backend, certdir, internet_kx="dtls", pbx_srtp='"off"',
           pbx_kx="any", io=None):
    io = io or MEDIA_IO
    return (log_files(tmpdir) + SIP_T1_FAST +
            media(45000, 45999, """  dtls_certificate: %(c)s/dtls.pem
  dtls_key: %(c)s/dtls.key
  dtls_handshake_timeout: 5s
""" % {"c": certdir} + ("  io: %s\n" % io if io else "")) +
            zones(IP, SG_OUT, backend, IN_IP, SG_IN,
                  internet="    srtp: required\n"
                           "    srtp_key_exchange: %s\n" % internet_kx,
                  pbx="    srtp: %s\n    srtp_key_exchange: %s\n" % (
                      pbx_srtp, pbx_kx)))


@pytest.fixture(scope="module")
def dtls_cert(tmp_path_factory):
    """sipguard's DTLS certificate (ECDSA P-256) and its fingerprint."""
    d = str(tmp_path_factory.mktemp("dtlscert"))
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                    "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", d + "/dtls.key", "-out", d + "/dtls.pem",
                    "-days", "2", "-subj", "/CN=sipguard"],
                   check=True, capture_output=True)
    out = subprocess.run(["openssl", "x509", "-in", d + "/dtls.pem",
                          "-noout", "-fingerprint", "-sha256"],
                         check=True, capture_output=True, text=True).stdout
    return d, "sha-256 " + out.strip().split("=", 1)[1]


def callee(scenario="uas_media.xml"):
    return media_callee(IP, UAS, UAS_RTP, SIPP_MP, scenario)


def dtls_sdp(fp, setup="actpass", proto="UDP/TLS/RTP/SAVP"):
    return ("v=0\no=alice 42 1 IN IP4 %s\ns=-\nc=IN IP4 %s\nt=0 0\n"
            "a=fingerprint:sha-1 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:"
            "EE:FF:00:11:22:33\n"
            "m=audio %d %s 0\na=rtpmap:0 PCMU/8000\n"
            "a=fingerprint:%s\na=setup:%s\na=rtcp-mux\n"
            "a=ice-ufrag:abcd\na=ice-pwd:0123456789abcdef012345\n"
            % (IP, IP, UAC_RTP, proto, fp, setup)).replace("\n", "\r\n")


def start_peer(sg_fp, srtp_ms):
    """dtls_peer as DTLS server on the caller's RTP port (we offer
    actpass, sipguard answers active)."""
    p = subprocess.Popen([PEER, "server", str(UAC_RTP), "0", sg_fp, "0",
                          "8000", str(srtp_ms)],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True)
    line = p.stdout.readline()
    assert line.startswith("fingerprint "), line
    return p, line.split(" ", 1)[1].strip()


def finish(p, timeout=20):
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, _ = p.communicate()
    return out


need_peer = pytest.mark.skipif(not os.path.exists(PEER),
                               reason="make tests/e2e/dtls_peer first")


@need_peer
@pytest.mark.parametrize("io", ["", "epoll"])
def test_dtls_caller_to_plain_callee(sipguard, tmp_path, dtls_cert, io):
    tmpdir = str(tmp_path)
    certdir, sg_fp = dtls_cert
    b = RtpPeer(IP, UAS_RTP)
    sipguard(config(tmpdir, "udp:%s:%d" % (IP, UAS), certdir, io=io))
    uas = callee()
    time.sleep(0.3)
    peer, peer_fp = start_peer(sg_fp, 3000)
    uac = Uac(IP, UAC, (IP, SG_OUT), UAC_RTP)
    uac.invite(dtls_sdp(peer_fp))
    try:
        code, raw, _ = uac.wait_final()
        assert code == 200, uac.log
        uac.ack()
        ans = sdp_of(raw)
        body = ans["body"]
        # Our answer: DTLS with sipguard's certificate, active to actpass;
        # nothing of the callee's (it has none) and no ICE.
        assert "m=audio %d UDP/TLS/RTP/SAVP 0" % ans["port"] in body, body
        assert body.count("a=fingerprint:") == 1, body
        fp = re.search(r"a=fingerprint:(.+)", body).group(1).strip()
        assert fp.upper() == sg_fp.upper(), (fp, sg_fp)
        assert "a=setup:active" in body and "ice-" not in body, body
        assert "crypto" not in body
        # The callee: plain RTP/AVP, no DTLS attribute, no fingerprint.
        inv = wait_for(lambda: callee_invite(uas))
        assert inv and "RTP/AVP 0" in inv, inv
        for w in ("fingerprint", "setup:", "UDP/TLS", "SAVP", "ice-"):
            assert w not in inv, (w, inv)
        relay_b = (IN_IP, sdp_of(inv.replace("\n", "\r\n") + "\r\n")
                   ["port"])
        # The callee talks plain RTP while the peer sends SRTP for 3 s.
        time.sleep(0.5)
        sent = b.send(relay_b, 100, gap=0.02)
        got = [d for d, _ in b.recv_all(timeout=1.0)]
        out = finish(peer)
        assert "failed" not in out, out
        m = re.search(r"^srtp sent (\d+) ok (\d+) bad (\d+)$", out, re.M)
        assert m, out
        psent, ok, bad = map(int, m.groups())
        # Callee -> caller: every plain packet became SRTP that the
        # caller authenticated with its DTLS keys.
        assert ok >= 90 and bad == 0, (out, len(sent))
        # Caller -> callee: its SRTP arrives decrypted (PCMU silence).
        assert len(got) > 50, len(got)
        assert all(d[0] == 0x80 and len(d) == 172 and d[12:] == b"\xff" * 160
                   for d in got), got[:2]
        ev = wait_for(lambda: events(tmpdir, "dtls-srtp"))
        assert ev and ev[0]["zone"] == "internet", ev
        hs = int(re.search(r"in (\d+) ms", ev[0]["reason"]).group(1))
        print("handshake %d ms" % hs)
        assert hs < 1000, hs
        assert uac.bye() == 200
    finally:
        if peer.poll() is None:
            peer.kill()
        uas.stop()
        uac.close()
        b.close()
    rec = wait_for(lambda: [r for r in records(tmpdir)
                            if r.get("kind") == "INVITE"])
    mc = rec[0]["media"][0]["caller"]
    assert mc["packets"] > 50 and mc["srtp_auth_failed"] == 0, mc
    assert not events(tmpdir, "dtls-handshake")


@need_peer
def test_dtls_caller_to_sdes_callee(sipguard, tmp_path, dtls_cert):
    """DTLS <-> SDES bridging: a DTLS-SRTP caller (dtls_peer) to an SDES
    callee (sipp answering a=crypto with a fixed key, pbx zone srtp
    required with SDES keys): the callee gets RTP/SAVP with sipguard's
    a=crypto and nothing of DTLS; SRTP both ways, re-keyed per leg."""
    import srtpy
    from test_srtp import UAS_KEY
    tmpdir = str(tmp_path)
    certdir, sg_fp = dtls_cert
    b = RtpPeer(IP, UAS_RTP)
    sipguard(config(tmpdir, "udp:%s:%d" % (IP, UAS), certdir,
                    pbx_srtp="required", pbx_kx="sdes"))
    uas = callee("uas_srtp.xml")
    time.sleep(0.3)
    peer, peer_fp = start_peer(sg_fp, 3000)
    uac = Uac(IP, UAC, (IP, SG_OUT), UAC_RTP)
    uac.invite(dtls_sdp(peer_fp))
    try:
        code, raw, _ = uac.wait_final()
        assert code == 200, uac.log
        uac.ack()
        body = sdp_of(raw)["body"]
        assert "UDP/TLS/RTP/SAVP 0" in body and "crypto" not in body, body
        assert "a=rtcp-mux" in body, body
        inv = wait_for(lambda: callee_invite(uas))
        assert inv and "RTP/SAVP 0" in inv, inv
        for w in ("fingerprint", "setup:", "UDP/TLS", "ice-"):
            assert w not in inv, (w, inv)
        offered = srtpy.parse_crypto(inv)
        assert offered and offered[0][:2] == (1, "AES_CM_128_HMAC_SHA1_80")
        relay_b = (IN_IP, sdp_of(inv.replace("\n", "\r\n") + "\r\n")
                   ["port"])
        b_tx, b_rx = srtpy.Srtp(UAS_KEY, True), srtpy.Srtp(offered[0][2],
                                                          False)
        time.sleep(0.5)
        for i in range(1, 101):
            b.rtp.sendto(b_tx.protect(rtp_packet(i, i * 160, 0x7373,
                                                 b"\xff" * 160)), relay_b)
            time.sleep(0.02)
        got = [d for d, _ in b.recv_all(timeout=1.0)]
        out = finish(peer)
        assert "failed" not in out, out
        m = re.search(r"^srtp sent (\d+) ok (\d+) bad (\d+)$", out, re.M)
        assert m, out
        _, ok, bad = map(int, m.groups())
        # Callee (SDES) -> caller (DTLS keys): authenticated there.
        assert ok >= 50 and bad == 0, out
        # Caller -> callee: re-encrypted under the callee's SDES key.
        dec = [b_rx.unprotect(d) for d in got]
        assert len(dec) > 50, len(dec)
        assert all(d[0] == 0x80 and d[12:] == b"\xff" * 160
                   for d in dec), dec[:2]
        assert uac.bye() == 200
    finally:
        if peer.poll() is None:
            peer.kill()
        uas.stop()
        uac.close()
        b.close()


@need_peer
def test_dtls_wrong_fingerprint_fails_media(sipguard, tmp_path, dtls_cert):
    tmpdir = str(tmp_path)
    certdir, sg_fp = dtls_cert
    b = RtpPeer(IP, UAS_RTP)
    sipguard(config(tmpdir, "udp:%s:%d" % (IP, UAS), certdir))
    uas = callee()
    time.sleep(0.3)
    peer, peer_fp = start_peer(sg_fp, 1000)
    bogus = "sha-256 " + ":".join("%02X" % x for x in os.urandom(32))
    uac = Uac(IP, UAC + 1, (IP, SG_OUT), UAC_RTP)
    uac.invite(dtls_sdp(bogus))
    try:
        code, raw, _ = uac.wait_final()
        assert code == 200, uac.log
        uac.ack()
        ev = wait_for(lambda: events(tmpdir, "dtls-handshake"), 8)
        assert ev, open(os.path.join(tmpdir, "events.json")).read()
        assert "does not match a=fingerprint" in ev[0]["reason"], ev
        assert ev[0]["zone"] == "internet"
        out = finish(peer)
        assert "failed" in out, out
        # The stream is closed: nothing reaches the callee.
        inv = callee_invite(uas)
        relay_b = (IN_IP, sdp_of(inv.replace("\n", "\r\n") + "\r\n")
                   ["port"])
        b.send(relay_b, 10)
        assert not events(tmpdir, "dtls-srtp")
        uac.bye()
    finally:
        if peer.poll() is None:
            peer.kill()
        uas.stop()
        uac.close()
        b.close()


def test_dtls_offer_on_sdes_zone_gets_488(sipguard, tmp_path, dtls_cert):
    tmpdir = str(tmp_path)
    certdir, sg_fp = dtls_cert
    sipguard(config(tmpdir, "udp:%s:%d" % (IP, UAS), certdir,
                    internet_kx="sdes"))
    uac = Uac(IP, UAC + 2, (IP, SG_OUT), UAC_RTP)
    try:
        uac.invite(dtls_sdp(sg_fp))
        code, _, _ = uac.wait_final()
        assert code == 488, uac.log
        uac.ack_error()
    finally:
        uac.close()
    ev = wait_for(lambda: events(tmpdir, "srtp-negotiation"))
    assert ev and "SDES keys only" in ev[0]["reason"], ev


# ------------------------------------------------------------- baresip

USERS = {"alice": (36620, 36625, 36740, 1000),
         "bob": (36640, 36645, 36760, 600)}


@pytest.mark.skipif(not os.path.exists(BARESIP), reason="no baresip")
@pytest.mark.skipif(not os.path.exists(TCPDUMP) or os.geteuid() != 0,
                    reason="tcpdump as root needed for the capture")
@pytest.mark.parametrize("dtls_calls", [True, False],
                         ids=["dtls-caller", "dtls-callee"])
def test_baresip_dtls_srtp_to_plain_phone(sipguard, tmp_path, dtls_cert,
                                          dtls_calls):
    """alice (DTLS-SRTP, registered through sipguard) and bob (plain,
    registered at the PBX) call each other: dtls-caller, alice offers
    UDP/TLS/RTP/SAVPF; dtls-callee, the PBX's plain offer reaches alice
    as UDP/TLS/RTP/SAVP with sipguard's fingerprint and actpass."""
    from test_media_baresip import tone_share
    tmpdir = str(tmp_path)
    certdir, _ = dtls_cert
    sg = sipguard(config(tmpdir, "udp:%s:%d" % (IP, PBX), certdir))
    cap = os.path.join(tmpdir, "lo.pcap")
    dump = start_capture(cap, (36740, 36749), (36760, 36769))
    kam = Kamailio(IP, PBX, uas="%s:%d" % (IP, PBX + 1))
    phones = []
    try:
        alice = Baresip(
            IP, USERS["alice"], "alice", tmpdir,
            "<sip:alice@example.com>;auth_pass=secret;"
            "outbound=\"sip:%s:%d\";regint=300;"
            "answermode=auto;audio_codecs=PCMU;mediaenc=dtls_srtp"
            % (IP, SG_OUT),
            # sipguard's DTLS legs require rtcp-mux (RFC 5764 4.1: one
            # association per leg); baresip offers it only when told.
            "module dtls_srtp.so\nrtcp_mux yes\n")
        # bob as the caller: no outbound proxy (its preloaded Route
        # would survive the stand-in PBX), the PBX is its domain.
        bob = Baresip(
            IP, USERS["bob"], "bob", tmpdir,
            ("<sip:bob@example.com>;auth_pass=secret;"
             "outbound=\"sip:%s:%d\";regint=300;answermode=auto;"
             "audio_codecs=PCMU" % (IP, PBX)) if dtls_calls else
            ("<sip:bob@%s:%d>;auth_pass=secret;regint=300;"
             "answermode=auto;audio_codecs=PCMU" % (IP, PBX)))
        phones = [alice, bob]
        for p in phones:
            assert wait_for(lambda p=p: "200 OK" in p.text() and
                            "binding" in p.text(), 10), p.text()
        t0 = time.time()
        caller, callee = (alice, bob) if dtls_calls else (bob, alice)
        caller.command("dial", "sip:bob@example.com" if dtls_calls else
                       "sip:alice@%s:%d" % (IP, PBX))
        assert wait_for(lambda: "call established" in callee.text().lower(),
                        15), alice.text() + bob.text() + sg.log()
        assert wait_for(lambda: "DTLS-SRTP complete" in alice.text(), 10), \
            alice.text() + sg.log()
        print("baresip: dial to DTLS-SRTP complete %.0f ms"
              % ((time.time() - t0) * 1000))
        time.sleep(3)
        caller.command("hangup")
        time.sleep(1)
    finally:
        for p in phones:
            p.stop()
        kam.stop()
        time.sleep(0.3)
        _stop(dump, signal.SIGTERM)
    atext = alice.text()
    assert "verified sha-256 fingerprint OK" in atext, atext
    rec_b, rec_a = bob.recording(), alice.recording()
    assert rec_b and rec_a, os.listdir(bob.dir) + os.listdir(alice.dir)
    assert tone_share(rec_b, 1000) > 0.5, tone_share(rec_b, 1000)
    assert tone_share(rec_a, 600) > 0.5, tone_share(rec_a, 600)
    pk = pcap_udp(cap)
    untrusted = untrusted_media(pk, (36740, 36749), (36760, 36769))
    rtp = [p for p in untrusted if 128 <= p[0] <= 191 and p[1] & 0x7f == 0]
    assert rtp and all(len(p) in (12 + 160 + 10, 12 + 160 + 4)
                       for p in rtp), set(len(p) for p in rtp)
    recs = [r for r in records(tmpdir) if r.get("kind") == "INVITE"]
    assert recs and recs[0]["media"][0]["caller"]["packets"] > 50, recs
    ev = events(tmpdir, "dtls-srtp")
    assert ev, ev
    print(ev[0]["reason"])
