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

HERE = os.path.dirname(os.path.abspath(__file__))
SIPP = "/usr/bin/sipp"
KAMAILIO = "/usr/sbin/kamailio"
TMP = None      # parent of the peers' work directories (conftest sets it)


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
                                     stdin=subprocess.DEVNULL, cwd=self.dir)

    def wait(self, timeout=60):
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _stop(self.proc)
        self.out.close()
        return self.proc.returncode

    def stop(self):
        rc = _stop(self.proc, signal.SIGUSR1)  # sipp: USR1 = graceful quit
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
            stdout=self.log, stderr=subprocess.STDOUT)
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
        # SIGTERM to the main process: it stops its own workers.
        return _stop(self.proc)
