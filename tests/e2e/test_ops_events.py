"""
Issue 8 (operations), end to end: `sipguardctl events --follow` streams
the security events live while an attack runs - a SIPVicious svmap scan
from 127.0.0.66 - with its --type and --source filters; and a follower
that stops reading during a flood of events from many sources loses the
oldest lines (told how many with {"missed":N}) while the daemon keeps
answering SIP and the control socket.

Ports: 37000-37099 (this helper's range).
"""
import json
import os
import socket
import subprocess
import time
import urllib.request

from opsconf import CTL, base_config, run_ctl

HERE = os.path.dirname(os.path.abspath(__file__))
PY = "/usr/bin/python3"
IP = "127.0.0.1"
ATK = "127.0.0.66"
SG_OUT = 37000
SG_IN = 37010
UAS = 37020
HTTP = 37090


def config(tmp, metrics=False):
    text = base_config(tmp, IP, SG_OUT, SG_IN, UAS)
    if metrics:
        text += 'ops:\n  metrics_listen: "tcp:%s:%d"\n' % (IP, HTTP)
    return text


def follower(tmp, *args):
    """sipguardctl events --follow, writing to files (a pipe nobody reads
    would make it a slow follower)."""
    n = len(os.listdir(tmp))
    out = open(os.path.join(tmp, "follow%d.out" % n), "w+b")
    err = open(os.path.join(tmp, "follow%d.err" % n), "w+b")
    p = subprocess.Popen([CTL, "-s", os.path.join(tmp, "ctl.sock"),
                          "events", "--follow"] + list(args),
                         stdout=out, stderr=err)
    p.files = (out, err)
    return p


def stop(p):
    p.terminate()
    p.wait(timeout=5)
    res = []
    for f in p.files:
        f.seek(0)
        res.append(f.read().decode())
        f.close()
    return res[0], res[1]


def ctl(tmp, *args):
    r = run_ctl(tmp, args)
    return r.returncode, r.stdout.decode()


def scanner(src, port, n):
    msg = ("OPTIONS sip:%s:%d SIP/2.0\r\n"
           "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK-ev%d\r\n"
           "Max-Forwards: 70\r\nFrom: <sip:100@%s>;tag=x%d\r\n"
           "To: <sip:100@%s>\r\nCall-ID: ev-%d\r\nCSeq: 1 OPTIONS\r\n"
           "User-Agent: friendly-scanner\r\nContent-Length: 0\r\n\r\n"
           % (IP, SG_OUT, src, port, n, src, n, IP, n)).encode()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, port))
    s.sendto(msg, (IP, SG_OUT))
    s.close()


def test_follow_shows_a_scan_as_it_runs(sipguard, tmp_path):
    tmp = str(tmp_path)
    d = sipguard(config(tmp))
    assert d.wait_log("control socket on")
    every = follower(tmp, "--json")
    bans = follower(tmp, "--json", "--type", "ban")
    other = follower(tmp, "--json", "--source", "127.0.0.77")
    human = follower(tmp)
    time.sleep(0.5)
    r = subprocess.run([PY, os.path.join(HERE, "sv.py"), "svmap", ATK, "-",
                        "--", "-x", ATK, "-p", str(SG_OUT), IP],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=60, stdin=subprocess.DEVNULL,
                       # banned at once: its wait for more answers, capped
                       env=dict(os.environ, SV_SOCKET_TIMEOUT="2"))
    assert r.returncode == 0, r.stdout.decode()
    time.sleep(0.5)
    # The attack is in the feed: the scanner's request dropped, and the
    # source banned, with the source and the rule.
    out, err = stop(every)
    lines = [json.loads(l) for l in out.splitlines()]
    assert lines[0] == {"ok": True, "follow": True}
    evs = lines[1:]
    assert any(e["type"] == "drop" and e["src"] == ATK and
               e["event"] == "scanner" and e["rule"] == "scanner-ua"
               for e in evs), out
    assert any(e["type"] == "ban" and e["src"] == ATK for e in evs), out
    # Filters: only bans; nothing from a source that did not attack.
    out, _ = stop(bans)
    evs = [json.loads(l) for l in out.splitlines()][1:]
    assert evs and all(e["type"] == "ban" for e in evs), out
    out, _ = stop(other)
    assert [json.loads(l) for l in out.splitlines()] == [
        {"ok": True, "follow": True}], out
    # The table for people: one line per event, with the source.
    out, err = stop(human)
    assert "following security events" in err
    assert any("ban" in l and ATK in l and "scanner-ua" in l
               for l in out.splitlines()), out


