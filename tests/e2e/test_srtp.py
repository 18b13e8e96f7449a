"""
Issue 7 (SRTP, SDES), end to end: sipguard terminates SRTP on the
untrusted leg with keys of its own and speaks plain RTP to the PBX side.

- A Python caller (rtpua.Uac, SRTP through libsrtp2 via ctypes: srtpy.py)
  offers RTP/SAVP with its key to a sipp callee behind the trusted zone:
  the callee sees RTP/AVP and no key; the caller gets sipguard's own key;
  media flows both ways, decrypted/encrypted by the relay; SRTP with a
  bad authentication tag sent to the relay port (from the caller's own
  address, and from an attacker) never reaches the callee and is counted
  and reported.
- The same caller to an SRTP callee (a sipp UAS answering with a fixed
  key): each leg has its own sipguard key, packets are re-encrypted.
- A plain RTP offer on a zone with srtp: required gets 488 and an event.
- baresip (Debian) registers over TLS through sipguard to Kamailio (the
  stand-in PBX) and calls, with mediaenc srtp-mand, a plain-RTP baresip
  registered at Kamailio behind sipguard: each hears the other's tone,
  and a capture of the loopback (tcpdump) shows that no RTP payload of
  the plain side ever crosses the untrusted side in clear.
Ports: SIP/TLS 36000-36499, relay 45000-45999 (this file's ranges).
"""
import json
import os
import signal
import socket
import subprocess
import time
import urllib.request

import pytest

import encpeers
from encpeers import (TCPDUMP, start_capture, untrusted_media,
                      callee_invite, events, media_callee, pcap_udp,
                      peers, plain_rtcp, records, wait_for)  # noqa: F401
from peers import Kamailio, _stop
from rtpua import Uac, rtcp_rr, rtp_packet, sdp_of
import srtpy
from confparts import SIP_T1_FAST, log_files, media, zones

IP, IN_IP, ATTACKER = "127.0.0.1", "127.0.0.2", "127.0.0.66"
SG_OUT, SG_TLS, SG_IN = 36060, 36061, 36070
UAS, UAC, UAC_RTP, UAS_RTP, SIPP_MP = 36080, 36100, 36110, 36120, 36130
PBX = 36090
HTTP = 36150
HERE = os.path.dirname(os.path.abspath(__file__))
CERTS_SH = os.path.join(HERE, "..", "unit", "transport", "tls_certs.sh")
BARESIP = "/usr/bin/baresip"


def config(tmpdir, backend, certs=None, pbx_srtp='"off"'):
    tls_zone = ""
    if certs:
        tls_zone = """  - name: secure
    trust: untrusted
    listen: [ "tls:%(ip)s:%(tls)d" ]
    require_tls: true
    srtp: required
    route:
      backends: [ "%(be)s" ]
    tls:
      certificates: [ "%(c)s/server.pem" ]
      keys: [ "%(c)s/server.key" ]
""" % {"ip": IP, "tls": SG_TLS, "be": backend, "c": certs}
    return (log_files(tmpdir) + SIP_T1_FAST +
            'ops:\n  metrics_listen: "tcp:%s:%d"\n' % (IP, HTTP) +
            media(45000, 45999) +
            zones(IP, SG_OUT, backend, IN_IP, SG_IN,
                  internet="    srtp: required\n",
                  pbx="    srtp: %s\n" % pbx_srtp, between=tls_zone))


def metric(name, **labels):
    """One sample of the /metrics page (None when absent)."""
    with urllib.request.urlopen("http://%s:%d/metrics" % (IP, HTTP),
                                timeout=5) as r:
        text = r.read().decode()
    want = name + ("{%s}" % ",".join('%s="%s"' % kv for kv in
                                     sorted(labels.items()))
                   if labels else "")
    for line in text.splitlines():
        if line.startswith(want + " "):
            return float(line.split()[-1])
    return None


def callee(scenario="uas_media.xml"):
    return media_callee(IP, UAS, UAS_RTP, SIPP_MP, scenario)


def savp_sdp(uac, key):
    return ("v=0\no=alice 42 1 IN IP4 %s\ns=-\nc=IN IP4 %s\nt=0 0\n"
            "m=audio %d RTP/SAVP 0 101\na=rtpmap:0 PCMU/8000\n"
            "a=rtpmap:101 telephone-event/8000\n"
            "a=crypto:1 FUTURE_SUITE_X inline:QUJDRA==\n%s\n"
            % (IP, IP, UAC_RTP, srtpy.crypto_line(7, key))
            ).replace("\n", "\r\n")


