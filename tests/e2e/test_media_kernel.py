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
no forwarding behind; an interface added after start is covered too
(also when the daemon runs as nobody under seccomp); parties on private
addresses (a PBX on a LAN) get the kernel path too.
Skipped when the program cannot load (not root, kernel < 6.6).
Ports: SIP 42060-42099, metrics 42050, RTP 42100-42399, relay 42400-42999;
the late interface's test 48500-48999; the private addresses' 49000-49499.
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
from peers import Sipp
from rtpua import RtpPeer, Uac, sdp_of

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


# ------------------------------------------ an interface added later
#
# The parties (SIP and RTP) sit in network namespaces behind veth pairs;
# the caller's pair is made only once sipguard runs.  The zones listen
# on addresses that exist at start (LATE_A on lo, LATE_B on the callee's
# veth); the caller reaches LATE_A through its late veth, so its media
# enters the host on a device the program was attached to after start.
# Public-looking addresses (198.18.0.0/15, benchmarking): a party on a
# private one counts as behind NAT (the kernel path then waits until it
# was heard; test_kernel_private_addresses covers that case).
# Ports: SIP 48500-48549, RTP 48600-48799 (inside the namespaces),
# sipp media 48800, relay 48900-48999.

LATE_A, LATE_B = "198.18.1.1", "198.18.3.1"
LATE_A_PARTY, LATE_B_PARTY = "198.18.2.2", "198.18.3.2"
LATE_SG_OUT, LATE_SG_IN, LATE_UAS, LATE_UAC = 48500, 48510, 48520, 48530
LATE_A_RTP, LATE_B_RTP = 48600, 48700
_libc = None


def sh(cmd):
    subprocess.run(cmd, shell=True, check=True)


_net_uses = iter(range(10))


def net_tag():
    """A tag for namespace and device names unique to this use: a pid
    alone is shared by a parametrised test's runs, and a namespace's
    devices are removed asynchronously after `ip netns del` (a CI run
    found the previous run's veth still there)."""
    return "%d%d" % (os.getpid() % 100000, next(_net_uses))


class Netns:
    """Namespaces, each joined to the host by a veth pair (host side
    named like the namespace, party side "p"); all removed by close(),
    the host devices first, synchronously."""

    def __init__(self):
        self.made = []

    def add(self, name, host_ip, party_ip):
        sh("ip netns add %s" % name)
        self.made.append(name)
        sh("ip link add %s type veth peer name p netns %s" % (name, name))
        sh("ip addr add %s/24 dev %s && ip link set %s up"
           % (host_ip, name, name))
        sh("ip -n %s addr add %s/24 dev p && ip -n %s link set p up && "
           "ip -n %s link set lo up" % (name, party_ip, name, name))
        return name

    def close(self):
        for n in self.made:
            subprocess.run(["ip", "link", "del", n], stderr=subprocess.DEVNULL)
            subprocess.run(["ip", "netns", "del", n])


def in_netns(ns, fn):
    """fn() run with this thread in namespace ns (sockets it makes stay
    there); Python 3.11 has no os.setns."""
    import ctypes
    global _libc
    _libc = _libc or ctypes.CDLL("libc.so.6", use_errno=True)
    me = os.open("/proc/self/ns/net", os.O_RDONLY)
    there = os.open("/var/run/netns/" + ns, os.O_RDONLY)
    try:
        assert _libc.setns(there, 0x40000000) == 0, ctypes.get_errno()
        return fn()
    finally:
        assert _libc.setns(me, 0x40000000) == 0
        os.close(there)
        os.close(me)


def ns_parties(ns, a_party, a_rtp, sg, uac_port, b_party, b_rtp, uas_port,
               sipp_media):
    """A caller in namespace ns["a"] (RTP peer on a_party:a_rtp, UAC on
    uac_port calling through sg) and a sipp callee in ns["b"] (on
    b_party:uas_port, its RTP peer on b_rtp): (a, b, uac, uas)."""
    a = in_netns(ns["a"], lambda: RtpPeer(a_party, a_rtp))
    b = in_netns(ns["b"], lambda: RtpPeer(b_party, b_rtp))
    uac = in_netns(ns["a"], lambda: Uac(a_party, uac_port, sg, a_rtp))
    uas = in_netns(ns["b"], lambda: Sipp(
        "uas_media.xml", (b_party, uas_port), calls=1,
        extra=["-key", "rtp_ip", b_party, "-key", "rtp_port", str(b_rtp),
               "-key", "rtcp_port", str(b_rtp + 1), "-mp", str(sipp_media),
               "-mi", b_party, "-trace_msg"]))
    return a, b, uac, uas