def test_follow_usage_and_errors(sipguard, tmp_path):
    tmp = str(tmp_path)
    sipguard(config(tmp))
    base = [CTL, "-s", os.path.join(tmp, "ctl.sock")]
    for args in (["events"], ["events", "--follow", "--type", "BAN"],
                 ["events", "--follow", "--source", "10.0.0.0/8"],
                 ["events", "--follow", "--source", "not-an-ip"]):
        r = subprocess.run(base + args, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=10)
        assert r.returncode == 2, args
    # The daemon's own check of the raw request.
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(os.path.join(tmp, "ctl.sock"))
    s.sendall(b'{"cmd":"events","follow":true,"type":"drop",'
              b'"type":"ban"}\n')
    ans = json.loads(s.makefile().readline())
    assert ans["ok"] is False and "duplicate" in ans["error"]
    s.close()


def test_slow_follower_loses_oldest_not_the_daemon(sipguard, tmp_path):
    tmp = str(tmp_path)
    d = sipguard(config(tmp, metrics=True))
    assert d.wait_log("metrics on")
    # A follower that never reads.
    slow = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    slow.connect(os.path.join(tmp, "ctl.sock"))
    slow.sendall(b'{"cmd":"events","follow":true}\n')
    fast = follower(tmp, "--json")
    time.sleep(0.3)
    # Scanners from 1600 addresses, 200 a second: two event lines each,
    # distinct keys (no aggregation), at the event log's line cap.
    worst = 0.0
    t0 = time.time()
    for i in range(1600):
        scanner("127.0.%d.%d" % (1 + i // 250, 1 + i % 250), 37050, i)
        if i % 100 == 99:
            # The control socket answers at once throughout.
            t = time.time()
            rc, out = ctl(tmp, "stats")
            worst = max(worst, time.time() - t)
            assert rc == 0 and json.loads(out)["ok"]
        lag = t0 + (i + 1) / 200.0 - time.time()
        if lag > 0:
            time.sleep(lag)
    assert worst < 1.0, worst
    assert d.proc.poll() is None
    # The slow one now reads: what is left, after a missed line.
    slow.settimeout(2)
    data = b""
    try:
        while True:
            chunk = slow.recv(1 << 20)
            if not chunk:
                break
            data += chunk
            if b'{"missed":' in data and data.endswith(b"\n"):
                slow.settimeout(0.5)
    except socket.timeout:
        pass
    lines = [json.loads(l) for l in data.decode().splitlines()]
    assert lines[0] == {"ok": True, "follow": True}
    missed = [l["missed"] for l in lines if "missed" in l]
    assert missed and missed[0] > 0, lines[:3]
    # Every other line is an event, whole.
    assert all("type" in l for l in lines[1:] if "missed" not in l)
    slow.close()
    # The fast follower lost nothing: it saw every line the log wrote.
    out, _ = stop(fast)
    fast_lines = [json.loads(l) for l in out.splitlines()][1:]
    assert not any("missed" in l for l in fast_lines)
    with urllib.request.urlopen("http://%s:%d/metrics" % (IP, HTTP),
                                timeout=5) as r:
        text = r.read().decode()
    written = [l for l in text.splitlines()
               if l.startswith('sipguard_event_lines_total{fate="written"}')]
    assert written and float(written[0].split()[1]) == len(fast_lines)
    lost = [l for l in text.splitlines()
            if l.startswith("sipguard_event_follow_missed_total ")]
    assert lost and float(lost[0].split()[1]) >= missed[0]
