"""
Issue 6, end to end: sipguard relays the media of calls it sets up.
A Python caller (rtpua.Uac) calls through sipguard's untrusted zone to a
sipp callee behind its trusted zone; both send real RTP.  Checks: the
SDP each side sees names sipguard's relay (the address of the zone it
faces), every packet arrives exactly once and unchanged, from the relay;
a third address (127.0.0.66) that sends to the advertised relay port
reaches nobody and is logged; after BYE, CANCEL, a failure or a media
timeout the relay ports forward nothing.
Ports: SIP 28060-28099, RTP 28100-28399, relay 40000-40999.
The suite runs on the default relay backend (media: io: uring) unless
SIPGUARD_MEDIA_IO names one (epoll, uring); the two basic cases (media
both ways, injection) also run pinned to epoll, so both backends stay
covered.
"""
import os
import time

import pytest

from confparts import SIP_T1_FAST, log_files, media, zones
from encpeers import (callee_sdp, events, media_callee, peers,
                      records, wait_for)
from rtpua import Uac, rtcp_rr, sdp_of

OUT_IP, IN_IP = "127.0.0.1", "127.0.0.2"
SG_OUT, SG_IN = 28060, 28070
UAS, UAC = 28080, 28090
UAC_RTP, UAS_RTP = 28100, 28200
ATTACKER = "127.0.0.66"
# "": no media.io line, the default backend.
MEDIA_IO = os.environ.get("SIPGUARD_MEDIA_IO", "")


def io_line(io):
    return "  io: %s" % io if io else ""


def config(tmpdir, extra_media="", io=None):
    return (log_files(tmpdir) + SIP_T1_FAST +
            media(40000, 40999, "  quarantine: 30s\n" +
                  io_line(MEDIA_IO if io is None else io) + "\n" +
                  extra_media) +
            zones(OUT_IP, SG_OUT, "udp:%s:%d" % (OUT_IP, UAS), IN_IP, SG_IN))


def callee(scenario):
    return media_callee(OUT_IP, UAS, UAS_RTP, 28300, scenario)


def setup_call(tmpdir, sipguard, scenario="uas_media.xml", extra_media="",
               io=None):
    io = MEDIA_IO if io is None else io
    d = sipguard(config(tmpdir, extra_media, io))
    # io_uring (the default) must not have fallen back to epoll here.
    assert "io_uring unavailable" not in d.log()
    if io != "epoll":
        assert d.wait_log("io_uring, "), d.log()
    else:
        assert "io_uring, " not in d.log()
    uas = callee(scenario)
    time.sleep(0.3)
    uac = Uac(OUT_IP, UAC, (OUT_IP, SG_OUT), UAC_RTP)
    uac.invite()
    return d, uas, uac


@pytest.mark.parametrize("io", ["", "epoll"])
def test_media_flows_both_ways(sipguard, tmp_path, peers, io):
    tmpdir = str(tmp_path)
    a = peers(OUT_IP, UAC_RTP)
    b = peers(OUT_IP, UAS_RTP)
    d, uas, uac = setup_call(tmpdir, sipguard, io=io)
    code, raw, _ = uac.wait_final()
    assert code == 200, uac.log
    uac.ack()
    ans = sdp_of(raw)
    # The caller is offered the relay address of the zone it faces.
    assert ans["ip"] == OUT_IP and ans["o"] == OUT_IP
    assert 40000 <= ans["port"] <= 40999 and ans["port"] % 2 == 0
    assert ans["rtcp"] == ans["port"] + 1
    relay_a = (ans["ip"], ans["port"])
    offer = wait_for(lambda: callee_sdp(uas))
    assert offer and offer["ip"] == IN_IP and offer["o"] == IN_IP, offer
    assert 40000 <= offer["port"] <= 40999 and offer["port"] != ans["port"]
    relay_b = (offer["ip"], offer["port"])
    # Both directions, at once.
    sent_a = a.send(relay_a, 50)
    sent_b = b.send(relay_b, 50)
    got_b = b.recv_all()
    got_a = a.recv_all()
    assert [p for p, _ in got_b] == sent_a
    assert all(src == relay_b for _, src in got_b)
    assert [p for p, _ in got_a] == sent_b
    assert all(src == relay_a for _, src in got_a)
    # RTCP goes through too; the caller's CNAME is scrubbed.
    a.rtcp.sendto(rtcp_rr(a.ssrc), (relay_a[0], relay_a[1] + 1))
    got = b.recv_all(b.rtcp)
    assert len(got) == 1 and b"alice@10.1.2.3" not in got[0][0]
    assert got[0][0][:28] == rtcp_rr(a.ssrc)[:28]
    assert uac.bye() == 200
    assert uas.wait(10) == 0, uas.errors()
    recs = wait_for(lambda: records(tmpdir))
    assert len(recs) == 1
    m = recs[0]["media"][0]
    assert m["caller"]["packets"] == 51 and m["callee"]["packets"] == 50
    assert m["caller"]["rtcp"] == 1 and m["caller"]["rr_lost"] == 3


