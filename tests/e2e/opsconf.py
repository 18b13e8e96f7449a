"""
Shared pieces of the operations end-to-end tests (test_ops_*.py): the
base configuration most of them start from (a control socket, an
untrusted zone routing to one backend, a trusted zone) and running
sipguardctl against a daemon's control socket.  Ports are the caller's.
"""
import os
import subprocess

from confparts import zones
from conftest import BIN

CTL = os.path.join(os.path.dirname(BIN), "sipguardctl")

def base_config(tmp, ip, out, inn, uas, in_ip=None):
    """The base config for a daemon in tmp: its control socket, internet
    on ip:out (UDP) routing to ip:uas, pbx on in_ip (default ip):inn."""
    return ("guard:\n  control_socket: %s/ctl.sock\n" % tmp +
            zones(ip, out, "udp:%s:%d" % (ip, uas), in_ip or ip, inn))


def run_ctl(tmp, args, json_out=True):
    """sipguardctl ARGS against tmp/ctl.sock (--json unless json_out is
    false); the CompletedProcess, output as bytes."""
    cmd = [CTL, "-s", os.path.join(tmp, "ctl.sock")]
    if json_out:
        cmd.append("--json")
    return subprocess.run(cmd + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=10)
