"""
Issue 8 (operations), end to end: the live dashboard (ops.dashboard) in
Debian's headless chromium, driven by playwright-core from the npm
registry (tests/e2e/dash/, installed with `npm ci` from its lock file the
first time).  The test places a live call (a Python caller through
sipguard to a sipp callee, 50 RTP packets from the caller: relayed by
the kernel fast path where it loads, media.kernel: auto) and an attack (a scanner from 127.0.0.66:
dropped and banned); the browser checks the page asks for the token,
refuses a wrong one, shows the call, the event, the top offender and the
ban, saves a screenshot (build/artifacts/dashboard.png, not committed),
and unbans from the page; the test then checks with sipguardctl that the
ban is gone.  The page also shows the media packets relayed and how
many of them the kernel relayed (sipguard_media_kernel_packets_total).
The HTTP API's protection is checked directly too.

Ports: SIP 37200-37249, RTP 37250-37279, HTTP 37290, relay 37400-37499.
"""
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from conftest import BIN, ROOT
from confparts import media
from peers import Sipp
from rtpua import RtpPeer, Uac, sdp_of
from opsconf import base_config, run_ctl

HERE = os.path.dirname(os.path.abspath(__file__))
DASH = os.path.join(HERE, "dash")
IP = "127.0.0.1"
IN_IP = "127.0.0.2"
ATK = "127.0.0.66"
SG_OUT, SG_IN = 37200, 37210
UAS, UAC = 37220, 37230
UAC_RTP, UAS_RTP, SIPP_MEDIA = 37250, 37260, 37270
HTTP = 37290
TOKEN = "e2e-dashboard-token-4f9c2a"
ARTIFACTS = os.path.join(ROOT, "build", "artifacts")


def config(tmp):
    return (base_config(tmp, IP, SG_OUT, SG_IN, UAS, IN_IP) +
            media(37400, 37499) + """ops:
  metrics_listen: "tcp:%(ip)s:%(http)d"
  dashboard: true
  dashboard_token: "%(token)s"
""" % {"ip": IP, "http": HTTP, "token": TOKEN})


@pytest.fixture(scope="module")
def playwright():
    """playwright-core in tests/e2e/dash/node_modules, from the lock file
    (a clean clone has none: `npm ci` installs exactly the locked one)."""
    mod = os.path.join(DASH, "node_modules", "playwright-core")
    if not os.path.isdir(mod):
        r = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"],
                           cwd=DASH, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=300)
        assert r.returncode == 0, r.stdout.decode()
    assert os.path.exists("/usr/bin/chromium"), "scripts/deps.sh: chromium"
    return os.path.join(DASH, "dash_test.js")


def http(path, method="GET", token=None):
    req = urllib.request.Request("http://%s:%d%s" % (IP, HTTP, path),
                                 method=method)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


def ctl(tmp, *args):
    r = run_ctl(tmp, args)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def scanner_options():
    msg = ("OPTIONS sip:%s:%d SIP/2.0\r\n"
           "Via: SIP/2.0/UDP %s:37240;branch=z9hG4bK-dash1\r\n"
           "Max-Forwards: 70\r\nFrom: <sip:100@%s>;tag=x\r\n"
           "To: <sip:100@%s>\r\nCall-ID: dash-scan-1\r\nCSeq: 1 OPTIONS\r\n"
           "User-Agent: friendly-scanner\r\nContent-Length: 0\r\n\r\n"
           % (IP, SG_OUT, ATK, ATK, IP)).encode()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((ATK, 37240))
    s.sendto(msg, (IP, SG_OUT))
    s.close()


