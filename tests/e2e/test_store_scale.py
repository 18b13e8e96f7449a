"""
Issue 9, end to end: scale-out through Redis beyond bans - registration
bindings handed between instances, dialog snapshots taken over when an
instance dies, and a Redis outage during traffic.

Two sipguard instances, A on 127.0.0.21 and B on 127.0.0.22 (untrusted
zone 37560 udp+tcp, trusted zone 37570), share one redis-server started
here on 127.0.0.1:37900 and stopped by pid.  Kamailio (the stand-in PBX,
kamailio_cluster.cfg) on 127.0.0.1:37580 sends calls for registered
users out through B.  sipp peers on 37581-37599.  Every process is ours,
started here and stopped (or killed, for the test) by pid.
"""
import json
import os
import signal
import subprocess
import time

import pytest

from confparts import zones_and_store
from conftest import BIN, Daemon, options_status
from peers import Kamailio, Sipp, redis_fixture

CTL = os.path.join(os.path.dirname(BIN), "sipguardctl")
REDIS_PORT = 37900
A_IP, B_IP = "127.0.0.21", "127.0.0.22"
SG_OUT, SG_IN = 37560, 37570
PBX, PBX_UAS = 37580, 37581
UAS = 37582          # callee behind the instances (test b)
CALLER = 37590       # sipp caller
PREFIX = "scale:"


@pytest.fixture
def redis():
    yield from redis_fixture(REDIS_PORT)


def config(d, ip, name, backend_port):
    return """
log:
  level: %(level)s
  call_records_file: %(d)s/cdr.json
guard:
  control_socket: %(d)s/ctl.sock
""" % {"d": d, "level": os.environ.get("SCALE_LOG", "info")} + \
        zones_and_store(ip, SG_OUT, SG_IN, backend_port, REDIS_PORT, name,
                        PREFIX, transports=("udp", "tcp"))


class Instance(Daemon):
    """A sipguard in a directory of its own (its log, records, socket)."""

    def __init__(self, root, ip, name, backend_port):
        d = os.path.join(root, name)
        os.makedirs(d, exist_ok=True)
        self.name = name
        super().__init__(config(d, ip, name, backend_port), d)
        assert self.wait_log("connected"), self.log()

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=5)
        self.logf.close()

    def records(self):
        p = os.path.join(self.dir, "cdr.json")
        if not os.path.exists(p):
            return []
        return [json.loads(l) for l in open(p).read().splitlines()
                if l.strip()]


@pytest.fixture
def cluster(tmp_path):
    started = []

    def start(ip, name, backend_port):
        i = Instance(str(tmp_path), ip, name, backend_port)
        started.append(i)
        return i

    yield start
    for i in started:
        if i.proc.returncode is None:
            rc = i.stop()
            assert rc == 0, "%s exited with %r:\n%s" % (i.name, rc, i.log())


