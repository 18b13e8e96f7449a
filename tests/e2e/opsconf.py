"""
Shared pieces of the operations end-to-end tests (test_ops_*.py): the
base configuration most of them start from (a control socket, an
untrusted zone routing to one backend, a trusted zone) and running
sipguardctl against a daemon's control socket.  Ports are the caller's.
"""
import os
import subprocess

from conftest import BIN

CTL = os.path.join(os.path.dirname(BIN), "sipguardctl")

BASE = """
guard:
  control_socket: %(tmp)s/ctl.sock
zones:
  - name: internet
    trust: untrusted
    listen: [ "udp:%(ip)s:%(out)d" ]
    route:
      backends: [ "udp:%(ip)s:%(uas)d" ]
  - name: pbx
    trust: trusted
    listen: [ "udp:%(ip)s:%(inn)d" ]
"""


def base_config(tmp, ip, out, inn, uas):
    """BASE for a daemon in tmp: internet on ip:out (UDP) routing to
    ip:uas, pbx on ip:inn."""
    return BASE % {"tmp": tmp, "ip": ip, "out": out, "inn": inn, "uas": uas}


def run_ctl(tmp, args, json_out=True):
    """sipguardctl ARGS against tmp/ctl.sock (--json unless json_out is
    false); the CompletedProcess, output as bytes."""
    cmd = [CTL, "-s", os.path.join(tmp, "ctl.sock")]
    if json_out:
        cmd.append("--json")
    return subprocess.run(cmd + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=10)
