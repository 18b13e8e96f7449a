"""
Shared fixtures for sipguard's end-to-end tests.

Every test starts the real sipguard binary (SIPGUARD_BIN, set by
scripts/run-tests.sh; defaults to build/release/sipguard) on loopback with
a config written for that test, and stops it by pid.  Nothing here kills
processes by name.
"""
import os
import signal
import socket
import subprocess
import tempfile
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("SIPGUARD_BIN", os.path.join(ROOT, "build/release/sipguard"))
CORPUS = os.environ.get("SIPGUARD_CORPUS",
                        os.path.join(os.path.dirname(ROOT), "shared", "corpus"))


class Daemon:
    """A running sipguard; its stderr goes to a file we can read."""

    def __init__(self, config_text, tmpdir):
        self.dir = tmpdir
        self.conf = os.path.join(tmpdir, "sipguard.yaml")
        with open(self.conf, "w") as f:
            f.write(config_text)
        self.logpath = os.path.join(tmpdir, "sipguard.log")
        self.logf = open(self.logpath, "wb")
        from peers import die_with_parent
        self.proc = subprocess.Popen([BIN, "-c", self.conf],
                                     stdout=self.logf, stderr=subprocess.STDOUT,
                                     preexec_fn=die_with_parent)

    def log(self):
        with open(self.logpath, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_log(self, needle, timeout=5.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if needle in self.log():
                return True
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        return needle in self.log()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.logf.close()
        return self.proc.returncode


RESERVE = os.path.join(ROOT, "scripts", "reserve-ports.sh")


@pytest.fixture(scope="session", autouse=True)
def reserved_test_ports():
    """Every fixed port the e2e tests and their peers bind (25060-49999)
    lies inside Linux's ephemeral
    range: scripts/reserve-ports.sh keeps them out of it for the session
    (seen without: baresip's SIP port 36630 taken by a Redis client's
    connection) and puts the setting back after the last run that needs
    it (make test's run-tests.sh holds it too, around the unit tests)."""
    def run(op):
        subprocess.run([RESERVE, op, str(os.getpid())], timeout=30,
                       stdout=subprocess.DEVNULL)
    run("acquire")
    yield
    run("release")


@pytest.fixture(scope="session", autouse=True)
def e2e_tmpdir():
    """The peers' work directories (sipp, Kamailio) go under one
    directory, removed when the session ends: none left behind in /tmp."""
    import shutil
    import peers
    root = tempfile.mkdtemp(prefix="sipguard-e2e-run-")
    peers.TMP = root
    yield root
    peers.TMP = None
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def sipguard():
    """Factory: sipguard(config_text) -> started Daemon (ready to serve)."""
    started = []
    tmp = tempfile.TemporaryDirectory(prefix="sipguard-e2e-")

    def start(config_text, ready="ready: serving"):
        d = Daemon(config_text, tmp.name)
        started.append(d)
        assert d.wait_log(ready), "sipguard did not start:\n" + d.log()
        return d

    yield start
    for d in started:
        rc = d.stop()
        assert rc == 0, "sipguard exited with %r:\n%s" % (rc, d.log())
    tmp.cleanup()


def udp_exchange(dst, data, src=("127.0.0.1", 0), timeout=1.0):
    """Send one datagram from src to dst; return the reply bytes or None."""
    fam = socket.AF_INET6 if ":" in dst[0] else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    try:
        s.bind(src)
        s.settimeout(timeout)
        s.sendto(data, dst)
        try:
            return s.recvfrom(65535)[0]
        except socket.timeout:
            return None
    finally:
        s.close()


def options_status(dst, src_ip, timeout=0.3, ua="e2e-phone"):
    """The status of sipguard's answer to one OPTIONS sent from src_ip
    (any port; rport brings the answer back) to dst (ip, port), or None
    if none came within timeout: keep it short where silence is expected
    (a banned source), long (2 s) where an answer is (an ASan daemon on
    a busy machine)."""
    ip, port = dst
    now = time.time()
    msg = ("OPTIONS sip:%s:%d SIP/2.0\r\n"
           "Via: SIP/2.0/UDP %s:5060;branch=z9hG4bK-op-%f;rport\r\n"
           "Max-Forwards: 70\r\n"
           "From: <sip:ping@%s>;tag=op\r\n"
           "To: <sip:%s:%d>\r\n"
           "Call-ID: options-e2e-%f\r\n"
           "CSeq: 1 OPTIONS\r\n"
           "User-Agent: %s\r\n"
           "Content-Length: 0\r\n\r\n" % (ip, port, src_ip, now, src_ip,
                                         ip, port, now, ua)).encode()
    r = udp_exchange(dst, msg, src=(src_ip, 0), timeout=timeout)
    return int(r.split(b" ", 2)[1]) if r else None