@pytest.mark.parametrize("io", ["", "epoll"])
def test_injection_from_third_address(sipguard, tmp_path, peers, io):
    tmpdir = str(tmp_path)
    a = peers(OUT_IP, UAC_RTP)
    b = peers(OUT_IP, UAS_RTP)
    evil = peers(ATTACKER, UAC_RTP)
    d, uas, uac = setup_call(tmpdir, sipguard, io=io)
    code, raw, _ = uac.wait_final()
    assert code == 200
    uac.ack()
    relay_a = (OUT_IP, sdp_of(raw)["port"])
    relay_b = (IN_IP, wait_for(lambda: callee_sdp(uas))["port"])
    # The attacker sends to both advertised relay ports, interleaved
    # with the call's own media, and also RTCP.
    sent_a = []
    for i in range(20):
        sent_a += a.send(relay_a, 2)
        evil.rtp.sendto(b"\x80\x00" + os.urandom(170), relay_a)
        evil.rtp.sendto(b"\x80\x00" + os.urandom(170), relay_b)
        evil.rtcp.sendto(rtcp_rr(1), (relay_a[0], relay_a[1] + 1))
    sent_b = b.send(relay_b, 20)
    got_b = b.recv_all()
    got_a = a.recv_all()
    assert [p for p, _ in got_b] == sent_a      # none of the attacker's
    assert [p for p, _ in got_a] == sent_b
    assert b.recv_all(b.rtcp, 0.2) == []
    assert evil.recv_all(timeout=0.2) == []
    ev = wait_for(lambda: events(tmpdir, "rtp-injection"))
    assert ev and ev[0]["src"] == ATTACKER and ev[0]["type"] == "drop"
    assert uac.bye() == 200
    uas.wait(10)
    recs = wait_for(lambda: records(tmpdir))
    m = recs[0]["media"][0]
    assert m["caller"]["injected"] >= 40 and m["callee"]["injected"] >= 20


def assert_closed(a, relay, b):
    a.send(relay, 10)
    assert b.recv_all(timeout=0.5) == []


def test_bye_closes_ports(sipguard, tmp_path, peers):
    tmpdir = str(tmp_path)
    a = peers(OUT_IP, UAC_RTP)
    b = peers(OUT_IP, UAS_RTP)
    d, uas, uac = setup_call(tmpdir, sipguard)
    code, raw, _ = uac.wait_final()
    assert code == 200
    uac.ack()
    relay_a = (OUT_IP, sdp_of(raw)["port"])
    relay_b = (IN_IP, wait_for(lambda: callee_sdp(uas))["port"])
    a.send(relay_a, 5)
    assert len(b.recv_all()) == 5
    assert uac.bye() == 200
    uas.wait(10)
    time.sleep(0.3)
    assert_closed(a, relay_a, b)
    assert_closed(b, relay_b, a)


