"""
media.kernel_interfaces: the administrator names where the kernel fast
path attaches (tests/unit/media/test_kfast.c covers the interface table
itself: a list naming one of two devices, late devices and patterns,
renames).  Here the daemon end to end: the option reaches the loader
through the configuration, a call on loopback is relayed by the kernel
when `lo` is listed and by the relay threads, just as correctly, when
the list leaves loopback out (the directions the relay installs are
never hit there), and `media.kernel: on` with a list that matches
nothing refuses to start with a clear line.
Skipped when the program cannot load (not root, kernel < 6.6).
Ports: SIP 49700-49739, RTP 49740-49779, sipp media 49780, relay
49800-49999.
"""
import time

import pytest

from confparts import SIP_T1_FAST, log_files, media, zones
from conftest import Daemon
from encpeers import (callee_sdp, media_callee, peers,  # noqa: F401
                      records, wait_for)
from rtpua import Uac, sdp_of

OUT_IP, IN_IP = "127.0.0.1", "127.0.0.2"
SG_OUT, SG_IN = 49700, 49710
UAS, UAC = 49720, 49730
UAC_RTP, UAS_RTP = 49740, 49760
NONE = "sgkwnone*"      # matches no interface of any host we run on


def config(tmpdir, kernel, ifs):
    return (log_files(tmpdir) + SIP_T1_FAST +
            media(49800, 49999,
                  "  kernel: %s\n  kernel_interfaces: [ %s ]\n"
                  % (kernel, ", ".join('"%s"' % i for i in ifs))) +
            zones(OUT_IP, SG_OUT, "udp:%s:%d" % (OUT_IP, UAS), IN_IP, SG_IN))


def skip_without_bpf(log):
    if "cannot load" in log:
        pytest.skip("BPF/TCX unavailable: " + log[-300:])


def call_media(tmpdir, d, peers):
    """A call, 100 RTP packets each way; the call record's media."""
    a = peers(OUT_IP, UAC_RTP)
    b = peers(OUT_IP, UAS_RTP)
    uas = media_callee(OUT_IP, UAS, UAS_RTP, 49780, "uas_media.xml")
    time.sleep(0.3)
    uac = Uac(OUT_IP, UAC, (OUT_IP, SG_OUT), UAC_RTP)
    uac.invite()
    code, raw, _ = uac.wait_final()
    assert code == 200, uac.log
    uac.ack()
    relay_a = (OUT_IP, sdp_of(raw)["port"])
    offer = wait_for(lambda: callee_sdp(uas))
    relay_b = (IN_IP, offer["port"])
    sent_a = a.send(relay_a, 100)
    sent_b = b.send(relay_b, 100)
    assert [p for p, _ in b.recv_all()] == sent_a
    assert [p for p, _ in a.recv_all()] == sent_b
    time.sleep(1.2)     # the relay merges the kernel's counters (500 ms)
    assert uac.bye() == 200
    assert uas.wait(10) == 0, uas.errors()
    recs = wait_for(lambda: records(tmpdir))
    m = recs[0]["media"][0]
    assert m["caller"]["packets"] == 100 and m["callee"]["packets"] == 100
    return m


def test_lo_listed(sipguard, tmp_path, peers):
    """lo listed (with an entry that matches nothing, said once): the
    kernel relays the call's media, on that one interface only."""
    tmpdir = str(tmp_path)
    d = sipguard(config(tmpdir, "auto", ["lo", NONE]))
    log = d.log()
    skip_without_bpf(log)
    assert ("attached on 1 interface(s) matching "
            "media.kernel_interfaces") in log, log
    assert log.count('no interface matches "%s"' % NONE) == 1, log
    m = call_media(tmpdir, d, peers)
    assert m["caller"]["kernel"] >= 90 and m["callee"]["kernel"] >= 90, m


def test_lo_left_out(sipguard, tmp_path, peers):
    """The list leaves loopback out: auto starts (a warning), loaded but
    attached nowhere; the relay threads carry every packet."""
    tmpdir = str(tmp_path)
    d = sipguard(config(tmpdir, "auto", [NONE]))
    log = d.log()
    skip_without_bpf(log)
    assert "media is relayed in userspace until one appears" in log, log
    m = call_media(tmpdir, d, peers)
    assert m["caller"]["kernel"] == 0 and m["callee"]["kernel"] == 0, m


def test_on_refuses_when_nothing_listed_is_up(tmp_path):
    """on: a list that matches no interface up at start is a refusal to
    start, named (a typo must not pass for "it comes later")."""
    tmpdir = str(tmp_path)
    d = Daemon(config(tmpdir, "on", [NONE]), tmpdir)
    try:
        rc = d.proc.wait(timeout=10)
    finally:
        if d.proc.poll() is None:
            d.proc.kill()
            d.proc.wait()
        d.logf.close()
    log = d.log()
    skip_without_bpf(log)
    assert rc != 0, log
    assert ("media.kernel: on, but no interface of "
            "media.kernel_interfaces is up with an address") in log, log
    assert "ready: serving" not in log, log
