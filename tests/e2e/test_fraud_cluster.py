"""
Issue 9 with issue 5: a user's concurrent-call limit holds across two
sipguard instances sharing one redis-server (Debian's, started here and
stopped by pid).  Instance A listens on 127.0.0.21, B on 127.0.0.22;
the PBX stand-in (sipp UAS) and the callers are on 127.0.0.1.

- Limit 2: one call through A, one through B, both up; a third through
  A is refused with the configured 403 (A counts B's call), and through
  B too.
- When the calls end, their slots are free: a new call passes.
- Instance death: A killed (SIGKILL) with 2 calls up; B admits the
  user again once A's heartbeat lapsed, not before.
- Redis stopped: each instance enforces the limit on its own calls;
  Redis back (empty): both count their calls again, the limit holds.
- Neither store.secret nor store.password: still shared, under a key
  anyone can derive from key_prefix (no name in clear; a warning says
  names can be guessed back).

Ports 38000-38499 only (this file's range); redis on 38400.
"""
import json
import signal
import subprocess
import tempfile
import time
import urllib.request

import pytest

from conftest import Daemon
from opsconf import CTL
from fraudcluster import REFUSED, TRYING, RawInvites, fraud_config
from peers import (TrackedSipp as Sipp, redis_fixture,
                   stop_tracked_sipps)  # noqa: F401 (autouse)

REDIS_PORT = 38400
A_IP, B_IP = "127.0.0.21", "127.0.0.22"
SG_OUT, SG_IN = 38060, 38070
UAS = 38080
UAC = 38090
RAW = 38200


@pytest.fixture
def redis():
    yield from redis_fixture(REDIS_PORT, "sipguard-fredis-")


def config(ip, name, **kw):
    return fraud_config(
        ip, name, **kw, out=SG_OUT, inn=SG_IN, backend=UAS, rport=REDIS_PORT,
        prefix="fraud-e2e:", classes="      max_concurrent: 2",
        dial_rules=['{ name: national, action: allow, prefixes: [ "+44" ] }'],
        users=["{ user: sipp, class: local }"])


_raw = RawInvites(SG_OUT, RAW, "fc")


def ask(sg_ip, number, user="sipp"):
    return _raw.ask(sg_ip, number, user)


def test_concurrent_limit_holds_across_instances(sipguard, redis):
    a = sipguard(config(A_IP, "fa"))
    b = sipguard(config(B_IP, "fb"))
    assert a.wait_log("connected") and b.wait_log("connected")
    uas = Sipp("uas_rr.xml", ("127.0.0.1", UAS), calls=0)
    time.sleep(0.3)
    # One call through each instance, both up for 4 s.
    c1 = Sipp("uac_hold.xml", ("127.0.0.1", UAC), (A_IP, SG_OUT), calls=1,
              service="02079460000", extra=["-d", "4000"])
    time.sleep(0.5)
    c2 = Sipp("uac_hold.xml", ("127.0.0.1", UAC + 1), (B_IP, SG_OUT),
              calls=1, service="02079460001", extra=["-d", "4000"])
    time.sleep(1.0)
    # The third is refused by either instance: each counts the other's.
    assert ask(A_IP, "02079460002") == \
        REFUSED
    assert ask(B_IP, "02079460003") == \
        REFUSED
    # The fraud keys name the user and the source by a keyed hash only
    # (the request rates' "ri:SRC" and the bans name sources: not here).
    keys = [k for k in redis.cli("--scan", "--pattern", "fraud-e2e:*")
            .split() if k.startswith(("fraud-e2e:cnt:f",
                                      "fraud-e2e:rate:f"))]
    assert any(k.startswith("fraud-e2e:cnt:fc:") for k in keys), keys
    assert not [k for k in keys if "sipp" in k or "127.0.0" in k], keys
    assert c1.wait(30) == 0, c1.errors()[-2000:]
    assert c2.wait(30) == 0, c2.errors()[-2000:]
    # Both ended: their slots are free, across the cluster.
    time.sleep(0.3)
    assert ask(A_IP, "02079460004") == TRYING
    c3 = Sipp("uac_rr.xml", ("127.0.0.1", UAC + 2), (B_IP, SG_OUT),
              calls=1, service="02079460005")
    assert c3.wait(30) == 0, c3.errors()[-2000:]
    uas.stop()