def late_config(tmpdir, extra=""):
    return """
log:
  level: debug
  call_records_file: %(d)s/cdr.json
  events_file: %(d)s/events.json
sip:
  t1: 200ms
media:
  port_min: 48900
  port_max: 48999
  kernel: on
zones:
  - name: internet
    trust: untrusted
    listen: [ "udp:%(a)s:%(out)d" ]
    route:
      backends: [ "udp:%(uas_ip)s:%(uas)d" ]
  - name: pbx
    trust: trusted
    listen: [ "udp:%(b)s:%(inn)d" ]
%(more)s""" % {"d": tmpdir, "a": LATE_A, "b": LATE_B, "out": LATE_SG_OUT,
               "inn": LATE_SG_IN, "uas": LATE_UAS, "uas_ip": LATE_B_PARTY,
               "more": extra}


@pytest.fixture
def late_net():
    """The callee's namespace and veth (before start), LATE_A on lo, and
    a function making the caller's (after start); all removed after."""
    if os.getuid() != 0 or not shutil.which("ip"):
        pytest.skip("needs root and ip")
    tag = net_tag()
    ns = {"a": "sgkfe%sa" % tag, "b": "sgkfe%sb" % tag}
    net = Netns()
    try:
        net.add(ns["b"], LATE_B, LATE_B_PARTY)
        sh("ip addr add %s/32 dev lo" % LATE_A)

        def late():
            net.add(ns["a"], "198.18.2.1", LATE_A_PARTY)
            sh("ip -n %s route add %s/32 via 198.18.2.1"
               % (ns["a"], LATE_A))
            return ns["a"]
        yield ns, late
    finally:
        subprocess.run("ip addr del %s/32 dev lo" % LATE_A, shell=True,
                       stderr=subprocess.DEVNULL)
        net.close()


@pytest.mark.parametrize("priv", [False, True])
def test_kernel_late_interface(sipguard, tmp_path, late_net, priv):
    """A veth added after start: the program is attached to it (as root,
    and as nobody with no capability under the seccomp filter: attaching
    a loaded program needs none on 6.6+), and the caller's media arriving
    on it is relayed by the kernel; deleting it closes the link."""
    ns, late = late_net
    tmpdir = str(tmp_path)
    if priv:
        os.chmod(tmpdir, 0o777)
    d = sipguard(late_config(tmpdir, PRIV if priv else ""))
    kernel_ok(d)
    if priv:
        assert "running as nobody" in d.log(), d.log()
        assert "seccomp filter installed" in d.log(), d.log()
    dev = late()
    assert d.wait_log("media kernel path: attached on interface %s " % dev,
                      timeout=5), d.log()
    a, b, uac, uas = ns_parties(
        ns, LATE_A_PARTY, LATE_A_RTP, (LATE_A, LATE_SG_OUT), LATE_UAC,
        LATE_B_PARTY, LATE_B_RTP, LATE_UAS, 48800)
    try:
        time.sleep(0.3)
        uac.invite()
        code, raw, _ = uac.wait_final()
        assert code == 200, uac.log
        uac.ack()
        relay_a = (LATE_A, sdp_of(raw)["port"])
        relay_b = (LATE_B, wait_for(lambda: callee_sdp(uas))["port"])
        sent_a = a.send(relay_a, 100)
        sent_b = b.send(relay_b, 100)
        assert [p for p, _ in b.recv_all()] == sent_a
        assert [p for p, _ in a.recv_all()] == sent_b
        time.sleep(1.2)     # the relay merges the kernel's counters
        assert uac.bye() == 200
        assert uas.wait(10) == 0, uas.errors()
        m = wait_for(lambda: records(tmpdir))[0]["media"][0]
        assert m["caller"]["packets"] == 100, m
        # The caller's media entered on the late veth.
        assert m["caller"]["kernel"] >= 90 and m["callee"]["kernel"] >= 90, m
        sh("ip link del %s" % dev)
        assert d.wait_log("gone, its link closed", timeout=5), d.log()
        assert d.proc.poll() is None    # the seccomp filter let it all be
        assert "refused" not in d.log()
    finally:
        uas.stop()
        uac.close()
        a.close()
        b.close()


# ------------------------------------------ parties on private addresses
#
# A PBX on a LAN: both parties (SIP and RTP) on private addresses
# (172.31.91.0/24 and 172.31.92.0/24, each in a network namespace behind
# a veth pair, sipguard listening on the host side).  A private SDP
# address counts as possibly behind NAT; media from exactly that address
# latches with its first packet and the kernel carries the rest, both
# ways; another port of the party's address is refused afterwards.
# Ports: SIP 49000-49049, RTP 49100-49299 (inside the namespaces), sipp
# media 49300, relay 49400-49499.

