"""
store.tls end to end: sipguard instances share bans through a real
redis-server (Debian's 7.0) that listens on a TLS port only
(`--port 0 --tls-port`, `tls-auth-clients yes`), with a CA, server and
client certificates made here by the openssl CLI (peers.RedisCA).

Instance A listens on 127.0.0.11, B on 127.0.0.12 (ports 39060/39070),
Redis on 127.0.0.1:39379, relay ports 39400-39499; scanners send from
127.0.0.77..78.  As in test_store.py, a ban is what an attacker sees: an
OPTIONS ping gets 200 while the source is free and nothing once banned.
"""
import os
import socket
import subprocess
import time

import pytest

from conftest import BIN, options_status
from confparts import media, zones_and_store
from peers import redis_fixture
from test_store import ctl, until  # the sipguardctl and wait helpers

REDIS_PORT = 39379
SG_PORT, SG_IN = 39060, 39070
A_IP, B_IP = "127.0.0.11", "127.0.0.12"
SCAN = ["127.0.0.77", "127.0.0.78"]


@pytest.fixture
def redis():
    yield from redis_fixture(REDIS_PORT, "sipguard-tredis-", tls=True)


def config(tmp, ip, name, tls, ca=None, cert=True, server_name=None):
    extra = "  tls: true\n  tls_ca: %s\n" % (ca or tls.ca)
    if cert:
        extra += "  tls_cert: %s\n  tls_key: %s\n" % (tls.cli_crt,
                                                      tls.cli_key)
    if server_name:
        extra += "  tls_server_name: %s\n" % server_name
    return ("log:\n  level: info\nguard:\n  control_socket: %s/%s.sock\n" % (
        tmp, name) +
        zones_and_store(ip, SG_PORT, SG_IN, 39080, REDIS_PORT, name,
                        "e2e-tls:", store_extra=extra) +
        media(39400, 39499))


def options(dst_ip, src, timeout=0.3):
    return options_status((dst_ip, SG_PORT), src, timeout)


def test_tls_ban_on_a_drops_on_b_and_unban_on_b_frees_on_a(sipguard, redis,
                                                            tmp_path):
    tmp = str(tmp_path)
    # Both write one log file, which the second truncates: each one's
    # lines are checked before the next starts.
    a = sipguard(config(tmp, A_IP, "a", redis.tls), ready="store: redis at")
    assert a.wait_log("tls:127.0.0.1:%d connected" % REDIS_PORT), a.log()
    assert "over TLS" in a.log()
    assert "server certificate verified for 127.0.0.1" in a.log()
    b = sipguard(config(tmp, B_IP, "b", redis.tls), ready="store: redis at")
    assert b.wait_log("tls:127.0.0.1:%d connected" % REDIS_PORT), b.log()
    for ip in (A_IP, B_IP):
        assert until(lambda: options(ip, "127.0.0.1", timeout=0.1) == 200,
                     3.0) is not None
    x = SCAN[0]
    assert options(A_IP, x, timeout=2) == 200
    assert options(B_IP, x, timeout=2) == 200
    rc, out = ctl(tmp, "a", "ban", x, "--for", "5m", "--reason", "scanner")
    assert rc == 0, out
    assert options(A_IP, x) is None
    dt = until(lambda: options(B_IP, x, timeout=0.1) is None, 2.0)
    assert dt is not None and dt < 1.0, "B still answers %s" % x
    # The record reached Redis (read back over TLS by redis-cli).
    rec = redis.cli("HGET", "e2e-tls:bans", x)
    assert rec.startswith("v1|") and rec.endswith("|manual|scanner"), rec
    rc, out = ctl(tmp, "b", "unban", x)
    assert rc == 0, out
    assert options(B_IP, x, timeout=2) == 200
    dt = until(lambda: options(A_IP, x, timeout=0.1) == 200, 2.0)
    assert dt is not None and dt < 1.0, "A still drops %s" % x
    assert redis.cli("HGET", "e2e-tls:bans", x) == ""


