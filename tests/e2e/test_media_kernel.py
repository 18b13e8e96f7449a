"""
Issue 6, the media relay's kernel fast path (media.kernel: on): a call
through sipguard (a Python caller in the untrusted zone, a sipp callee
behind the trusted one, both sending real RTP on loopback).  Once the
relay accepted a direction's first packet, the eBPF program at TCX
ingress of lo relays the rest itself; the call record says how many
("kernel").  Checks: media flows both ways with the exact payloads from
the relay ports; a stranger's RTP raises rtp-injection and never reaches
the party; after BYE nothing is relayed; the call record counts every
packet; the media timeout does not fire while only the kernel carries
the media, and fires once it stops; a daemon killed with SIGKILL leaves
no forwarding behind.
Skipped when the program cannot load (not root, kernel < 6.6).
Ports: SIP 42060-42099, metrics 42050, RTP 42100-42399, relay 42400-42999.
"""
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request

import pytest

from confparts import SIP_T1_FAST, log_files, media, zones
from conftest import Daemon
from encpeers import (callee_sdp, events, media_callee, peers,  # noqa: F401
                      records, wait_for)
from rtpua import Uac, sdp_of

OUT_IP, IN_IP = "127.0.0.1", "127.0.0.2"
SG_OUT, SG_IN = 42060, 42070
UAS, UAC = 42080, 42090
UAC_RTP, UAS_RTP = 42100, 42200
ATTACKER = "127.0.0.66"


METRICS_AT = ("127.0.0.1", 42050)
METRICS = """
ops:
  metrics_listen: "tcp:%s:%d"
""" % METRICS_AT

PRIV = """
ops:
  user: nobody
  group: nogroup
  capabilities: [ ]
  seccomp: true
"""


def config(tmpdir, extra_media="", extra=""):
    return (log_files(tmpdir) + SIP_T1_FAST +
            media(42400, 42999,
                  "  quarantine: 30s\n  kernel: on\n" + extra_media) +
            zones(OUT_IP, SG_OUT, "udp:%s:%d" % (OUT_IP, UAS), IN_IP, SG_IN) +
            extra)


def kernel_ok(d):
    if "the kernel path cannot load" in d.log():
        pytest.skip("BPF/TCX unavailable: " + d.log()[-300:])
    assert "media kernel path: attached" in d.log(), d.log()


def call(tmpdir, start, extra_media="", extra=""):
    d = start(config(tmpdir, extra_media, extra))
    kernel_ok(d)
    uas = media_callee(OUT_IP, UAS, UAS_RTP, 42300, "uas_media.xml")
    time.sleep(0.3)
    uac = Uac(OUT_IP, UAC, (OUT_IP, SG_OUT), UAC_RTP)
    uac.invite()
    code, raw, _ = uac.wait_final()
    assert code == 200, uac.log
    uac.ack()
    relay_a = (OUT_IP, sdp_of(raw)["port"])
    offer = wait_for(lambda: callee_sdp(uas))
    relay_b = (IN_IP, offer["port"])
    return d, uas, uac, relay_a, relay_b


@pytest.mark.parametrize("priv", [False, True])
def test_kernel_media_both_ways(sipguard, tmp_path, peers, priv):
    """priv: loaded as root, then run as nobody with no capability and
    the seccomp filter: the relay still fills the map (a map descriptor
    needs no privilege) and looks routes up (netlink)."""
    tmpdir = str(tmp_path)
    if priv:
        os.chmod(tmpdir, 0o777)
    a = peers(OUT_IP, UAC_RTP)
    b = peers(OUT_IP, UAS_RTP)
    d, uas, uac, relay_a, relay_b = call(tmpdir, sipguard,
                                         extra=PRIV if priv else METRICS)
    sent_a = a.send(relay_a, 100)
    sent_b = b.send(relay_b, 100)
    got_b = b.recv_all()
    got_a = a.recv_all()
    assert [p for p, _ in got_b] == sent_a
    assert all(src == relay_b for _, src in got_b)
    assert [p for p, _ in got_a] == sent_b
    assert all(src == relay_a for _, src in got_a)
    time.sleep(1.2)     # the relay merges the kernel's counters (500 ms)
    if not priv:
        page = urllib.request.urlopen("http://%s:%d/metrics" % METRICS_AT,
                                      timeout=5).read().decode()
        kp = [ln for ln in page.splitlines()
              if ln.startswith("sipguard_media_kernel_packets_total ")]
        assert kp and int(float(kp[0].split()[1])) >= 180, kp
    assert uac.bye() == 200
    assert uas.wait(10) == 0, uas.errors()
    recs = wait_for(lambda: records(tmpdir))
    m = recs[0]["media"][0]
    assert m["caller"]["packets"] == 100 and m["callee"]["packets"] == 100
    assert m["caller"]["bytes"] == 100 * 172
    # The first packet(s) of each direction went through the relay (a
    # second one may arrive before the relay installed the first).
    assert m["caller"]["kernel"] >= 90 and m["callee"]["kernel"] >= 90, m