def wait_log(d, needle, n=1, timeout=8.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if d.log().count(needle) >= n:
            return True
        time.sleep(0.05)
    return False


def test_instance_death_frees_its_calls(sipguard, redis):
    """A dies with 2 calls of the user up (SIGKILL: no goodbye to
    Redis); B refuses the user's next call while A's heartbeat lives,
    and admits it once that lapsed (3 s): A's share counts no more."""
    tmp = tempfile.TemporaryDirectory(prefix="sipguard-fa-")
    a = Daemon(config(A_IP, "fa"), tmp.name)
    try:
        assert a.wait_log("listening") and a.wait_log("connected"), a.log()
        b = sipguard(config(B_IP, "fb"))
        assert b.wait_log("connected")
        uas = Sipp("uas_rr.xml", ("127.0.0.1", UAS), calls=0)
        time.sleep(0.3)
        assert ask(A_IP, "02079460010") == TRYING
        assert ask(A_IP, "02079460011") == TRYING
        time.sleep(0.3)
        assert ask(B_IP, "02079460012") == \
            REFUSED
        a.proc.send_signal(signal.SIGKILL)
        a.proc.wait(timeout=10)
        t0 = time.time()
        got = None
        while time.time() - t0 < 8:
            got = ask(B_IP, "02079460013")
            if got == TRYING:
                break
            time.sleep(0.5)
        assert got == TRYING, got
        # Not before A's heartbeat (3 x 500 ms, at least 3 s) lapsed.
        assert time.time() - t0 > 1.5
        uas.stop()
    finally:
        if a.proc.poll() is None:
            a.proc.send_signal(signal.SIGKILL)
            a.proc.wait(timeout=10)
        a.logf.close()
        tmp.cleanup()


def test_redis_down_local_limits_then_converge(sipguard, redis):
    """Redis stops: each instance enforces the limit on its own calls
    (closed per instance, not open).  Redis comes back empty: both push
    their calls in progress again and the cluster limit holds again."""
    a = sipguard(config(A_IP, "fa"))
    b = sipguard(config(B_IP, "fb"))
    assert a.wait_log("connected") and b.wait_log("connected")
    uas = Sipp("uas_rr.xml", ("127.0.0.1", UAS), calls=0)
    time.sleep(0.3)
    redis.stop()
    assert wait_log(a, "unreachable") and wait_log(b, "unreachable")
    # A alone: 2 calls, the third refused.
    assert ask(A_IP, "02079460020") == TRYING
    assert ask(A_IP, "02079460021") == TRYING
    time.sleep(0.2)
    assert ask(A_IP, "02079460022") == \
        REFUSED
    # B alone knows only its own calls.
    assert ask(B_IP, "02079460023") == TRYING
    redis.start()
    assert wait_log(a, "is back") and wait_log(b, "is back")
    assert wait_log(a, "calls in progress counted in the store again")
    time.sleep(0.5)
    # 3 calls up in the cluster: both refuse.
    assert ask(B_IP, "02079460024") == \
        REFUSED
    assert ask(A_IP, "02079460025") == \
        REFUSED
    uas.stop()


def test_without_secret_still_shared(sipguard, redis):
    """No store.secret (nor password): the limit still holds across the
    cluster, the keys hashed under the public key (no user name or
    address in clear), and the weakness said at start."""
    a = sipguard(config(A_IP, "fa", secret=""))
    b = sipguard(config(B_IP, "fb", secret=""))
    assert a.wait_log("connected") and b.wait_log("connected")
    assert "anyone can derive from key_prefix" in a.log()
    uas = Sipp("uas_rr.xml", ("127.0.0.1", UAS), calls=0)
    time.sleep(0.3)
    assert ask(A_IP, "02079460030") == TRYING
    assert ask(B_IP, "02079460031") == TRYING
    time.sleep(0.3)
    # 2 calls up in the cluster: the third refused, through either.
    assert ask(A_IP, "02079460032") == REFUSED
    assert ask(B_IP, "02079460033") == REFUSED
    keys = redis.cli("--scan", "--pattern", "fraud-e2e:*")
    fraud = [k for k in keys.split()
             if k.startswith(("fraud-e2e:cnt:f", "fraud-e2e:rate:f"))]
    assert fraud, keys
    assert not [k for k in fraud if "sipp" in k or "127.0.0" in k], fraud
    uas.stop()

ANOMALY = """\
  anomaly:
    short_calls: { count: 2, shorter_than: 10s, window: 10m, action: block }
    block_time: 1h
"""


DASH_TOKEN = "e2e-fraud-dashboard-token"
DASH = 38450  # A's dashboard


def block_config(ip, name, ctl_dir, dash=""):
    return "guard:\n  control_socket: %s/%s.sock\n" % (ctl_dir, name) + \
        dash + fraud_config(
        ip, name, out=SG_OUT, inn=SG_IN, backend=UAS, rport=REDIS_PORT,
        prefix="fraud-e2e:", classes="      max_concurrent: 10",
        dial_rules=['{ name: intl, action: allow, '
                    'prefixes: [ "+44", "+49" ] }'],
        users=["{ user: sipp, class: local }",
               "{ user: other, class: local }"]) + ANOMALY


def held(ctl_dir, name):
    """sipguardctl held on instance name: the users listed."""
    r = run_ctl(ctl_dir, name, "held")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["held"]


def run_ctl(ctl_dir, name, *args):
    return subprocess.run([CTL, "-s", "%s/%s.sock" % (ctl_dir, name),
                           "--json"] + list(args), capture_output=True,
                          timeout=10, text=True)


def test_block_holds_across_instances(sipguard, redis, tmp_path):
    """Three short international calls through A (an IRSF burst: the
    short_calls rule, action block) block the user on A, and on B within
    a second: B refuses the user's next call, not another user's.  Redis
    holds the block under the user's hash ("fb:"), never the name.  Both
    list the user (sipguardctl held); an administrator's unblock on B
    frees it on both."""
    d = str(tmp_path)
    a = sipguard(block_config(A_IP, "fa", d, dash="""ops:
  metrics_listen: "tcp:%s:%d"
  dashboard: true
  dashboard_token: "%s"
""" % (A_IP, DASH, DASH_TOKEN)))
    b = sipguard(block_config(B_IP, "fb", d))
    assert a.wait_log("connected") and b.wait_log("connected")
    uas = Sipp("uas_rr.xml", ("127.0.0.1", UAS), calls=0)
    time.sleep(0.3)
    assert ask(B_IP, "0049301234500") == TRYING
    burst = Sipp("uac_rr.xml", ("127.0.0.1", UAC + 3), (A_IP, SG_OUT),
                 calls=3, service="0049301234567")
    assert burst.wait(30) == 0, burst.errors()[-2000:]
    # The third call's end fired the rule on A (its BYE may still be
    # on its way when sipp exits).
    deadline = time.time() + 3.0
    while ask(A_IP, "0049301234568") != REFUSED:
        assert time.time() < deadline, "A does not block the user"
        time.sleep(0.05)
    deadline = time.time() + 1.0
    while ask(B_IP, "0049301234569") != REFUSED:
        assert time.time() < deadline, "B still admits the blocked user"
        time.sleep(0.05)
    assert ask(B_IP, "02079460040", user="other") == TRYING
    fields = redis.cli("HKEYS", "fraud-e2e:bans").split()
    assert any(f.startswith("fb:") for f in fields), fields
    assert not [f for f in fields if "sipp" in f], fields
    for name in ("fa", "fb"):
        h = held(d, name)
        assert [(x["user"], x["action"], x["rule"]) for x in h] == \
            [("sipp", "block", "fraud-short-calls")], h
        assert 3500 < h[0]["expires_in"] <= 3600, h
    r = run_ctl(d, "fb", "unblock", "nobody")
    assert r.returncode == 1 and "not found" in r.stdout, r
    r = run_ctl(d, "fb", "unblock", "sipp")
    assert r.returncode == 0, r
    assert ask(B_IP, "0049301234570") == TRYING
    deadline = time.time() + 1.0
    while ask(A_IP, "0049301234571") != TRYING:
        assert time.time() < deadline, "A still blocks the user"
        time.sleep(0.05)
    assert held(d, "fa") == [] and held(d, "fb") == []
    assert redis.cli("HKEYS", "fraud-e2e:bans").split() == []
    # Again through A (an unblock starts its short-call count afresh),
    # and lifted from A's dashboard this time: the page's list and what
    # its unblock button calls; B lets the user through again.
    burst = Sipp("uac_rr.xml", ("127.0.0.1", UAC + 4), (A_IP, SG_OUT),
                 calls=3, service="0049301234572")
    assert burst.wait(30) == 0, burst.errors()[-2000:]
    deadline = time.time() + 3.0
    while not dash_state()["held"]:
        assert time.time() < deadline, "A's dashboard lists nobody"
        time.sleep(0.1)
    assert [x["user"] for x in dash_state()["held"]] == ["sipp"]
    with urllib.request.urlopen("http://%s:%d/metrics" % (A_IP, DASH),
                                timeout=5) as r:
        assert 'sipguard_fraud_users_held{action="block"} 1' in \
            r.read().decode()
    assert dash_post("/api/v1/unblock?user=sipp") == 200
    assert dash_state()["held"] == []
    deadline = time.time() + 1.0
    while ask(B_IP, "0049301234573") != TRYING:
        assert time.time() < deadline, "B still blocks the user"
        time.sleep(0.05)
    assert "dashboard: unblock sipp: done" in a.log()
    uas.stop()


def dash_state():
    req = urllib.request.Request("http://%s:%d/api/v1/state" % (A_IP, DASH))
    req.add_header("Authorization", "Bearer " + DASH_TOKEN)
    with urllib.request.urlopen(req, timeout=5) as r:
        return json.loads(r.read().decode())


def dash_post(path):
    req = urllib.request.Request("http://%s:%d%s" % (A_IP, DASH, path),
                                 method="POST")
    req.add_header("Authorization", "Bearer " + DASH_TOKEN)
    with urllib.request.urlopen(req, timeout=5) as r:
        return r.status