def test_api_needs_the_token(sipguard, tmp_path):
    d = sipguard(config(str(tmp_path)))
    assert d.wait_log("dashboard on http://")
    # The page itself holds no data: served without a token, locked down.
    st, h, body = http("/dashboard")
    assert st == 200 and h["Content-Type"].startswith("text/html")
    assert "default-src 'self'" in h["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in h["Content-Security-Policy"]
    assert h["Cache-Control"] == "no-store"
    assert "<script src=\"/dashboard.js\"" in body and "http" not in body
    assert http("/dashboard.js")[0] == 200
    assert http("/dashboard.css")[0] == 200
    # Data and actions: 401 without the token or with another one.
    for tok in (None, "x" * len(TOKEN), TOKEN[:-1], TOKEN + "x"):
        st, h, _ = http("/api/v1/state", token=tok)
        assert st == 401 and h["WWW-Authenticate"].startswith("Bearer")
        assert http("/api/v1/unban?addr=1.2.3.4", "POST", tok)[0] == 401
        assert http("/api/v1/unblock?user=alice", "POST", tok)[0] == 401
    st, h, body = http("/api/v1/state", token=TOKEN)
    assert st == 200 and h["Content-Type"] == "application/json"
    s = json.loads(body)
    assert s["calls"] == [] and s["bans"] == [] and s["events"] == []
    assert s["held"] == [] and s["totals"]["udp_overflow"] == 0
    assert s["totals"]["media_packets"] == 0
    assert s["totals"]["media_kernel_packets"] == 0
    # Actions only by POST, state only by GET; bad addresses refused.
    assert http("/api/v1/unban?addr=1.2.3.4", "GET", TOKEN)[0] == 405
    assert http("/api/v1/state", "POST", TOKEN)[0] == 405
    assert http("/api/v1/unban?addr=x;rm", "POST", TOKEN)[0] == 400
    assert http("/api/v1/unban", "POST", TOKEN)[0] == 400
    assert http("/api/v1/unban?addr=192.0.2.1", "POST", TOKEN)[0] == 404
    assert http("/api/v1/unblock?user=alice", "GET", TOKEN)[0] == 405
    assert http("/api/v1/unblock", "POST", TOKEN)[0] == 400
    assert http("/api/v1/unblock?user=a%0Ab", "POST", TOKEN)[0] == 400
    assert http("/api/v1/unblock?user=" + "x" * 65, "POST", TOKEN)[0] == 400
    assert http("/api/v1/unblock?user=alice", "POST", TOKEN)[0] == 404
    assert http("/api/v1/other", token=TOKEN)[0] == 404
    assert http("/metrics")[0] == 200


def test_dashboard_in_chromium(sipguard, tmp_path, playwright):
    tmp = str(tmp_path)
    d = sipguard(config(tmp))
    assert d.wait_log("dashboard on http://%s:%d/dashboard" % (IP, HTTP))
    uas = Sipp("uas_media.xml", (IP, UAS), calls=1,
               extra=["-key", "rtp_ip", IP, "-key", "rtp_port",
                      str(UAS_RTP), "-key", "rtcp_port", str(UAS_RTP + 1),
                      "-mp", str(SIPP_MEDIA), "-mi", IP])
    time.sleep(0.3)
    uac = Uac(IP, UAC, (IP, SG_OUT), UAC_RTP, user="carol")
    uac.invite()
    code, raw, _ = uac.wait_final()
    assert code == 200, uac.log
    uac.ack()
    # Media one way, caller to callee: with the kernel path loaded, all
    # but the first packet(s) are the kernel's.
    a, b = RtpPeer(IP, UAC_RTP), RtpPeer(IP, UAS_RTP)
    try:
        a.send((IP, sdp_of(raw)["port"]), 50)
        assert len(b.recv_all()) == 50
    finally:
        a.close()
        b.close()
    kernel = "media kernel path: attached" in d.log()
    time.sleep(1.2)     # the relay merges the kernel's counters (500 ms)
    tot = json.loads(http("/api/v1/state", token=TOKEN)[2])["totals"]
    assert tot["media_packets"] == 50, tot
    assert tot["media_kernel_packets"] >= (40 if kernel else 0), tot
    assert tot["media_kernel_packets"] <= 50, tot
    scanner_options()
    bans = ctl(tmp, "bans")["bans"]
    assert [b["addr"] for b in bans] == [ATK]

    shot = os.path.join(tmp, "dashboard.png")
    r = subprocess.run(["node", playwright, "http://%s:%d" % (IP, HTTP),
                        TOKEN, json.dumps({"caller": "alice@" + IP,
                                           "attacker": ATK,
                                           "media_packets": 50,
                                           "kernel_min": 40 if kernel
                                           else 0}), shot],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=120)
    out = r.stdout.decode()
    if os.path.exists(shot):
        os.makedirs(ARTIFACTS, exist_ok=True)
        shutil.copy(shot, os.path.join(ARTIFACTS, "dashboard.png"))
    assert r.returncode == 0, out + r.stderr.decode()
    res = json.loads(out.strip().splitlines()[-1])
    assert res["ok"], res
    seen = res["seen"]
    assert "carol" in seen["call"] and "confirmed" in seen["call"]
    assert "50/0 (0)" in seen["call"]  # caller sent 50, none dropped
    assert seen["tiles"]["mpkts"] == "50"
    if kernel:
        assert 40 <= int(seen["tiles"]["kernel"]) <= 50, seen["tiles"]
        assert "%)" in seen["tiles"]["kernel_label"], seen["tiles"]
    else:
        assert seen["tiles"]["kernel"] == "0", seen["tiles"]
    assert ATK in seen["event"] and "scanner" in seen["event"]
    assert "scanner-ua" in seen["ban"]
    assert seen["tiles"]["calls"] == "1" and seen["tiles"]["bans"] == "1"
    assert TOKEN not in seen["url_after"]
    assert os.path.getsize(shot) > 10000
    # The page's unban reached the guard.
    assert ctl(tmp, "bans")["bans"] == []
    assert "dashboard: unban %s: done" % ATK in d.log()
    assert uac.bye() == 200
    assert uas.wait(10) == 0, uas.errors()


def test_dashboard_configuration_is_checked(tmp_path):
    """A dashboard without a token, with a short or odd one, or without
    the HTTP server is refused with the exact reason."""
    base = ('zones:\n  - name: a\n    trust: untrusted\n'
            '    listen: [ "udp:%s:%d" ]\nops:\n  dashboard: true\n'
            % (IP, SG_OUT))
    cases = [
        ('  metrics_listen: "tcp:%s:%d"\n' % (IP, HTTP),
         "ops.dashboard: needs dashboard_token"),
        ('  metrics_listen: "tcp:%s:%d"\n  dashboard_token: short\n'
         % (IP, HTTP), "ops.dashboard_token: at least 16 characters"),
        ('  metrics_listen: "tcp:%s:%d"\n  dashboard_token: "%s x"\n'
         % (IP, HTTP, TOKEN), "letters, digits"),
        ('  dashboard_token: "%s"\n' % TOKEN,
         "ops.dashboard: needs metrics_listen"),
    ]
    for extra, why in cases:
        p = tmp_path / "c.yaml"
        p.write_text(base + extra)
        r = subprocess.run([BIN, "--check-config", str(p)],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=10)
        assert r.returncode == 1 and why in r.stdout.decode(), r.stdout
    # The secret is never printed.
    p.write_text(base + '  metrics_listen: "tcp:%s:%d"\n'
                 '  dashboard_token: "%s"\n' % (IP, HTTP, TOKEN))
    r = subprocess.run([BIN, "--dump-config", str(p)],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=10)
    assert r.returncode == 0 and TOKEN not in r.stdout.decode()
