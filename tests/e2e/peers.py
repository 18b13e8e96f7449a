"""
Real SIP peers for end-to-end tests: sipp (Debian's sip-tester) and
Kamailio (Debian's kamailio) as a stand-in PBX/registrar.  Each runs as
a child process with its own pid, and is stopped by that pid only.
"""
import os
import signal
import subprocess
import tempfile
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SIPP = "/usr/bin/sipp"
KAMAILIO = "/usr/sbin/kamailio"
TMP = None      # parent of the peers' work directories (conftest sets it)


def die_with_parent(sig=signal.SIGKILL):
    """preexec_fn: the child gets sig when the test process dies, even
    if it is killed before its fixtures can stop anything (a timeout), so
    no peer outlives a run and holds a port the next run needs."""
    import ctypes
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(
        PR_SET_PDEATHSIG, sig, 0, 0, 0)


def assert_udp_port_free(ip, port):
    """A leftover process on the port would take our traffic (UDP sockets
    with SO_REUSEADDR share a port): fail loudly instead."""
    import socket
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind((ip, port))
    except OSError as e:
        raise RuntimeError("%s:%d is in use (a leftover process?): %s" %
                           (ip, port, e))
    finally:
        s.close()


def _stop(proc, sig=signal.SIGTERM, timeout=5):
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


class Sipp:
    """One sipp process.  scenario: built-in name ('uac', 'uas') or xml file."""

    def __init__(self, scenario, local, remote=None, transport="u1",
                 calls=1, rate=None, service="bob", extra=(), timeout=30,
                 workdir=None):
        self.dir = workdir or tempfile.mkdtemp(prefix="sipp-", dir=TMP)
        args = [SIPP]
        if scenario.endswith(".xml"):
            args += ["-sf", os.path.join(HERE, "sipp", scenario)]
        else:
            args += ["-sn", scenario]
        ip, port = local
        args += ["-i", ip, "-p", str(port), "-t", transport,
                 "-s", service, "-nostdin",
                 "-timeout", "%ds" % timeout, "-timeout_error",
                 "-trace_err", "-error_file", os.path.join(self.dir, "err.log"),
                 "-trace_stat", "-stf", os.path.join(self.dir, "stat.csv"),
                 "-max_recv_loops", "1000"]
        if calls:
            args += ["-m", str(calls)]
        if rate:
            args += ["-r", str(rate)]
        args += list(extra)
        if remote:
            args.append("%s:%d" % remote)
        self.args = args
        self.out = open(os.path.join(self.dir, "out.log"), "wb")
        self.proc = subprocess.Popen(args, stdout=self.out,
                                     stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=self.dir,
                                     preexec_fn=die_with_parent)

    def wait(self, timeout=60):
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _stop(self.proc)
        self.out.close()
        return self.proc.returncode

    def stop(self, grace=1.0):
        """sipp quits on SIGUSR1 once its calls have ended, and at once
        (rc 0, its files written) on SIGTERM: a UAS whose caller is gone
        would keep a call up until its timeout.  grace: seconds the calls
        have to end."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGUSR1)
            try:
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                pass
        rc = _stop(self.proc)
        if not self.out.closed:
            self.out.close()
        return rc

    def errors(self):
        p = os.path.join(self.dir, "err.log")
        return open(p, errors="replace").read() if os.path.exists(p) else ""

    def stats(self):
        """Last line of sipp's statistics CSV as a dict."""
        p = os.path.join(self.dir, "stat.csv")
        if not os.path.exists(p):
            return {}
        lines = [l for l in open(p).read().splitlines() if l.strip()]
        if len(lines) < 2:
            return {}
        head = lines[0].split(";")
        vals = lines[-1].split(";")
        return dict(zip(head, vals))