PRIV_A, PRIV_B = "172.31.91.1", "172.31.92.1"
PRIV_A_PARTY, PRIV_B_PARTY = "172.31.91.2", "172.31.92.2"
PRIV_SG_OUT, PRIV_SG_IN, PRIV_UAS, PRIV_UAC = 49000, 49010, 49020, 49030
PRIV_A_RTP, PRIV_B_RTP, PRIV_EVIL_RTP = 49100, 49200, 49150


def private_config(tmpdir):
    return """
log:
  level: debug
  call_records_file: %(d)s/cdr.json
  events_file: %(d)s/events.json
sip:
  t1: 200ms
media:
  port_min: 49400
  port_max: 49499
  kernel: on
zones:
  - name: internet
    trust: untrusted
    listen: [ "udp:%(a)s:%(out)d" ]
    route:
      backends: [ "udp:%(uas_ip)s:%(uas)d" ]
  - name: pbx
    trust: trusted
    listen: [ "udp:%(b)s:%(inn)d" ]
""" % {"d": tmpdir, "a": PRIV_A, "b": PRIV_B, "out": PRIV_SG_OUT,
       "inn": PRIV_SG_IN, "uas": PRIV_UAS, "uas_ip": PRIV_B_PARTY}


@pytest.fixture
def private_net():
    """Both parties' namespaces and veth pairs (before start); removed
    after."""
    if os.getuid() != 0 or not shutil.which("ip"):
        pytest.skip("needs root and ip")
    tag = net_tag()
    ns = {"a": "sgpv%sa" % tag, "b": "sgpv%sb" % tag}
    net = Netns()
    try:
        net.add(ns["a"], PRIV_A, PRIV_A_PARTY)
        net.add(ns["b"], PRIV_B, PRIV_B_PARTY)
        yield ns
    finally:
        net.close()


def test_kernel_private_addresses(sipguard, tmp_path, private_net):
    """Both parties private, media from exactly their SDP addresses: the
    kernel relays both directions (it used to wait for a NAT latch that
    such a party never made: all of it stayed in userspace)."""
    ns = private_net
    tmpdir = str(tmp_path)
    d = sipguard(private_config(tmpdir))
    kernel_ok(d)
    a, b, uac, uas = ns_parties(
        ns, PRIV_A_PARTY, PRIV_A_RTP, (PRIV_A, PRIV_SG_OUT), PRIV_UAC,
        PRIV_B_PARTY, PRIV_B_RTP, PRIV_UAS, 49300)
    evil = in_netns(ns["a"], lambda: RtpPeer(PRIV_A_PARTY, PRIV_EVIL_RTP))
    try:
        time.sleep(0.3)
        uac.invite()
        code, raw, _ = uac.wait_final()
        assert code == 200, uac.log
        uac.ack()
        assert sdp_of(raw)["ip"] == PRIV_A
        relay_a = (PRIV_A, sdp_of(raw)["port"])
        offer = wait_for(lambda: callee_sdp(uas))
        assert offer["ip"] == PRIV_B
        relay_b = (PRIV_B, offer["port"])
        # A's media waits in the relay until B was heard (its SDP
        # address is only a guess until then), not longer.
        sent_a = a.send(relay_a, 1)
        sent_b = b.send(relay_b, 100)
        # Another port of the caller's address, once its SDP port
        # latched: refused, by the kernel (a miss) and the relay.
        evil.send(relay_a, 5)
        sent_a += a.send(relay_a, 99)
        got_b = b.recv_all()
        got_a = a.recv_all()
        assert [p for p, _ in got_b] == sent_a
        assert all(src == relay_b for _, src in got_b)
        assert [p for p, _ in got_a] == sent_b
        assert all(src == relay_a for _, src in got_a)
        ev = wait_for(lambda: events(tmpdir, "rtp-injection"))
        assert ev and ev[0]["src"] == PRIV_A_PARTY, ev
        time.sleep(1.2)     # the relay merges the kernel's counters
        assert uac.bye() == 200
        assert uas.wait(10) == 0, uas.errors()
        m = wait_for(lambda: records(tmpdir))[0]["media"][0]
        assert m["caller"]["packets"] == 100, m
        assert m["callee"]["packets"] == 100, m
        assert m["caller"]["injected"] == 5, m
        # The first packet(s) of each direction went through the relay.
        assert m["caller"]["kernel"] >= 90 and m["callee"]["kernel"] >= 90, m
    finally:
        uas.stop()
        uac.close()
        a.close()
        b.close()
        evil.close()