def test_srtp_to_plain_and_forged_packets(sipguard, tmp_path, peers):
    tmpdir = str(tmp_path)
    a = peers(IP, UAC_RTP)
    b = peers(IP, UAS_RTP)
    sipguard(config(tmpdir, "udp:%s:%d" % (IP, UAS)))
    uas = callee()
    time.sleep(0.3)
    uac = Uac(IP, UAC, (IP, SG_OUT), UAC_RTP)
    key = srtpy.new_key()
    uac.invite(savp_sdp(uac, key))
    try:
        code, raw, _ = uac.wait_final()
        assert code == 200, uac.log
        uac.ack()
        ans = sdp_of(raw)
        # The caller gets SRTP back with its tag 7 and sipguard's key.
        assert "RTP/SAVP 0" in ans["body"], ans["body"]
        cr = srtpy.parse_crypto(ans["body"])
        assert len(cr) == 1 and cr[0][0] == 7, cr
        assert cr[0][1] == "AES_CM_128_HMAC_SHA1_80"
        sg_key = cr[0][2]
        assert sg_key != key and len(sg_key) == 30
        # The callee (plain PBX side) gets RTP/AVP and no key at all.
        inv = wait_for(lambda: callee_invite(uas))
        assert inv and "RTP/AVP 0 101" in inv and "SAVP" not in inv, inv
        assert "crypto" not in inv
        relay_a = (IP, ans["port"])
        relay_b = (IN_IP, sdp_of(inv.replace("\n", "\r\n") + "\r\n")
                   ["port"])
        tx, rx = srtpy.Srtp(key, True), srtpy.Srtp(sg_key, False)
        ssrc = 0x11223344
        # Caller -> callee: SRTP in, plain out, exactly what was sent.
        plain = [rtp_packet(i, i * 160, ssrc, os.urandom(160))
                 for i in range(1, 41)]
        for p in plain:
            a.rtp.sendto(tx.protect(p), relay_a)
            time.sleep(0.002)
        got = [d for d, _ in b.recv_all()]
        assert got == plain, (len(got), len(plain))
        # SRTCP too, decrypted for the plain side.
        a.rtcp.sendto(tx.protect_rtcp(rtcp_rr(ssrc)), (IP, ans["port"] + 1))
        assert [d[:8] for d, _ in b.recv_all(b.rtcp)] == \
            [rtcp_rr(ssrc)[:8]]
        # Callee -> caller: plain in, SRTP out under sipguard's key.
        sent = b.send(relay_b, 30)
        got = a.recv_all()
        assert len(got) == 30
        for (d, _), p in zip(got, sent):
            assert d != p and p[12:] not in d
            assert rx.unprotect(d) == p
        # Forged: the caller's own address, a bad tag; and a replay.
        good = tx.protect(rtp_packet(100, 16000, ssrc, os.urandom(160)))
        bad = bytearray(good)
        bad[-1] ^= 0x5a
        for _ in range(20):
            a.rtp.sendto(bytes(bad), relay_a)
        a.rtp.sendto(good, relay_a)
        a.rtp.sendto(good, relay_a)
        # And an attacker elsewhere, with a well-formed packet.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as x:
            x.bind((ATTACKER, 36140))
            for _ in range(5):
                x.sendto(bytes(bad), relay_a)
        got = [d for d, _ in b.recv_all()]
        assert len(got) == 1 and got[0][:4] == good[:4], len(got)
        ev = wait_for(lambda: events(tmpdir, "srtp-auth-failure"))
        assert ev and ev[0]["zone"] == "internet", ev
        assert "key" not in json.dumps(ev).lower()
        # /metrics: the bad tags (ours and the attacker's are dropped as
        # injected first) and the replay.
        assert wait_for(lambda: metric(
            "sipguard_media_srtp_dropped_packets_total",
            reason="auth") == 20), metric(
            "sipguard_media_srtp_dropped_packets_total", reason="auth")
        assert metric("sipguard_media_srtp_dropped_packets_total",
                      reason="replay") == 1
        assert metric("sipguard_media_srtp_failure_reports_total") >= 1
        assert metric("sipguard_media_dtls_handshakes_total",
                      result="ok") == 0
        assert metric("sipguard_cluster_handoffs_total") == 0
        assert uac.bye() == 200
    finally:
        uas.stop()
        uac.close()
    rec = wait_for(lambda: [r for r in records(tmpdir)
                            if r.get("kind") == "INVITE"])
    m = rec[0]["media"][0]["caller"]
    assert m["srtp_auth_failed"] == 20, m
    assert m["srtp_replayed"] == 1, m
    assert m["injected"] == 5, m
    # No key in the records or the events.
    text = open(os.path.join(tmpdir, "cdr.json")).read() + \
        open(os.path.join(tmpdir, "events.json")).read()
    import base64
    for k in (key, sg_key):
        assert base64.b64encode(k).decode() not in text


