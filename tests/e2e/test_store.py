"""
Issue 9, end to end: two sipguard instances share bans through a real
redis-server (Debian's), started here on a port of this test's range
and stopped by pid.

Instance A listens on 127.0.0.11, B on 127.0.0.12 (ports 34060/34070);
Redis on 127.0.0.1:34379; the "scanner" sends from 127.0.0.77..79.  A
ban is observed the way an attacker sees it: an OPTIONS ping to the
instance gets 200 while the source is free and nothing once it is
banned.
"""
import os
import subprocess
import time

import pytest

from conftest import BIN, options_status
from peers import redis_fixture

CTL = os.path.join(os.path.dirname(BIN), "sipguardctl")
REDIS_PORT = 34379
SG_PORT, SG_IN = 34060, 34070
A_IP, B_IP = "127.0.0.11", "127.0.0.12"
SCAN = ["127.0.0.77", "127.0.0.78", "127.0.0.79"]


@pytest.fixture
def redis():
    yield from redis_fixture(REDIS_PORT)


def config(tmp, ip, name, backend="redis", prefix="e2e:"):
    return """
log:
  level: info
guard:
  control_socket: %(tmp)s/%(name)s.sock
zones:
  - name: internet
    trust: untrusted
    listen: [ "udp:%(ip)s:%(port)d" ]
    route:
      backends: [ "udp:127.0.0.1:34080" ]
  - name: pbx
    trust: trusted
    listen: [ "udp:%(ip)s:%(inn)d" ]
store:
  backend: %(backend)s
  address: 127.0.0.1:%(rport)d
  instance: %(name)s
  key_prefix: "%(prefix)s"
  timeout: 500ms
  reconnect_max: 1s
""" % {"tmp": tmp, "name": name, "ip": ip, "port": SG_PORT, "inn": SG_IN,
       "backend": backend, "rport": REDIS_PORT, "prefix": prefix}


def ctl(tmp, name, *args):
    r = subprocess.run([CTL, "-s", os.path.join(tmp, name + ".sock")] +
                       list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=10)
    return r.returncode, r.stdout.decode()


def options(dst_ip, src, timeout=0.3):
    return options_status((dst_ip, SG_PORT), src, timeout)


def until(pred, timeout):
    """Seconds until pred() held, or None."""
    t0 = time.time()
    while time.time() - t0 < timeout:
        if pred():
            return time.time() - t0
        time.sleep(0.02)
    return None


def two(sipguard, tmp):
    a = sipguard(config(tmp, A_IP, "a"), ready="store: redis at")
    b = sipguard(config(tmp, B_IP, "b"), ready="store: redis at")
    assert a.wait_log("connected") and b.wait_log("connected")
    # Both write one log file (the fixture's directory): a line seen may
    # be the other's.  Each one answers before the test begins.
    assert until(lambda: options(A_IP, "127.0.0.1", timeout=0.1) == 200,
                 3.0) is not None
    assert until(lambda: options(B_IP, "127.0.0.1", timeout=0.1) == 200,
                 3.0) is not None
    return a, b


def test_ban_on_a_drops_on_b_and_unban_on_b_frees_on_a(sipguard, redis,
                                                        tmp_path):
    tmp = str(tmp_path)
    a, b = two(sipguard, tmp)
    x = SCAN[0]
    assert options(A_IP, x, timeout=2) == 200
    assert options(B_IP, x, timeout=2) == 200
    rc, out = ctl(tmp, "a", "ban", x, "--for", "5m", "--reason", "scanner")
    assert rc == 0, out
    assert options(A_IP, x) is None
    dt = until(lambda: options(B_IP, x, timeout=0.1) is None, 2.0)
    assert dt is not None and dt < 1.0, "B still answers %s" % x
    rc, out = ctl(tmp, "b", "bans")
    assert x in out and "manual" in out and "scanner" in out, out
    # Others pass on both.
    assert options(B_IP, "127.0.0.1", timeout=2) == 200
    # The record in Redis carries rule, reason and expiry.
    rec = redis.cli("HGET", "e2e:bans", x)
    assert rec.startswith("v1|") and rec.endswith("|manual|scanner"), rec
    # Unban on B frees it on A.
    rc, out = ctl(tmp, "b", "unban", x)
    assert rc == 0, out
    assert options(B_IP, x, timeout=2) == 200
    dt = until(lambda: options(A_IP, x, timeout=0.1) == 200, 2.0)
    assert dt is not None and dt < 1.0, "A still drops %s" % x
    assert redis.cli("HGET", "e2e:bans", x) == ""


def test_starting_instance_loads_bans(sipguard, redis, tmp_path):
    tmp = str(tmp_path)
    a = sipguard(config(tmp, A_IP, "a"), ready="store: redis at")
    assert a.wait_log("connected")
    x = SCAN[1]
    rc, out = ctl(tmp, "a", "ban", x, "--for", "5m")
    assert rc == 0, out
    b = sipguard(config(tmp, B_IP, "b"), ready="listening")
    assert b.wait_log("1 shared bans loaded"), b.log()
    # Its very first answer to the scanner is silence.
    assert options(B_IP, x) is None


def test_redis_down_and_back(sipguard, redis, tmp_path):
    tmp = str(tmp_path)
    a, b = two(sipguard, tmp)
    x1, x2, x3 = SCAN
    assert ctl(tmp, "a", "ban", x1, "--for", "5m")[0] == 0
    assert until(lambda: options(B_IP, x1, timeout=0.1) is None, 2.0)
    redis.stop()
    assert a.wait_log("unreachable") and b.wait_log("unreachable")
    # Protection continues on local state; others still served.
    for _ in range(20):
        assert options(A_IP, x1, timeout=0.05) is None
        assert options(B_IP, x1, timeout=0.05) is None
    assert options(A_IP, "127.0.0.1", timeout=2) == 200
    assert options(B_IP, "127.0.0.1", timeout=2) == 200
    # Changes while Redis is away: a new ban on A, an unban on B.
    assert ctl(tmp, "a", "ban", x2, "--for", "5m")[0] == 0
    assert ctl(tmp, "b", "unban", x1)[0] == 0
    assert ctl(tmp, "b", "ban", x3, "--for", "5m")[0] == 0
    time.sleep(0.5)
    assert a.log().count("unreachable") == 1, "logged once per outage"
    redis.start()  # empty: no persistence
    assert a.wait_log("is back") and b.wait_log("is back")
    # Converged: x2 and x3 banned on both, x1 free on both.
    assert until(lambda: options(B_IP, x2, timeout=0.1) is None, 3.0)
    assert until(lambda: options(A_IP, x3, timeout=0.1) is None, 3.0)
    assert until(lambda: options(A_IP, x1, timeout=0.1) == 200, 3.0)
    assert options(B_IP, x1, timeout=2) == 200
    keys = redis.cli("HKEYS", "e2e:bans").split()
    assert sorted(keys) == sorted([x2, x3]), keys


def test_memory_backend_is_alone(sipguard, tmp_path):
    """No Redis, default backend: nothing is shared, nothing breaks."""
    tmp = str(tmp_path)
    sipguard(config(tmp, A_IP, "a", backend="memory"))
    sipguard(config(tmp, B_IP, "b", backend="memory"))
    x = SCAN[0]
    assert ctl(tmp, "a", "ban", x, "--for", "5m")[0] == 0
    assert options(A_IP, x) is None
    time.sleep(0.3)
    assert options(B_IP, x, timeout=2) == 200
