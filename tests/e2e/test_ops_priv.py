"""
Issue 8 (operations), end to end: least privilege.  sipguard started as
root with ops.user / ops.seccomp runs as that user with no capabilities
(or only those kept on purpose) under a seccomp filter, checked in
/proc/PID/status; and everything still works under the filter: calls
over UDP and TCP (connecting to the backend), the control socket, the
metrics endpoint, the HEP export, a reload and a clean stop.

Ports: 35300-35399 (this helper's range).
"""
import json
import os
import signal
import subprocess
import time
import urllib.request

import pytest

from conftest import BIN
from peers import Sipp
from opsconf import run_ctl

IP = "127.0.0.1"
SG_OUT = 35300
SG_IN = 35310
UAS = 35320
UAC = 35330
HTTP = 35390
HEP = 35391

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="needs root to switch users")


def config(tmp, seccomp=True, caps=(), backend="tcp"):
    return """
guard:
  control_socket: %(tmp)s/ctl.sock
zones:
  - name: internet
    trust: untrusted
    listen: [ "udp:%(ip)s:%(out)d", "tcp:%(ip)s:%(out)d" ]
    route:
      backends: [ "%(be)s:%(ip)s:%(uas)d" ]
  - name: pbx
    trust: trusted
    listen: [ "udp:%(ip)s:%(inn)d", "tcp:%(ip)s:%(inn)d" ]
ops:
  metrics_listen: "tcp:%(ip)s:%(http)d"
  hep_server: "udp:%(ip)s:%(hep)d"
  hep_events: true
  user: nobody
  group: nogroup
  capabilities: [ %(caps)s ]
  seccomp: %(sc)s
""" % {"tmp": tmp, "ip": IP, "out": SG_OUT, "inn": SG_IN, "uas": UAS,
       "http": HTTP, "hep": HEP, "be": backend,
       "caps": ", ".join(caps), "sc": "true" if seccomp else "false"}


def status(pid):
    out = {}
    for line in open("/proc/%d/status" % pid):
        k, _, v = line.partition(":")
        out[k] = v.strip()
    return out


def ctl(tmp, *args):
    r = run_ctl(tmp, args)
    return r.returncode, r.stdout.decode()


def calls(transport, n=3):
    # The backend is TCP: sipguard connects to it under the filter.
    uas = Sipp("uas_rr.xml", (IP, UAS), calls=0, transport="t1")
    time.sleep(0.3)
    uac = Sipp("uac_rr.xml", (IP, UAC), (IP, SG_OUT), calls=n, rate=10,
               transport=transport)
    rc = uac.wait(30)
    time.sleep(0.2)
    uas.stop()
    assert rc == 0, uac.errors()[-2000:]
    assert uac.stats().get("SuccessfulCall(C)") == str(n)


def test_unprivileged_with_seccomp_keeps_working(sipguard, tmp_path):
    tmp = str(tmp_path)
    d = sipguard(config(tmp), ready="seccomp filter installed")
    st = status(d.proc.pid)
    assert st["Uid"].split() == ["65534"] * 4
    assert st["Gid"].split() == ["65534"] * 4
    assert st["Groups"] == "65534"
    assert int(st["CapEff"], 16) == 0
    assert int(st["CapPrm"], 16) == 0
    assert int(st["CapBnd"], 16) == 0
    assert st["NoNewPrivs"] == "1"
    assert st["Seccomp"] == "2"
    # Calls from a UDP caller, then a TCP caller (accepted under the
    # filter); the callee is reached over TCP.
    calls("u1")
    calls("t1")
    # Control socket, metrics, reload: all under the filter.
    rc, out = ctl(tmp, "stats")
    assert rc == 0 and json.loads(out)["stats"]["sip.requests"] >= 18
    assert ctl(tmp, "ban", "192.0.2.9", "--for", "1h")[0] == 0
    assert "192.0.2.9" in ctl(tmp, "bans")[1]
    assert ctl(tmp, "unban", "192.0.2.9")[0] == 0
    with urllib.request.urlopen("http://%s:%d/metrics" % (IP, HTTP),
                                timeout=5) as r:
        body = r.read().decode()
    assert 'sipguard_sip_requests_total{zone="internet",method="INVITE"} 6' \
        in body
    with open(d.conf, "a") as f:
        f.write("log:\n  level: debug\n")
    # The configuration is not readable by nobody yet: refused, said why.
    rc, out = ctl(tmp, "reload")
    assert rc != 0
    assert json.loads(out)["error"] == d.conf + ": Permission denied"
    os.chmod(d.dir, 0o755)
    os.chmod(d.conf, 0o644)
    rc, out = ctl(tmp, "reload")
    assert rc == 0, out
    d.proc.send_signal(signal.SIGHUP)
    assert d.wait_log("configuration reloaded", timeout=3)
    calls("u1", n=1)
    assert d.proc.poll() is None
    assert "Seccomp: 2" not in d.log()   # (nothing logged about dying)


def test_capability_kept_on_purpose(sipguard, tmp_path):
    tmp = str(tmp_path)
    d = sipguard(config(tmp, caps=("net_bind_service",)),
                 ready="seccomp filter installed")
    st = status(d.proc.pid)
    assert st["Uid"].split()[1] == "65534"
    assert int(st["CapEff"], 16) == 1 << 10      # CAP_NET_BIND_SERVICE
    assert int(st["CapBnd"], 16) == 1 << 10
    assert st["Seccomp"] == "2"
    calls("u1", n=1)


def test_seccomp_off_and_unknown_user(sipguard, tmp_path):
    tmp = str(tmp_path)
    d = sipguard(config(tmp, seccomp=False), ready="running as nobody")
    st = status(d.proc.pid)
    assert st["Seccomp"] == "0" and st["Uid"].split()[0] == "65534"
    d.stop()
    # A user that does not exist: refused at start, before serving.
    bad = os.path.join(tmp, "bad.yaml")
    with open(bad, "w") as f:
        f.write(config(tmp).replace("user: nobody", "user: no-such-user")
                .replace(str(SG_OUT), str(SG_OUT + 5)))
    r = subprocess.run([BIN, "-c", bad], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=10)
    assert r.returncode == 1
    assert b"ops.user: no user 'no-such-user'" in r.stdout