# The fixed key of tests/e2e/sipp/uas_srtp.xml.
UAS_KEY = bytes((i * 7 + 3) & 255 for i in range(30))


def test_srtp_both_legs_with_own_keys(sipguard, tmp_path, peers):
    """SRTP caller -> SRTP callee (pbx zone srtp: required): each leg
    gets its own key from sipguard; packets are re-encrypted."""
    tmpdir = str(tmp_path)
    a = peers(IP, UAC_RTP)
    b = peers(IP, UAS_RTP)
    sipguard(config(tmpdir, "udp:%s:%d" % (IP, UAS), pbx_srtp="required"))
    uas = callee("uas_srtp.xml")
    time.sleep(0.3)
    uac = Uac(IP, UAC + 2, (IP, SG_OUT), UAC_RTP)
    key = srtpy.new_key()
    uac.invite(savp_sdp(uac, key))
    try:
        code, raw, _ = uac.wait_final()
        assert code == 200, uac.log
        uac.ack()
        ans = sdp_of(raw)
        cr = srtpy.parse_crypto(ans["body"])
        assert len(cr) == 1 and cr[0][0] == 7, cr
        sg_key0 = cr[0][2]
        inv = wait_for(lambda: callee_invite(uas))
        assert "RTP/SAVP 0 101" in inv, inv
        offered = srtpy.parse_crypto(inv)
        assert offered[0][:2] == (1, "AES_CM_128_HMAC_SHA1_80"), offered
        sg_key1 = offered[0][2]
        keys = [key, sg_key0, sg_key1, UAS_KEY] + [k for _, _, k in offered]
        assert len(set(keys)) == len(keys) - 1, "a key crossed legs"
        relay_a = (IP, ans["port"])
        relay_b = (IN_IP, sdp_of(inv.replace("\n", "\r\n") + "\r\n")
                   ["port"])
        a_tx, a_rx = srtpy.Srtp(key, True), srtpy.Srtp(sg_key0, False)
        b_tx, b_rx = srtpy.Srtp(UAS_KEY, True), srtpy.Srtp(sg_key1, False)
        plain = [rtp_packet(i, i * 160, 0x5151, os.urandom(160))
                 for i in range(1, 21)]
        for p in plain:
            a.rtp.sendto(a_tx.protect(p), relay_a)
        got = [d for d, _ in b.recv_all()]
        assert [b_rx.unprotect(d) for d in got] == plain
        plain = [rtp_packet(i, i * 160, 0x6262, os.urandom(160))
                 for i in range(1, 21)]
        for p in plain:
            b.rtp.sendto(b_tx.protect(p), relay_b)
        got = [d for d, _ in a.recv_all()]
        assert [a_rx.unprotect(d) for d in got] == plain
        assert uac.bye() == 200
    finally:
        uas.stop()
        uac.close()


def test_plain_offer_on_srtp_zone_gets_488(sipguard, tmp_path):
    tmpdir = str(tmp_path)
    sipguard(config(tmpdir, "udp:%s:%d" % (IP, UAS)))
    uac = Uac(IP, UAC + 1, (IP, SG_OUT), UAC_RTP)
    try:
        uac.invite()        # RTP/AVP
        code, _, _ = uac.wait_final()
        assert code == 488, uac.log
        uac.ack_error()
    finally:
        uac.close()
    ev = wait_for(lambda: events(tmpdir, "srtp-negotiation"))
    assert ev and "plain RTP offered" in ev[0]["reason"], ev
    assert ev[0]["zone"] == "internet"