def test_kernel_stranger_and_bye(sipguard, tmp_path, peers):
    tmpdir = str(tmp_path)
    a = peers(OUT_IP, UAC_RTP)
    b = peers(OUT_IP, UAS_RTP)
    evil = peers(ATTACKER, UAC_RTP)
    d, uas, uac, relay_a, relay_b = call(tmpdir, sipguard)
    sent_a = []
    for i in range(20):
        sent_a += a.send(relay_a, 2)
        # A copy of the caller's next packet, from another address.
        evil.rtp.sendto(sent_a[-1][:12] + os.urandom(160), relay_a)
        evil.rtp.sendto(b"\x80\x00" + os.urandom(170), relay_b)
    got_b = b.recv_all()
    assert [p for p, _ in got_b] == sent_a      # none of the attacker's
    assert evil.recv_all(timeout=0.2) == []
    ev = wait_for(lambda: events(tmpdir, "rtp-injection"))
    assert ev and ev[0]["src"] == ATTACKER and ev[0]["type"] == "drop"
    assert uac.bye() == 200
    uas.wait(10)
    time.sleep(0.3)
    # After BYE nothing is relayed, by the kernel or otherwise.
    a.send(relay_a, 10)
    b.send(relay_b, 10)
    assert b.recv_all(timeout=0.5) == []
    assert a.recv_all(timeout=0.5) == []
    recs = wait_for(lambda: records(tmpdir))
    m = recs[0]["media"][0]
    assert m["caller"]["injected"] >= 20 and m["callee"]["injected"] >= 20
    assert m["caller"]["kernel"] >= 30, m


def test_kernel_media_timeout(sipguard, tmp_path, peers):
    tmpdir = str(tmp_path)
    a = peers(OUT_IP, UAC_RTP)
    b = peers(OUT_IP, UAS_RTP)
    d, uas, uac, relay_a, relay_b = call(tmpdir, sipguard,
                                         "  timeout: 2s\n")
    # 4 s of media both ways, all but the first packets by the kernel:
    # no timeout (the relay takes the kernel's last-seen time).
    for _ in range(100):
        a.send(relay_a, 1, gap=0)
        b.send(relay_b, 1, gap=0.04)
    assert events(tmpdir, "media-timeout") == []
    assert len(b.recv_all(timeout=0.2)) == 100
    # Then silence: BYE to both sides.
    assert uac.answer_bye(timeout=8.0)
    assert uas.wait(10) == 0, uas.errors()
    ev = wait_for(lambda: events(tmpdir, "media-timeout"))
    assert ev and ev[0]["action"] == "bye"
    recs = wait_for(lambda: records(tmpdir))
    assert recs[0]["media"][0]["caller"]["kernel"] >= 90


def test_kernel_sigkill_leaves_nothing(tmp_path, peers):
    """SIGKILL: the TCX link dies with the process, so does forwarding."""
    tmpdir = str(tmp_path)
    a = peers(OUT_IP, UAC_RTP)
    b = peers(OUT_IP, UAS_RTP)
    started = []

    def start(text):
        d = Daemon(text, tmpdir)
        started.append(d)
        assert d.wait_log("ready: serving"), d.log()
        return d
    try:
        d, uas, uac, relay_a, relay_b = call(tmpdir, start)
        sent = a.send(relay_a, 20)
        assert [p for p, _ in b.recv_all()] == sent
        d.proc.send_signal(signal.SIGKILL)
        d.proc.wait(timeout=5)
        time.sleep(0.2)
        a.send(relay_a, 20)
        assert b.recv_all(timeout=0.5) == []
        uac.close()
        uas.stop()
    finally:
        for d in started:
            if d.proc.poll() is None:
                d.proc.kill()
                d.proc.wait()
            d.logf.close()


@pytest.mark.parametrize("mode", ["on", "auto"])
def test_kernel_without_privilege(mode):
    """Started without CAP_BPF (as nobody): on refuses to start, auto
    says why once and relays in userspace."""
    setpriv = shutil.which("setpriv")
    if not setpriv or os.getuid() != 0:
        pytest.skip("needs root and setpriv")
    tmpdir = tempfile.mkdtemp(prefix="sgkf-")   # nobody reads it
    os.chmod(tmpdir, 0o777)
    conf = os.path.join(tmpdir, "sg.yaml")
    with open(conf, "w") as f:
        f.write(config(tmpdir).replace("kernel: on", "kernel: " + mode))
    os.chmod(conf, 0o644)
    from conftest import BIN
    p = subprocess.Popen([setpriv, "--reuid=65534", "--regid=65534",
                          "--clear-groups", "--inh-caps=-all", BIN, "-c",
                          conf], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)
    try:
        if mode == "on":
            out = p.communicate(timeout=10)[0].decode()
            assert p.returncode != 0, out
            assert "media.kernel: on, but the kernel path cannot load" \
                in out, out
            return
        deadline, out = time.time() + 10, b""
        os.set_blocking(p.stdout.fileno(), False)
        while time.time() < deadline and b"ready: serving" not in out:
            out += p.stdout.read() or b""
            time.sleep(0.05)
        text = out.decode()
        assert "ready: serving" in text, text
        assert text.count("relaying in userspace, the kernel path cannot "
                          "load") == 1, text
    finally:
        if p.poll() is None:
            p.terminate()
            p.wait(timeout=10)
        shutil.rmtree(tmpdir, ignore_errors=True)