@pytest.mark.parametrize("case", ["wrong_ca", "wrong_name", "no_cert"])
def test_tls_refused_keeps_local_protection(sipguard, redis, tmp_path, case):
    """An instance that cannot establish TLS (a CA that did not sign the
    server, a name the certificate does not carry, no client certificate
    where Redis requires one) never connects, says why, and keeps
    protecting with its own state."""
    tmp = str(tmp_path)
    t = redis.tls
    kw = {"wrong_ca": {"ca": t.other_ca},
          "wrong_name": {"server_name": "other.test"},
          "no_cert": {"cert": False}}[case]
    c = sipguard(config(tmp, A_IP, "c", t, **kw), ready="ready: serving")
    why = {"wrong_ca": "certificate verify failed",
           "wrong_name": "hostname mismatch",
           "no_cert": "unreachable"}[case]
    assert c.wait_log(why), c.log()
    assert "cannot load the shared bans" in c.log()
    time.sleep(1.5)  # a few reconnection attempts
    log = c.log()
    assert " connected" not in log and "is back" not in log, log
    if case != "no_cert":
        # The handshake's reason is logged once per outage, not per try.
        assert log.count("TLS handshake failed") == 1, log
    assert redis.cli("EXISTS", "e2e-tls:inst:c") == "0"
    x = SCAN[1]
    assert options(A_IP, x, timeout=2) == 200
    assert ctl(tmp, "c", "ban", x, "--for", "5m")[0] == 0
    assert options(A_IP, x) is None
    assert options(A_IP, "127.0.0.1", timeout=2) == 200


def test_tls_port_says_nothing_in_clear(redis):
    """A plain RESP client to the TLS port gets no clear answer."""
    s = socket.create_connection(("127.0.0.1", REDIS_PORT), timeout=2)
    try:
        s.sendall(b"PING\r\n")
        try:
            data = s.recv(4096)
        except (socket.timeout, ConnectionResetError):
            data = b""
    finally:
        s.close()
    assert b"PONG" not in data


@pytest.mark.parametrize("store,why", [
    ("  address: unix:/tmp/r.sock\n  tls: true\n",
     "store.tls: not with a unix: address"),
    ("  tls: true\n  tls_cert: %(crt)s\n",
     "store.tls_key: tls_cert and tls_key go together"),
    ("  tls: true\n  tls_ca: /nonexistent/e2e-ca.pem\n",
     "store.tls_ca: /nonexistent/e2e-ca.pem: No such file"),
    ("  tls_ca: %(crt)s\n", "need tls: true"),
])
def test_tls_config_checked(tmp_path, store, why):
    crt = os.path.join(str(tmp_path), "c.pem")
    with open(crt, "w") as f:
        f.write("x\n")
    conf = os.path.join(str(tmp_path), "s.yaml")
    with open(conf, "w") as f:
        f.write("zones:\n  - name: a\n    trust: untrusted\n"
                "    listen: [udp:127.0.0.1:39090]\n"
                "store:\n  backend: redis\n" + store % {"crt": crt})
    r = subprocess.run([BIN, "-n", conf], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=10)
    assert r.returncode != 0
    assert why in r.stdout.decode(), r.stdout.decode()


@pytest.mark.skipif(os.geteuid() != 0, reason="switching users needs root")
def test_tls_reconnects_after_privilege_drop(sipguard, redis, tmp_path):
    """The daemon drops to ops.user (and seccomp) after start; hiredis
    reconnects to the tunnel's socket later, as that user: the socket's
    directory belongs to it."""
    tmp = str(tmp_path)
    text = config(tmp, A_IP, "d", redis.tls) + \
        "ops:\n  user: nobody\n  seccomp: true\n"
    d = sipguard(text, ready="ready: serving")
    assert d.wait_log("tls:127.0.0.1:%d connected" % REDIS_PORT), d.log()
    assert "running as nobody" in d.log()
    # Drop every client connection: the store must come back through the
    # tunnel, now as nobody, under the filter.
    assert redis.cli("CLIENT", "KILL", "TYPE", "normal") != ""
    assert redis.cli("CLIENT", "KILL", "TYPE", "pubsub") != ""
    assert d.wait_log("is back"), d.log()
    x = SCAN[0]
    assert ctl(tmp, "d", "ban", x, "--for", "5m")[0] == 0
    assert until(lambda: redis.cli("HEXISTS", "e2e-tls:bans", x) == "1",
                 2.0) is not None