# ------------------------------------------------------------- baresip

# SIP, control (baresip also listens on SIP+1 for TLS), RTP, tone.
USERS = {"alice": (36200, 36205, 36210, 1000),
         "bob": (36220, 36225, 36230, 600)}


def Baresip(user, tmpdir, account, extra_conf=""):
    return encpeers.Baresip(IP, USERS[user], user, tmpdir, account,
                            extra_conf)


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("certs"))
    subprocess.run(["sh", CERTS_SH, d], check=True)
    return d


@pytest.mark.skipif(not os.path.exists(BARESIP), reason="no baresip")
@pytest.mark.skipif(not os.path.exists(TCPDUMP) or os.geteuid() != 0,
                    reason="tcpdump as root needed for the capture")
def test_baresip_tls_srtp_to_plain_phone(sipguard, tmp_path, certs):
    from test_media_baresip import tone_share
    tmpdir = str(tmp_path)
    sipguard(config(tmpdir, "udp:%s:%d" % (IP, PBX), certs=certs))
    cap = os.path.join(tmpdir, "lo.pcap")
    dump = start_capture(cap, (36210, 36219), (36230, 36239))
    kam = Kamailio(IP, PBX, uas="%s:%d" % (IP, PBX + 1))
    phones = []
    try:
        alice = Baresip(
            "alice", tmpdir,
            "<sip:alice@example.com;transport=tls>;auth_pass=secret;"
            "outbound=\"sip:%s:%d;transport=tls\";regint=300;"
            "answermode=auto;audio_codecs=PCMU;mediaenc=srtp-mand"
            % (IP, SG_TLS),
            "sip_cafile %s/ca.pem\n" % certs)
        bob = Baresip(
            "bob", tmpdir,
            "<sip:bob@example.com>;auth_pass=secret;"
            "outbound=\"sip:%s:%d\";regint=300;answermode=auto;"
            "audio_codecs=PCMU" % (IP, PBX))
        phones = [alice, bob]
        for p in phones:
            assert wait_for(lambda p=p: "200 OK" in p.text() and
                            "binding" in p.text(), 10), p.text()
        alice.command("dial", "sip:bob@example.com")
        assert wait_for(lambda: "call established" in bob.text().lower(),
                        15), alice.text() + bob.text()
        time.sleep(3)
        alice.command("hangup")
        time.sleep(1)
    finally:
        for p in phones:
            p.stop()
        kam.stop()
        time.sleep(0.3)
        _stop(dump, signal.SIGTERM)
    atext = alice.text()
    assert "srtp" in atext.lower(), atext
    rec_b, rec_a = bob.recording(), alice.recording()
    assert rec_b and rec_a, os.listdir(bob.dir) + os.listdir(alice.dir)
    assert tone_share(rec_b, 1000) > 0.5, tone_share(rec_b, 1000)
    assert tone_share(rec_a, 600) > 0.5, tone_share(rec_a, 600)
    # The capture: alice's side (untrusted) carries only SRTP; no
    # payload of the plain side's RTP (bob's, either way) is in it.
    pk = pcap_udp(cap)
    untrusted = untrusted_media(pk, (36210, 36219), (36230, 36239))
    # SRTP: 12 + 160 + 10 (HMAC-SHA1-80 or -32: + 4) bytes.
    assert all(len(p) in (12 + 160 + 10, 12 + 160 + 4) for p in untrusted
               if p[1] & 0x7f == 0)
    recs = [r for r in records(tmpdir) if r.get("kind") == "INVITE"]
    assert recs and recs[0]["media"][0]["caller"]["packets"] > 50, recs
    # baresip sends RTCP in clear before its SRTP is up (an APP
    # "PINGPONG" pinhole opener) and at hang-up (BYE): the relay drops
    # those as unauthenticated, and nothing else fails.
    rtcp = [p for sp, dp, p in pk if 36210 <= sp <= 36219 and
            p[1] in (200, 201, 202, 203, 204)]
    clear = [p for p in rtcp if plain_rtcp(p)]
    assert recs[0]["media"][0]["caller"]["srtp_auth_failed"] <= len(clear), \
        [p.hex() for p in rtcp]