def test_cancel_closes_early_media(sipguard, tmp_path, peers):
    tmpdir = str(tmp_path)
    a = peers(OUT_IP, UAC_RTP)
    b = peers(OUT_IP, UAS_RTP)
    d, uas, uac = setup_call(tmpdir, sipguard, "uas_early.xml")
    code, raw, early = uac.wait_final(want_prov_sdp=True)
    assert code == 183, uac.log
    relay_a = (OUT_IP, sdp_of(early)["port"])
    relay_b = (IN_IP, wait_for(lambda: callee_sdp(uas))["port"])
    # Early media flows both ways once the 183 answered the offer.
    sent = b.send(relay_b, 10)
    assert [p for p, _ in a.recv_all()] == sent
    sent = a.send(relay_a, 10)
    assert [p for p, _ in b.recv_all()] == sent
    uac.cancel()
    code, raw, _ = uac.wait_final()
    if code == 200:      # the 200 to CANCEL first
        code, raw, _ = uac.wait_final()
    assert code == 487
    uac.ack_error()
    uas.wait(10)
    time.sleep(0.3)
    assert_closed(a, relay_a, b)
    assert_closed(b, relay_b, a)
    recs = wait_for(lambda: records(tmpdir))
    assert recs[0]["end_reason"] == "cancelled"


def test_failure_closes_ports(sipguard, tmp_path, peers):
    tmpdir = str(tmp_path)
    a = peers(OUT_IP, UAC_RTP)
    b = peers(OUT_IP, UAS_RTP)
    d, uas, uac = setup_call(tmpdir, sipguard, "uas_early_fail.xml")
    code, raw, early = uac.wait_final(want_prov_sdp=True)
    assert code == 183
    relay_a = (OUT_IP, sdp_of(early)["port"])
    relay_b = (IN_IP, wait_for(lambda: callee_sdp(uas))["port"])
    sent = a.send(relay_a, 5)
    assert [p for p, _ in b.recv_all()] == sent
    code, raw, _ = uac.wait_final()
    assert code == 486
    uac.ack_error()
    uas.wait(10)
    time.sleep(0.3)
    assert_closed(a, relay_a, b)
    assert_closed(b, relay_b, a)


def test_media_timeout_ends_call(sipguard, tmp_path, peers):
    tmpdir = str(tmp_path)
    a = peers(OUT_IP, UAC_RTP)
    b = peers(OUT_IP, UAS_RTP)
    d, uas, uac = setup_call(tmpdir, sipguard,
                             extra_media="  timeout: 2s\n")
    code, raw, _ = uac.wait_final()
    assert code == 200
    uac.ack()
    relay_a = (OUT_IP, sdp_of(raw)["port"])
    a.send(relay_a, 5)
    assert len(b.recv_all()) == 5
    # Then silence: sipguard sends BYE to both sides.
    assert uac.answer_bye(timeout=8.0)
    assert uas.wait(10) == 0, uas.errors()
    ev = wait_for(lambda: events(tmpdir, "media-timeout"))
    assert ev and ev[0]["action"] == "bye"
    time.sleep(0.3)
    assert_closed(a, relay_a, b)


def test_bad_sdp_refused(sipguard, tmp_path):
    tmpdir = str(tmp_path)
    sipguard(config(tmpdir))
    uac = Uac(OUT_IP, UAC, (OUT_IP, SG_OUT), UAC_RTP)
    uac.invite(body="v=0\r\nthis is not sdp\r\n")
    code, _, _ = uac.wait_final(timeout=3)
    assert code == 488
    uac.close()


def test_sdp_in_multipart_refused(sipguard, tmp_path):
    """An SDP we cannot anchor is never forwarded as is."""
    sipguard(config(str(tmp_path)))
    uac = Uac(OUT_IP, UAC, (OUT_IP, SG_OUT), UAC_RTP)
    part = uac.sdp()
    body = ("--b1\r\nContent-Type: application/sdp\r\n\r\n%s\r\n--b1--\r\n"
            % part)
    uac.invite(body=body, ctype="multipart/mixed;boundary=b1")
    code, _, _ = uac.wait_final(timeout=3)
    uac.close()
    assert code == 488