class Kamailio:
    """Kamailio as a PBX/registrar on ip:port (UDP and TCP).  cfg: the
    config template in this directory (kamailio_users.cfg: a PBX that
    knows only a few users)."""

    def __init__(self, ip, port, uas, password="secret",
                 cfg="kamailio_pbx.cfg"):
        assert_udp_port_free(ip, port)
        self.dir = tempfile.mkdtemp(prefix="kamailio-", dir=TMP)
        with open(os.path.join(HERE, cfg)) as f:
            cfg = f.read() % {"ip": ip, "port": port, "uas": uas,
                              "password": password}
        self.cfg = os.path.join(self.dir, "kamailio.cfg")
        with open(self.cfg, "w") as f:
            f.write(cfg)
        self.pidfile = os.path.join(self.dir, "kamailio.pid")
        self.log = open(os.path.join(self.dir, "kamailio.log"), "wb")
        # -DD: stay in the foreground (our child), still forking workers.
        self.proc = subprocess.Popen(
            [KAMAILIO, "-DD", "-E", "-f", self.cfg, "-P", self.pidfile,
             "-Y", self.dir, "-m", "64", "-M", "8", "-w", self.dir],
            stdout=self.log, stderr=subprocess.STDOUT,
            # Its own process group, so that stop() can end every
            # process of it (workers, and a main process stuck in its
            # SIGTERM handler: seen once, SIGTERM blocked on a futex).
            start_new_session=True,
            # SIGTERM: Kamailio's main process then stops its workers.
            preexec_fn=lambda: die_with_parent(signal.SIGTERM))
        deadline = time.time() + 10
        while time.time() < deadline and "PBX" not in self.text() and \
                "INFO: <core> [core/tcp_main.c" not in self.text():
            if self.proc.poll() is not None:
                raise RuntimeError("kamailio failed:\n" + self.text())
            time.sleep(0.1)
        time.sleep(0.3)

    def text(self):
        self.log.flush()
        with open(os.path.join(self.dir, "kamailio.log"), "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self):
        # SIGTERM to the main process: it stops its own workers.  Then
        # whatever of the group we started is left (a worker, or a main
        # process that deadlocked in its own SIGTERM handler and forked
        # away from proc) is killed, so no test finds its port taken.
        rc = _stop(self.proc)
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        return rc


REDIS = "/usr/bin/redis-server"


class RedisCA:
    """A CA made here with the openssl CLI in directory d, a server
    certificate for `redis.test` and 127.0.0.1 (Redis' TLS port), a client
    certificate (Redis' tls-auth-clients) and another CA of the same name
    that signed none of them (the wrong-CA cases).  Paths as attributes."""

    def __init__(self, d, server_names=("DNS:redis.test", "IP:127.0.0.1")):
        self.dir = d
        p = lambda n: os.path.join(d, n)
        self.ca, self.other_ca = p("ca.crt"), p("other.crt")
        self.srv_crt, self.srv_key = p("srv.crt"), p("srv.key")
        self.cli_crt, self.cli_key = p("cli.crt"), p("cli.key")
        new = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
               "-nodes"]
        with open(p("srv.ext"), "w") as f:
            f.write("subjectAltName=%s\n" % ",".join(server_names))
        for args in (
                ["req", "-x509"] + new + ["-keyout", p("ca.key"), "-out",
                 self.ca, "-days", "2", "-subj", "/CN=e2e-ca"],
                ["req", "-x509"] + new + ["-keyout", p("other.key"),
                 "-out", self.other_ca, "-days", "2", "-subj",
                 "/CN=e2e-ca"],
                ["req"] + new + ["-keyout", self.srv_key, "-out",
                 p("srv.csr"), "-subj", "/CN=redis.test"],
                ["x509", "-req", "-in", p("srv.csr"), "-CA", self.ca,
                 "-CAkey", p("ca.key"), "-CAcreateserial", "-out",
                 self.srv_crt, "-days", "2", "-extfile", p("srv.ext")],
                ["req"] + new + ["-keyout", self.cli_key, "-out",
                 p("cli.csr"), "-subj", "/CN=sipguard"],
                ["x509", "-req", "-in", p("cli.csr"), "-CA", self.ca,
                 "-CAkey", p("ca.key"), "-CAcreateserial", "-out",
                 self.cli_crt, "-days", "2"]):
            subprocess.run(["openssl"] + args, check=True,
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=30)


class Redis:
    """redis-server on 127.0.0.1:port, no persistence: a restart loses
    all.  Started and stopped by pid; start() again after stop() brings
    it back empty (the outage tests).  With tls (a RedisCA), the port is
    a TLS port and there is no plain one; tls_auth is Redis'
    tls-auth-clients (yes: the client certificate is required)."""

    def __init__(self, tmp, port, tls=None, tls_auth="yes"):
        self.tmp = tmp
        self.port = port
        self.tls = tls
        self.tls_auth = tls_auth
        self.proc = None

    def _listen_args(self):
        if not self.tls:
            return ["--port", str(self.port)]
        t = self.tls
        return ["--port", "0", "--tls-port", str(self.port),
                "--tls-cert-file", t.srv_crt, "--tls-key-file", t.srv_key,
                "--tls-ca-cert-file", t.ca,
                "--tls-auth-clients", self.tls_auth]

    def start(self):
        self.log = open(os.path.join(self.tmp, "redis.log"), "ab")
        self.proc = subprocess.Popen(
            [REDIS] + self._listen_args() +
            ["--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", self.tmp],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 5
        while time.time() < deadline:
            if self.cli("PING") == "PONG":
                return
            time.sleep(0.05)
        raise AssertionError("redis-server did not start")

    def cli(self, *args):
        tls = []
        if self.tls:
            tls = ["--tls", "--cacert", self.tls.ca, "--cert",
                   self.tls.cli_crt, "--key", self.tls.cli_key]
        r = subprocess.run(["redis-cli", "-p", str(self.port)] + tls +
                           list(args),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=5)
        return r.stdout.decode().strip()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=10)
            self.log.close()
        self.proc = None


def redis_fixture(port, prefix="sipguard-redis-", tls=False,
                  tls_auth="yes"):
    """Body of a pytest fixture (`yield from redis_fixture(PORT)`): a
    started Redis in a temporary directory, skipped where Debian's
    redis-server is not installed, stopped and removed afterwards.  With
    tls=True, a TLS-only Redis whose RedisCA (made in that directory) is
    the fixture's `tls` attribute."""
    if not os.access(REDIS, os.X_OK):
        pytest.skip("redis-server not installed (scripts/deps.sh)")
    tmp = tempfile.TemporaryDirectory(prefix=prefix)
    r = Redis(tmp.name, port, tls=RedisCA(tmp.name) if tls else None,
              tls_auth=tls_auth)
    r.start()
    yield r
    r.stop()
    tmp.cleanup()


_tracked = []


def TrackedSipp(*a, **kw):
    """A Sipp that stop_tracked_sipps stops (by pid) when the test ends,
    even when it fails: a leftover UAS would hold the port for the next
    test.  A test module imports both (the fixture is autouse)."""
    p = Sipp(*a, **kw)
    _tracked.append(p)
    return p


@pytest.fixture(autouse=True)
def stop_tracked_sipps():
    yield
    while _tracked:
        _tracked.pop().stop()
