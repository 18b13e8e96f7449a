"""
Issue 3, end to end: sipguard as a stateful edge proxy between an
untrusted and a trusted zone, driven by real SIP software - sipp as caller
and callee, Kamailio as a stand-in PBX/registrar.
"""
import os
import socket
import time

import pytest

from conftest import udp_exchange
from encpeers import records
from peers import Kamailio, Sipp

IP = "127.0.0.1"
SG_OUT = 26060      # untrusted zone (udp + tcp)
SG_IN = 26070       # trusted zone (udp + tcp)
UAS = 26080         # backend / PBX side peer
UAC = 26090         # caller
DEAD = 26081        # nothing listens here


def config(tmpdir, backends=("udp:%s:%d" % (IP, UAS),), trunk=None, t1="500ms",
           extra=""):
    be = ", ".join('"%s"' % b for b in backends)
    trunk_line = ('      trunk: "%s"\n' % trunk) if trunk else ""
    return """
log:
  level: debug
  call_records_file: %(cdr)s
sip:
  t1: %(t1)s
zones:
  - name: internet
    trust: untrusted
    listen: [ "udp:%(ip)s:%(out)d", "tcp:%(ip)s:%(out)d" ]
    route:
      backends: [ %(be)s ]
  - name: pbx
    trust: trusted
    listen: [ "udp:%(ip)s:%(inn)d", "tcp:%(ip)s:%(inn)d" ]
    route:
      backends: [ ]
%(trunk)s%(extra)s""" % {"cdr": os.path.join(tmpdir, "cdr.json"), "t1": t1,
                          "ip": IP, "out": SG_OUT, "inn": SG_IN, "be": be,
                          "trunk": trunk_line, "extra": extra}


def run_pair(uas, uac, timeout=40):
    rc_uac = uac.wait(timeout)
    time.sleep(0.2)
    rc_uas = uas.stop()
    assert rc_uac == 0, "caller failed:\n" + uac.errors()[-3000:]
    return rc_uas


def wait_records(tmpdir, n, timeout=3.0):
    deadline = time.time() + timeout
    while time.time() < deadline and len(records(tmpdir)) < n:
        time.sleep(0.05)
    return records(tmpdir)


@pytest.mark.parametrize("uac_t,uas_t,be", [
    ("u1", "u1", "udp"), ("t1", "t1", "tcp"), ("u1", "t1", "tcp"),
    ("t1", "u1", "udp")])
def test_call_untrusted_to_trusted(sipguard, tmp_path, uac_t, uas_t, be):
    sipguard(config(str(tmp_path), backends=("%s:%s:%d" % (be, IP, UAS),)))
    uas = Sipp("uas_rr.xml", (IP, UAS), transport=uas_t, calls=0)
    time.sleep(0.2)
    uac = Sipp("uac_rr.xml", (IP, UAC), (IP, SG_OUT), transport=uac_t, calls=5,
               rate=10)
    run_pair(uas, uac)
    recs = wait_records(str(tmp_path), 5)
    assert len(recs) == 5
    for r in recs:
        assert r["end_reason"] == "bye-caller"
        assert r["final_status"] == 200


def test_call_trusted_to_untrusted_via_trunk(sipguard, tmp_path):
    # The PBX side calls out: the trusted zone's trunk is a peer on the
    # untrusted side.
    cfg = config(str(tmp_path)).replace(
        "    route:\n      backends: [ ]\n",
        "    route:\n      backends: [ ]\n      trunk: \"udp:%s:%d\"\n" % (IP, UAS))
    sipguard(cfg)
    uas = Sipp("uas_rr.xml", (IP, UAS), calls=0)
    time.sleep(0.2)
    uac = Sipp("uac_rr.xml", (IP, UAC), (IP, SG_IN), calls=3, rate=10)
    run_pair(uas, uac)
    recs = wait_records(str(tmp_path), 3)
    assert len(recs) == 3
    assert all(r["caller"]["addr"] == "%s:%d" % (IP, UAC) for r in recs)


