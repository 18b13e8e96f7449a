"""
store.tls certificates renewed at run time: the operator replaces the
files named by store.tls_ca / tls_cert / tls_key and reloads (SIGHUP or
`sipguardctl reload`); the connection to Redis in use is kept, and the
next one uses the new files.  A file that does not load is refused with
a clear log line, and the running certificates stay in use.

Redis (Debian's 7.0) listens on TLS only (tls-auth-clients yes) with a
CA, server and client certificates made here (peers.RedisCA).  The
renewal moves to a whole new PKI (a new CA, its server and client
certificates): Redis is switched to it at run time (CONFIG SET tls-*,
new connections only), so the reconnection forced by CLIENT KILL
succeeds only if sipguard presents the new client certificate and trusts
the new CA, i.e. uses the reloaded files.

Ports 43500-43999 only: sipguard 127.0.0.13:43600 / 43610, Redis
127.0.0.1:43579, relay ports 43700-43799, a scanner from 127.0.0.79.
"""
import os
import shutil
import signal
import tempfile

import pytest

from peers import RedisCA, redis_fixture
from test_store import ctl, until  # the sipguardctl and wait helpers

REDIS_PORT = 43579
SG_PORT, SG_IN = 43600, 43610
IP = "127.0.0.13"
SCAN = "127.0.0.79"
PREFIX = "e2e-tlsr:"


@pytest.fixture
def redis():
    yield from redis_fixture(REDIS_PORT, "sipguard-tlsr-", tls=True)


@pytest.fixture
def pki2():
    """A second PKI, as a renewal that changes the CA would bring."""
    d = tempfile.TemporaryDirectory(prefix="sipguard-tlsr-ca2-")
    yield RedisCA(d.name)
    d.cleanup()


def install(tmp, ca, crt, key):
    """The live files sipguard's configuration names."""
    for src, name in ((ca, "ca.pem"), (crt, "cli.crt"), (key, "cli.key")):
        shutil.copyfile(src, os.path.join(tmp, name))
        os.chmod(os.path.join(tmp, name), 0o644)


def config(tmp, name):
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
      backends: [ "udp:127.0.0.1:43680" ]
  - name: pbx
    trust: trusted
    listen: [ "udp:%(ip)s:%(inn)d" ]
media:
  port_min: 43700
  port_max: 43799
store:
  backend: redis
  address: 127.0.0.1:%(rport)d
  instance: %(name)s
  key_prefix: "%(prefix)s"
  timeout: 500ms
  reconnect_max: 1s
  tls: true
  tls_ca: %(tmp)s/ca.pem
  tls_cert: %(tmp)s/cli.crt
  tls_key: %(tmp)s/cli.key
""" % {"tmp": tmp, "name": name, "ip": IP, "port": SG_PORT, "inn": SG_IN,
       "rport": REDIS_PORT, "prefix": PREFIX}


def client_ids(redis):
    """Redis' ids of its client connections but the asking one's."""
    out = redis.cli("CLIENT", "LIST")
    return {l.split()[0] for l in out.splitlines()
            if l.startswith("id=") and "cmd=client" not in l}


def up(d):
    """The store connected (at start, or back after a slow start whose
    first attempt timed out)."""
    ok = until(lambda: "tls:127.0.0.1:%d connected" % REDIS_PORT in d.log()
               or "is back" in d.log(), 5.0)
    assert ok is not None, d.log()


def back_again(d, n):
    """The store reconnected: an "is back" line after the first n."""
    ok = until(lambda: d.log().count("is back") > n, 5.0)
    assert ok is not None, d.log()


def kill_clients(redis):
    assert redis.cli("CLIENT", "KILL", "TYPE", "normal") != ""
    assert redis.cli("CLIENT", "KILL", "TYPE", "pubsub") != ""


@pytest.mark.parametrize("dropped", [False, True])
def test_renewed_certificates_used_after_sighup(sipguard, redis, pki2,
                                                dropped):
    """dropped: as ops.user nobody under the seccomp filter (root only),
    which is how a daemon reads the renewed files in production."""
    if dropped and os.geteuid() != 0:
        pytest.skip("switching users needs root")
    t = redis.tls
    tmp = tempfile.mkdtemp(prefix="sipguard-tlsr-live-")
    try:
        os.chmod(tmp, 0o755)    # nobody reads the files (a test's keys)
        install(tmp, t.ca, t.cli_crt, t.cli_key)
        text = config(tmp, "r")
        if dropped:
            text += "ops:\n  user: nobody\n  seccomp: true\n"
        d = sipguard(text, ready="ready: serving")
        if dropped:
            assert "running as nobody" in d.log(), d.log()
        up(d)
        before = client_ids(redis)
        assert len(before) >= 2, before      # commands and pub/sub
        mark = len(d.log())
        # Renewal: new CA, new client certificate; reload.
        install(tmp, pki2.ca, pki2.cli_crt, pki2.cli_key)
        d.proc.send_signal(signal.SIGHUP)
        assert d.wait_log("store: tls files reloaded"), d.log()
        assert "client certificate valid until" in d.log()
        # The connections in use are kept.  (The configuration's own
        # reload comes after; as nobody it cannot read the fixture's
        # file, which changes nothing here.)
        assert until(lambda: "configuration reloaded" in d.log() or
                     "keeping the running configuration" in d.log(),
                     3.0) is not None, d.log()
        assert before <= client_ids(redis), (before, client_ids(redis))
        assert "unreachable" not in d.log()[mark:], d.log()
        n = d.log().count("is back")
        # Redis moves to the new PKI (new connections only), then drops
        # every client: sipguard comes back only with the new files.
        assert redis.cli("CONFIG", "SET", "tls-cert-file", pki2.srv_crt,
                         "tls-key-file", pki2.srv_key, "tls-ca-cert-file",
                         pki2.ca) == "OK"
        redis.tls = pki2
        kill_clients(redis)
        back_again(d, n)
        assert "tls reload refused" not in d.log(), d.log()
        # And it works: a ban reaches Redis over the new connection.
        assert ctl(tmp, "r", "ban", SCAN, "--for", "5m")[0] == 0
        assert until(lambda: redis.cli("HEXISTS", PREFIX + "bans", SCAN)
                     == "1", 3.0) is not None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_bad_renewal_refused_running_kept(sipguard, redis):
    """A key that is not PEM: `sipguardctl reload` logs why the store's
    certificates were refused, the configuration itself still reloads,
    and a reconnection still succeeds with the certificates in use."""
    t = redis.tls
    tmp = tempfile.mkdtemp(prefix="sipguard-tlsr-live-")
    try:
        install(tmp, t.ca, t.cli_crt, t.cli_key)
        d = sipguard(config(tmp, "s"), ready="ready: serving")
        up(d)
        with open(os.path.join(tmp, "cli.key"), "w") as f:
            f.write("not a key\n")
        rc, out = ctl(tmp, "s", "reload")
        assert rc == 0, out
        assert d.wait_log("store: tls reload refused, keeping the running "
                          "certificates: store.tls_key %s/cli.key" % tmp), \
            d.log()
        assert "store: tls files reloaded" not in d.log()
        n = d.log().count("is back")
        kill_clients(redis)
        back_again(d, n)
        assert ctl(tmp, "s", "ban", SCAN, "--for", "5m")[0] == 0
        assert until(lambda: redis.cli("HEXISTS", PREFIX + "bans", SCAN)
                     == "1", 3.0) is not None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
