#!/usr/bin/python3
"""
TLS benchmark (issue 7, `make bench-tls`): sipguard's TLS listener on
loopback, pinned to one core, measured with clients on the other cores.

  1. full TLS handshakes per second: `openssl s_time -new` (TLS 1.3,
     the default AEAD suites, ECDSA P-256 certificate), BENCH_TLS_CLIENTS
     processes at once for BENCH_TLS_SECONDS;
  2. resumed handshakes per second: the same with `-reuse`;
  3. calls per second over TLS: Python clients, each on its own TLS
     connection, run INVITE/200/ACK/BYE/200 calls through sipguard to a
     sipp UAS on plain UDP.  The Python clients are the bottleneck here
     unless sipguard's CPU share (printed) is near 100 %.

Certificates come from tests/unit/transport/tls_certs.sh.  Ports 33200-
33299.  Every process is started here and stopped by its pid; every loop
is bounded in time.
"""
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

from common import cpu_s

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
from test_tls import TlsUA, client_ctx  # noqa: E402

IP = "127.0.0.1"
SG_TLS, SG_IN, UAS = 33261, 33270, 33280
SECONDS = float(os.environ.get("BENCH_TLS_SECONDS", "5"))
CLIENTS = int(os.environ.get("BENCH_TLS_CLIENTS", "3"))

CONF = """
log: {level: warn}
guard:
  gate: {packets_per_second: 0, bytes_per_second: 0, flood_drops: 0}
  rates: {invite: 0, register: 0, options: 0, other: 0, per_user: 0}
  auth: {mode: off}
  scanner: {fingerprints: false, structure: false, distinct_users: 0,
            failures: 0}
sip: {max_transactions: 200000}
zones:
  - name: internet
    trust: untrusted
    listen: [ "tls:%(ip)s:%(tls)d" ]
    route: {backends: [ "udp:%(ip)s:%(uas)d" ]}
    tcp: {max_connections_per_source: 4096}
    tls:
      certificates: [ "%(d)s/server.pem" ]
      keys: [ "%(d)s/server.key" ]
  - name: pbx
    trust: trusted
    listen: [ "udp:%(ip)s:%(inn)d" ]
"""


def s_time(args):
    extra, ca = args
    r = subprocess.run(["taskset", "-c", "1-63", "openssl", "s_time",
                        "-connect", "%s:%d" % (IP, SG_TLS), "-CAfile", ca,
                        "-time", str(int(SECONDS))] + extra,
                       capture_output=True, timeout=SECONDS + 30)
    m = re.findall(rb"(\d+) connections in ([\d.]+)s", r.stdout)
    return int(m[-1][0]) if m else 0


def handshakes(sg, ca, reuse):
    extra = ["-reuse"] if reuse else ["-new"]
    c0, t0 = cpu_s(sg.pid), time.time()
    with multiprocessing.Pool(CLIENTS) as pool:
        n = sum(pool.map(s_time, [(extra, ca)] * CLIENTS))
    dt = time.time() - t0
    return n / SECONDS, (cpu_s(sg.pid) - c0) / dt


def caller(args):
    certs, deadline = args
    ua = TlsUA(SG_TLS, client_ctx(certs), user="b%d" % os.getpid())
    n = 0
    try:
        while time.time() < deadline:
            ua.callid = "bench-%d-%d@x" % (os.getpid(), n)
            one_call(ua)
            n += 1
    finally:
        ua.close()
    return n


def one_call(ua):
    sdp = ("v=0\no=- 1 1 IN IP4 10.99.0.5\ns=-\nc=IN IP4 10.99.0.5\n"
           "t=0 0\nm=audio 40000 RTP/AVP 0\n")
    ua.request("INVITE", "sip:bob@%s:%d" % (IP, SG_TLS), 1,
               "<sip:bob@example.com>", [], sdp)
    while True:
        first, hdrs, _ = ua.recv_msg(10)
        if int(first.split()[1]) >= 200:
            break
    rr = []
    for v in hdrs.get("record-route", []):
        rr += [x.strip() for x in v.split(",")]
    contact = re.search(r"<([^>]+)>", hdrs["contact"][0]).group(1)
    routes = list(reversed(rr))
    ua.request("ACK", contact, 1, hdrs["to"][0], routes)
    ua.request("BYE", contact, 2, hdrs["to"][0], routes)
    while True:
        first, _, _ = ua.recv_msg(10)
        if first.startswith("SIP/2.0 2"):
            return


def calls(sg, certs):
    deadline = time.time() + SECONDS
    c0, t0 = cpu_s(sg.pid), time.time()
    with multiprocessing.Pool(CLIENTS * 2) as pool:
        n = sum(pool.map(caller, [(certs, deadline)] * (CLIENTS * 2)))
    dt = time.time() - t0
    return n / dt, (cpu_s(sg.pid) - c0) / dt


def main():
    sgbin = sys.argv[1] if len(sys.argv) > 1 else \
        os.path.join(ROOT, "build/release/sipguard")
    tmp = tempfile.mkdtemp(prefix="bench-tls-")
    subprocess.run(["sh", os.path.join(ROOT, "tests/unit/transport/"
                                       "tls_certs.sh"), tmp], check=True)
    conf = os.path.join(tmp, "sg.yaml")
    with open(conf, "w") as f:
        f.write(CONF % {"ip": IP, "tls": SG_TLS, "uas": UAS, "inn": SG_IN,
                        "d": tmp})
    log = open(os.path.join(tmp, "sg.log"), "wb")
    sg = subprocess.Popen(["taskset", "-c", "0", sgbin, "-c", conf],
                          stdout=log, stderr=subprocess.STDOUT)
    uas = subprocess.Popen(["taskset", "-c", "1-63", "/usr/bin/sipp", "-sf",
                            os.path.join(ROOT, "tests/e2e/sipp/uas_rr.xml"),
                            "-i", IP, "-p", str(UAS), "-nostdin"],
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, cwd=tmp)
    try:
        time.sleep(0.5)
        ca = os.path.join(tmp, "ca.pem")
        full, fcpu = handshakes(sg, ca, False)
        res, rcpu = handshakes(sg, ca, True)
        cps, ccpu = calls(sg, tmp)
        print("sipguard TLS benchmark (sipguard on core 0, %d clients, "
              "%.0f s each)" % (CLIENTS, SECONDS))
        print("  full handshakes/s (TLS 1.3, ECDSA P-256) %8.0f  "
              "sipguard CPU %3.0f %%" % (full, fcpu * 100))
        print("  resumed handshakes/s                     %8.0f  "
              "sipguard CPU %3.0f %%" % (res, rcpu * 100))
        print("  calls/s over TLS (Python callers)        %8.0f  "
              "sipguard CPU %3.0f %%" % (cps, ccpu * 100))
    finally:
        for p in (uas, sg):
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        log.close()


if __name__ == "__main__":
    main()