def test_retransmissions_absorbed_with_loss(sipguard, tmp_path):
    d = sipguard(config(str(tmp_path)))
    uas = Sipp("uas_rr.xml", (IP, UAS), calls=0, extra=["-trace_msg"])
    time.sleep(0.2)
    # The caller loses 10% of its packets, so it retransmits its
    # requests; sipguard must absorb them, not forward them again.
    uac = Sipp("uac_rr.xml", (IP, UAC), (IP, SG_OUT), calls=10, rate=20,
               extra=["-lost", "10"], timeout=60)
    run_pair(uas, uac, timeout=90)
    msgs = ""
    for f in os.listdir(uas.dir):
        if f.endswith("_messages.log"):
            msgs += open(os.path.join(uas.dir, f), errors="replace").read()
    invites = msgs.count("\nINVITE sip:")
    assert invites == 10, "UAS saw %d INVITEs for 10 calls" % invites
    # (No call-record count here: sipp's loss simulation also drops the
    # caller's own ACKs, and a call whose ACK never left it is not one
    # sipguard could have completed.)
    assert "refused" not in d.log()


def test_cancel_ringing_call(sipguard, tmp_path):
    sipguard(config(str(tmp_path)))
    uas = Sipp("uas_ring.xml", (IP, UAS), calls=0)
    time.sleep(0.2)
    uac = Sipp("uac_cancel.xml", (IP, UAC), (IP, SG_OUT), calls=2, rate=5)
    run_pair(uas, uac)
    recs = wait_records(str(tmp_path), 2)
    assert len(recs) == 2
    assert all(r["end_reason"] == "cancelled" for r in recs), recs


def test_busy_486(sipguard, tmp_path):
    sipguard(config(str(tmp_path)))
    uas = Sipp("uas_busy.xml", (IP, UAS), calls=0)
    time.sleep(0.2)
    uac = Sipp("uac_fail.xml", (IP, UAC), (IP, SG_OUT), calls=2, rate=5)
    run_pair(uas, uac)
    recs = wait_records(str(tmp_path), 2)
    assert [r["final_status"] for r in recs] == [486, 486]


def test_failover_on_503(sipguard, tmp_path):
    other = UAS + 2
    sipguard(config(str(tmp_path), backends=("udp:%s:%d" % (IP, other),
                                              "udp:%s:%d" % (IP, UAS))))
    bad = Sipp("uas_503.xml", (IP, other), calls=0, extra=["-aa"])
    good = Sipp("uas_rr.xml", (IP, UAS), calls=0, extra=["-aa"])
    time.sleep(0.3)
    uac = Sipp("uac_rr.xml", (IP, UAC), (IP, SG_OUT), calls=2, rate=5)
    run_pair(good, uac)
    bad.stop()
    recs = wait_records(str(tmp_path), 2)
    assert all(r["final_status"] == 200 for r in recs)


def test_dead_backend_408_then_failover(sipguard, tmp_path):
    # T1 = 50 ms: Timer B (64*T1) fires after 3.2 s.
    d = sipguard(config(str(tmp_path), backends=("udp:%s:%d" % (IP, DEAD),),
                        t1="50ms"))
    uac = Sipp("uac_fail.xml", (IP, UAC), (IP, SG_OUT), calls=1)
    assert uac.wait(30) == 0, uac.errors()
    d.stop()
    # Now a dead first backend and a live second one: calls go through.
    tmp2 = tmp_path / "b"
    tmp2.mkdir()
    sipguard(config(str(tmp2), backends=("udp:%s:%d" % (IP, DEAD),
                                          "udp:%s:%d" % (IP, UAS)),
                    t1="50ms"))
    uas = Sipp("uas_rr.xml", (IP, UAS), calls=0, extra=["-aa"])
    time.sleep(0.2)
    uac = Sipp("uac_rr.xml", (IP, UAC + 1), (IP, SG_OUT), calls=1)
    run_pair(uas, uac, timeout=60)