def until(pred, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


def options(dst_ip, src, timeout=0.3):
    return options_status((dst_ip, SG_OUT), src, timeout)


def call_registered_user(ua, caller_port):
    """A call from the PBX's side to the user registered as carol."""
    caller = Sipp("uac_rr.xml", ("127.0.0.1", caller_port),
                  ("127.0.0.1", PBX), calls=1, service="carol")
    try:
        seen = ua.answer_call()
    finally:
        rc = caller.wait(20)
    return seen, rc, caller


def test_user_registered_through_a_reached_through_b(cluster, redis):
    """(a) The registrar holds A's Contact; the PBX sends the call to B;
    B hands it to A, which delivers it over the user's own connection."""
    from miniua import MiniUA
    kam = Kamailio("127.0.0.1", PBX, uas="127.0.0.1:%d" % PBX_UAS,
                   cfg="kamailio_cluster.cfg")
    ua = None
    try:
        a = cluster(A_IP, "a", PBX)
        b = cluster(B_IP, "b", PBX)
        ua = MiniUA((A_IP, SG_OUT), "carol", "secret")
        ua.register()
        # A shared the binding: held by A, reachable at A's trusted side.
        assert until(lambda: redis.cli("HLEN", PREFIX + "reg:a") == "1", 3)
        tok, rec = redis.cli("HGETALL", PREFIX + "reg:a").split("\n")
        assert rec.startswith("b1,16:%s,1:a,20:udp:%s:%d," %
                              (tok, A_IP, SG_IN)), rec
        assert "sip:carol@" in rec and "10.99.0.5" in rec
        time.sleep(0.2)  # the channel message reaches B
        seen, rc, caller = call_registered_user(ua, CALLER)
        assert rc == 0, caller.errors()[-2000:]
        assert "ACK" in seen and "BYE" in seen, seen
        # Both instances were in the path, each wrote its call record:
        # B's callee is A (the handoff), A's callee the user's flow.
        assert until(lambda: len(a.records()) == 1 and
                     len(b.records()) == 1, 3)
        rb, ra = b.records()[0], a.records()[0]
        assert rb["end_reason"].startswith("bye"), rb
        assert rb["callee"]["addr"] == "%s:%d" % (A_IP, SG_IN), rb
        assert rb["caller"]["addr"] == "127.0.0.1:%d" % PBX, rb
        assert ra["caller"]["addr"] == "%s:%d" % (B_IP, SG_IN), ra
        assert ra["call_id"] == rb["call_id"]
        # The call's snapshot went with the call.
        assert until(lambda: redis.cli("HLEN", PREFIX + "dlg:a") == "0", 3)
    finally:
        if ua:
            ua.close()
        kam.stop()


def invite_final(dst, ruri, src_port, timeout=2.0):
    """An INVITE from the PBX's address straight to dst; the final status
    (100 Trying skipped), or None when none came within timeout."""
    import socket
    cid = "scale-unreg-%f" % time.time()
    msg = ("INVITE %s SIP/2.0\r\n"
           "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-su-%f;rport\r\n"
           "Max-Forwards: 70\r\n"
           "From: <sip:pbx@127.0.0.1>;tag=su\r\n"
           "To: <%s>\r\n"
           "Call-ID: %s\r\n"
           "CSeq: 1 INVITE\r\n"
           "Contact: <sip:pbx@127.0.0.1:%d>\r\n"
           "Content-Length: 0\r\n\r\n" % (ruri, src_port, time.time(),
                                            ruri, cid, src_port)).encode()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind(("127.0.0.1", src_port))
        s.sendto(msg, dst)
        deadline = time.time() + timeout
        while time.time() < deadline:
            s.settimeout(max(0.01, deadline - time.time()))
            try:
                r = s.recvfrom(65535)[0]
            except socket.timeout:
                break
            code = int(r.split(b" ", 2)[1])
            if code >= 200:
                return code
        return None
    finally:
        s.close()


def test_unregistered_through_a_not_handed_over_by_b(cluster, redis):
    """(a') The user registered through A unregisters (Expires: 0) through
    A: the binding leaves Redis and B's replica, so a call for its old
    Contact entering B is refused by B itself (no trunk here: 404)
    instead of being handed to A.  A is frozen (SIGSTOP) meanwhile, so an
    answer can only be B's own."""
    from miniua import MiniUA
    kam = Kamailio("127.0.0.1", PBX, uas="127.0.0.1:%d" % PBX_UAS,
                   cfg="kamailio_cluster.cfg")
    ua = None
    try:
        a = cluster(A_IP, "a", PBX)
        cluster(B_IP, "b", PBX)
        ua = MiniUA((A_IP, SG_OUT), "carol", "secret")
        ua.register()
        assert until(lambda: redis.cli("HLEN", PREFIX + "reg:a") == "1", 3)
        tok = redis.cli("HKEYS", PREFIX + "reg:a")
        ruri = "sip:sg%s@%s:%d;transport=udp" % (tok, A_IP, SG_IN)
        time.sleep(0.2)  # the channel message reaches B
        # Control: registered, B hands the call to A, A to the user.
        ua_saw = []
        import threading
        t = threading.Thread(target=lambda: ua_saw.append(ua.reject_call()))
        t.start()
        assert invite_final((B_IP, SG_IN), ruri, 37596, 5) == 486
        t.join(6)
        assert ua_saw and ua_saw[0].startswith("INVITE "), ua_saw
        # Unregistered through A: gone from Redis, then from B.
        ua.register(expires=0)
        assert until(lambda: redis.cli("HLEN", PREFIX + "reg:a") == "0", 3), \
            redis.cli("HGETALL", PREFIX + "reg:a")
        time.sleep(0.2)
        a.proc.send_signal(signal.SIGSTOP)
        try:
            code = invite_final((B_IP, SG_IN), ruri, 37597, 1.0)
        finally:
            a.proc.send_signal(signal.SIGCONT)
        assert code in (404, 480), code
        with pytest.raises((TimeoutError, OSError)):
            ua.recv_msg(0.3)  # nothing reached the user
    finally:
        if ua:
            ua.close()
        kam.stop()


def test_kill_a_during_calls_b_ends_them(cluster, redis):
    """(b) kill -9 A with calls up: B takes its snapshots over, sends BYE
    to both sides and writes the call records (end_reason takeover)."""
    b = cluster(B_IP, "b", UAS)
    a = cluster(A_IP, "a", UAS)
    uas = Sipp("uas", ("127.0.0.1", UAS), calls=3, timeout=60)
    time.sleep(0.2)
    uac = Sipp("uac_wait_bye.xml", ("127.0.0.1", CALLER), (A_IP, SG_OUT),
               calls=3, rate=10, timeout=60)
    try:
        assert until(lambda: redis.cli("HLEN", PREFIX + "dlg:a") == "3", 5), \
            a.log()
        snap = redis.cli("HVALS", PREFIX + "dlg:a").split("\n")[0]
        # Compact and without secrets: no SDP, no credentials.
        assert snap.startswith("s1,") and len(snap) < 700, snap
        assert "v=0" not in snap and "Authorization" not in snap
        a.kill9()
        t0 = time.time()
        assert uac.wait(30) == 0, uac.errors()[-3000:]
        assert uas.wait(15) == 0, uas.errors()[-3000:]
        assert time.time() - t0 < 15
        assert "is gone: taking over its 3 calls" in b.log(), b.log()
        recs = b.records()
        assert len(recs) == 3, recs
        for r in recs:
            assert r["end_reason"] == "takeover", r
            assert r["caller"]["addr"] == "127.0.0.1:%d" % CALLER
            assert r["callee"]["addr"] == "127.0.0.1:%d" % UAS
            assert r["final_status"] == 200
        # A's state is gone from Redis: one winner took it.
        assert redis.cli("EXISTS", PREFIX + "dlg:a") == "0"
        assert redis.cli("SISMEMBER", PREFIX + "insts", "a") == "0"
    finally:
        uac.stop()
        uas.stop()


def test_a_stalled_and_taken_over_ends_its_calls(cluster, redis):
    """(b') A stalls (SIGSTOP) past its heartbeat with calls up: B takes
    them over as from a dead instance (BYE both sides, records
    "takeover").  When A runs again it learns which of its calls were
    claimed and ends them without BYE, with records
    "taken-over-elsewhere", instead of keeping them until its timers."""
    b = cluster(B_IP, "b", UAS)
    a = cluster(A_IP, "a", UAS)
    uas = Sipp("uas", ("127.0.0.1", UAS), calls=2, timeout=60)
    time.sleep(0.2)
    uac = Sipp("uac_wait_bye.xml", ("127.0.0.1", CALLER), (A_IP, SG_OUT),
               calls=2, rate=10, timeout=60)
    stopped = False
    try:
        assert until(lambda: redis.cli("HLEN", PREFIX + "dlg:a") == "2", 5), \
            a.log()
        a.proc.send_signal(signal.SIGSTOP)
        stopped = True
        assert uac.wait(30) == 0, uac.errors()[-3000:]
        assert uas.wait(15) == 0, uas.errors()[-3000:]
        assert "is gone: taking over its 2 calls" in b.log(), b.log()
        a.proc.send_signal(signal.SIGCONT)
        stopped = False
        assert a.wait_log("calls were ended by instance b", 10), a.log()
        assert until(lambda: len(a.records()) == 2, 5), a.records()
        for r in a.records():
            assert r["end_reason"] == "taken-over-elsewhere", r
        assert all(r["end_reason"] == "takeover" for r in b.records())
        # A is back and alive: its snapshots are gone, nobody takes it.
        assert until(lambda: redis.cli("HLEN", PREFIX + "dlg:a") == "0", 3)
        assert redis.cli("SISMEMBER", PREFIX + "insts", "a") == "1"
    finally:
        if stopped:
            a.proc.send_signal(signal.SIGCONT)
        uac.stop()
        uas.stop()


def test_redis_outage_during_traffic(cluster, redis):
    """(c) Redis stops with calls up and a user registered; protection
    continues on local state; Redis returns empty; state converges and
    nobody takes over a live instance's calls."""
    from miniua import MiniUA
    kam = Kamailio("127.0.0.1", PBX, uas="127.0.0.1:%d" % PBX_UAS,
                   cfg="kamailio_cluster.cfg")
    ua = uac = kam_uas = None
    try:
        b = cluster(B_IP, "b", PBX)
        a = cluster(A_IP, "a", PBX)
        ua = MiniUA((A_IP, SG_OUT), "carol", "secret")
        ua.register()
        # Calls through A, to the PBX, which passes them to its own UAS.
        kam_uas = Sipp("uas", ("127.0.0.1", PBX_UAS), calls=2, timeout=60)
        uac = Sipp("uac_wait_bye.xml", ("127.0.0.1", CALLER),
                   (A_IP, SG_OUT), calls=2, rate=10, timeout=60,
                   service="pbxuser")
        assert until(lambda: redis.cli("HLEN", PREFIX + "dlg:a") == "2", 5)
        redis.stop()
        assert a.wait_log("unreachable") and b.wait_log("unreachable")
        # Protection continues: a ban on A while Redis is away.
        x = "127.0.0.97"
        rc = subprocess.run([CTL, "-s", os.path.join(a.dir, "ctl.sock"),
                             "ban", x, "--for", "5m"], capture_output=True,
                            timeout=10).returncode
        assert rc == 0
        assert options(A_IP, x) is None
        assert options(A_IP, "127.0.0.1", timeout=2) == 200
        redis.start()  # empty
        assert a.wait_log("is back") and b.wait_log("is back")
        # Converged: A's calls and binding are in Redis again, the ban
        # reached B, and B hands calls to A again.
        assert until(lambda: redis.cli("HLEN", PREFIX + "dlg:a") == "2", 5)
        assert until(lambda: redis.cli("HLEN", PREFIX + "reg:a") == "1", 5)
        # The binding rewritten at resync carries its AOR again.
        rec = redis.cli("HVALS", PREFIX + "reg:a")
        assert ",21:sip:carol@example.com," in rec, rec
        assert until(lambda: options(B_IP, x, timeout=0.1) is None, 3)
        time.sleep(0.3)
        seen, rc, caller = call_registered_user(ua, CALLER + 1)
        assert rc == 0, caller.errors()[-2000:]
        # Past B's takeover grace: A's calls are still A's.
        time.sleep(7)
        assert "taking over" not in b.log(), b.log()
        assert redis.cli("HLEN", PREFIX + "dlg:a") == "2"
        assert not a.records() or all(
            r["end_reason"] != "takeover" for r in a.records())
    finally:
        for s in (uac, kam_uas):
            if s:
                s.stop()
        if ua:
            ua.close()
        kam.stop()