def _req(method="OPTIONS", mf=70, ruri="sip:bob@example.com"):
    return ("%s %s SIP/2.0\r\n"
            "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK-p-%s;rport\r\n"
            "Max-Forwards: %d\r\n"
            "From: <sip:alice@example.com>;tag=a1\r\n"
            "To: <sip:bob@example.com>\r\n"
            "Call-ID: proxy-e2e-%s@%s\r\n"
            "CSeq: 1 %s\r\n"
            "Content-Length: 0\r\n\r\n" % (method, ruri, IP, UAC, time.time(),
                                           mf, time.time(), IP, method)).encode()


def _status(reply):
    assert reply is not None, "no reply"
    return int(reply.split(b" ", 2)[1])


def test_max_forwards_zero_gets_483(sipguard, tmp_path):
    sipguard(config(str(tmp_path)))
    assert _status(udp_exchange((IP, SG_OUT), _req("INVITE", mf=0),
                                src=(IP, UAC))) == 483


def test_malformed_gets_400(sipguard, tmp_path):
    sipguard(config(str(tmp_path)))
    bad = _req().replace(b"CSeq: 1 OPTIONS", b"CSeq: x OPTIONS")
    assert _status(udp_exchange((IP, SG_OUT), bad, src=(IP, UAC))) == 400


def test_loop_is_detected(sipguard, tmp_path):
    # A "proxy" at the backend address bounces every request back to
    # sipguard's untrusted side, keeping the Request-URI: a loop.
    sipguard(config(str(tmp_path)))
    refl = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    refl.bind((IP, UAS))
    refl.settimeout(2)
    cli = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    cli.bind((IP, UAC))
    cli.settimeout(2)
    try:
        cli.sendto(_req("OPTIONS"), (IP, SG_OUT))
        fwd, _ = refl.recvfrom(65535)
        head, rest = fwd.split(b"\r\n", 1)
        bounced = head + b"\r\nVia: SIP/2.0/UDP %s:%d;branch=z9hG4bK-refl-1\r\n" % (
            IP.encode(), UAS) + rest
        refl.sendto(bounced, (IP, SG_OUT))
        reply, _ = refl.recvfrom(65535)
        assert _status(reply) == 482
    finally:
        refl.close()
        cli.close()


def test_register_through_kamailio_then_call_the_user(sipguard, tmp_path):
    pbx_port, pbx_uas = 26180, 26181
    kam = Kamailio(IP, pbx_port, uas="%s:%d" % (IP, pbx_uas))
    try:
        sipguard(config(str(tmp_path),
                        backends=("udp:%s:%d" % (IP, pbx_port),)))
        # Remote user alice registers through sipguard (Kamailio does the
        # digest challenge), then answers calls on the same address.
        reg = Sipp("register.xml", (IP, UAC), (IP, SG_OUT), calls=1,
                   service="alice", extra=["-au", "alice", "-ap", "secret"])
        assert reg.wait(30) == 0, reg.errors() + kam.text()[-2000:]
        alice = Sipp("uas_rr.xml", (IP, UAC), calls=0)
        time.sleep(0.3)
        # A phone on the PBX side calls alice through the PBX.
        caller = Sipp("uac_rr.xml", (IP, 26190), (IP, pbx_port), calls=1,
                      service="alice")
        rc = caller.wait(30)
        alice.stop()
        assert rc == 0, caller.errors() + kam.text()[-2000:]
    finally:
        kam.stop()
    recs = wait_records(str(tmp_path), 1)
    assert recs and recs[-1]["final_status"] == 200


def test_max_call_duration_ends_call_with_bye_both_sides(sipguard, tmp_path):
    cfg = config(str(tmp_path)).replace("  t1: 500ms\n",
                                        "  t1: 500ms\n  max_call_duration: 2s\n")
    sipguard(cfg)
    uas = Sipp("uas_rr.xml", (IP, UAS), calls=0)
    time.sleep(0.2)
    uac = Sipp("uac_wait_bye.xml", (IP, UAC), (IP, SG_OUT), calls=1)
    t0 = time.time()
    run_pair(uas, uac)
    assert time.time() - t0 < 15
    recs = wait_records(str(tmp_path), 1)
    assert recs[0]["end_reason"] == "timeout:max-duration", recs
    assert recs[0]["caller"]["zone"] == "internet"
    assert recs[0]["callee"]["zone"] == "pbx"
    assert 1500 <= recs[0]["duration_ms"] <= 4000


def test_transaction_pool_full_gets_503(sipguard, tmp_path):
    cfg = config(str(tmp_path), backends=("udp:%s:%d" % (IP, DEAD),)).replace(
        "  t1: 500ms\n", "  t1: 500ms\n  max_transactions: 16\n")
    sipguard(cfg)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((IP, UAC))
    s.settimeout(0.5)
    got = []
    try:
        # Requests to a dead backend stay pending; past the pool size
        # the controller refuses new work with 503 + Retry-After.
        for i in range(40):
            s.sendto(_req("OPTIONS").replace(b"proxy-e2e-", b"pool-%d-" % i),
                     (IP, SG_OUT))
        deadline = time.time() + 3
        while time.time() < deadline:
            try:
                got.append(s.recvfrom(65535)[0])
            except socket.timeout:
                break
    finally:
        s.close()
    refusals = [g for g in got if g.startswith(b"SIP/2.0 503")]
    assert refusals, got
    assert b"Retry-After: 5" in refusals[0]


def test_call_over_ipv6(sipguard, tmp_path):
    cfg = """
log:
  level: debug
  call_records_file: %(cdr)s
zones:
  - name: internet
    trust: untrusted
    listen: [ "udp:[::1]:%(out)d", "tcp:[::1]:%(out)d" ]
    route:
      backends: [ "udp:[::1]:%(uas)d" ]
  - name: pbx
    trust: trusted
    listen: [ "udp:[::1]:%(inn)d" ]
""" % {"cdr": os.path.join(str(tmp_path), "cdr.json"), "out": SG_OUT,
       "inn": SG_IN, "uas": UAS}
    sipguard(cfg)
    uas = Sipp("uas_rr.xml", ("::1", UAS), calls=0)
    time.sleep(0.2)
    uac = Sipp("uac_rr.xml", ("::1", UAC), ("[::1]", SG_OUT), calls=2, rate=5)
    run_pair(uas, uac)
    recs = wait_records(str(tmp_path), 2)
    assert len(recs) == 2
    assert recs[0]["caller"]["addr"] == "[::1]:%d" % UAC


def test_tcp_remote_user_behind_nat_reached_over_its_connection(sipguard, tmp_path):
    """A remote user registers over TCP with a private Contact; the PBX's
    call reaches it over the very connection it registered on (RFC 5923
    style reuse), since its Contact is unreachable."""
    from miniua import MiniUA
    pbx_port, pbx_uas = 26280, 26281
    kam = Kamailio(IP, pbx_port, uas="%s:%d" % (IP, pbx_uas))
    ua = None
    try:
        sipguard(config(str(tmp_path),
                        backends=("udp:%s:%d" % (IP, pbx_port),)))
        ua = MiniUA((IP, SG_OUT), "carol", "secret")
        ua.register()
        caller = Sipp("uac_rr.xml", (IP, 26290), (IP, pbx_port), calls=1,
                      service="carol")
        seen = ua.answer_call()
        assert caller.wait(30) == 0, caller.errors() + kam.text()[-2000:]
        assert "ACK" in seen
    finally:
        if ua:
            ua.close()
        kam.stop()
    recs = wait_records(str(tmp_path), 1)
    assert recs and recs[-1]["callee"]["transport"] == "TCP", recs
