"""
Issue 8 (operations), end to end: the control socket speaks one JSON
object per line, raw, without sipguardctl.  Good requests are answered
with {"ok":true,...}; bad ones (malformed JSON, unknown command or member,
wrong type, duplicate key, the old line form) get {"ok":false,"error":...}
and the connection stays usable for the next line, pipelined requests
included; a line over the 1024-byte limit gets an error and the daemon
hangs up (it cannot find where the next request starts).  The daemon
keeps serving SIP throughout.

Ports: 37100-37199 (this helper's range).
"""
import json
import os
import socket
import subprocess

from opsconf import CTL, base_config

IP = "127.0.0.1"
SG_OUT = 37100
SG_IN = 37110
UAS = 37120


def config(tmp):
    return base_config(tmp, IP, SG_OUT, SG_IN, UAS)


class Conn:
    """One raw connection to the control socket, read line by line."""

    def __init__(self, tmp):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(5)
        self.s.connect(os.path.join(tmp, "ctl.sock"))
        self.f = self.s.makefile("rb")

    def send(self, data):
        self.s.sendall(data if isinstance(data, bytes) else data.encode())

    def answer(self):
        line = self.f.readline()
        assert line.endswith(b"\n"), line
        return json.loads(line)

    def ask(self, req):
        self.send((json.dumps(req) if isinstance(req, dict) else req) + "\n")
        return self.answer()

    def close(self):
        self.f.close()
        self.s.close()


def test_raw_json_requests(sipguard, tmp_path):
    tmp = str(tmp_path)
    d = sipguard(config(tmp))
    assert d.wait_log("control socket on")
    c = Conn(tmp)
    assert c.ask({"cmd": "bans"}) == {"ok": True, "bans": []}
    assert c.ask({"cmd": "ban", "addr": "203.0.113.9", "for_s": 3600,
                  "reason": "r\u00e9sum\u00e9 \"quoted\""}) == {"ok": True}
    bans = c.ask({"cmd": "bans"})["bans"]
    assert len(bans) == 1 and bans[0]["addr"] == "203.0.113.9"
    assert bans[0]["reason"] == "r\u00e9sum\u00e9 \"quoted\""
    assert 3590 <= bans[0]["expires_in"] <= 3600
    stats = c.ask({"cmd": "stats"})
    assert stats["ok"] and stats["stats"]["gate.bans_active"] == 1
    rules = c.ask({"cmd": "rules"})
    assert rules["ok"] and "global_monitor" in rules
    assert c.ask({"cmd": "monitor", "all": True, "on": True}) == {"ok": True}
    assert c.ask({"cmd": "rules"})["global_monitor"] is True
    assert c.ask({"cmd": "unban", "addr": "203.0.113.9"}) == {"ok": True}
    assert c.ask({"cmd": "unban", "addr": "203.0.113.9"}) == {
        "ok": False, "error": "not found"}
    c.close()


def test_bad_requests_keep_the_connection(sipguard, tmp_path):
    tmp = str(tmp_path)
    d = sipguard(config(tmp))
    assert d.wait_log("control socket on")
    c = Conn(tmp)
    bad = [
        # (request line, text expected in the error, offset expected?)
        ('{"cmd":"bans"', "json:", True),
        ("{'cmd':'bans'}", "json:", True),
        ('{"cmd":"bans"} trailing', "json:", True),
        ('{"cmd":"stats","cmd":"bans"}', "duplicate object key", True),
        ('{"cmd":"reboot"}', 'unknown command "reboot"', False),
        ('{"cmd":"bans","verbose":true}', 'unknown member "verbose"', False),
        ('{"cmd":"unban","addr":"1.2.3.4","for_s":60}',
         '"for_s" does not go with unban', False),
        ('{"cmd":"ban"}', 'missing member "addr"', False),
        ('{"cmd":"ban","addr":"1.2.3.4","for_s":"1h"}', "for_s:", False),
        ('{"cmd":"ban","addr":"1.2.3.4","for_s":1e9}', "for_s:", False),
        ('{"cmd":"ban","addr":"1.2.3.4","for_s":99999999999999999999}',
         "too big integer", True),
        ('{"cmd":"ban","addr":"1.2.3.4","reason":"a\\u001bb"}',
         "reason: control character", False),
        ('{"cmd":"ban","addr":"1.2.3.4","reason":"%s"}' % ("r" * 201),
         "reason: expected 1 to 200 bytes", False),
        ('{"cmd":"drain","on":"yes"}', "on: expected true or false", False),
        ('{"cmd":"events"}', 'missing member "follow"', False),
        ('{"cmd":"bans","x":[[[[[1]]]]]}', "nested too deep", True),
        ("ban 203.0.113.9 3600 old line form",
         "expected one JSON object per line", True),
        ("", "empty request", True),
    ]
    for line, why, has_off in bad:
        ans = c.ask(line)
        assert ans["ok"] is False, (line, ans)
        assert ans["error"].startswith("bad request: "), (line, ans)
        assert why in ans["error"], (line, ans)
        assert ("offset" in ans) == has_off, (line, ans)
        # The same connection still answers.
        assert c.ask({"cmd": "bans"}) == {"ok": True, "bans": []}, line
    # Invalid UTF-8 in a request: refused, not stored.
    c.send(b'{"cmd":"ban","addr":"1.2.3.4","reason":"\xff"}\n')
    ans = c.answer()
    assert ans["ok"] is False and "json:" in ans["error"]
    # Pipelined: three requests in one write, three answers in order.
    c.send('{"cmd":"drain","on":true}\n{"cmd":"nope"}\n'
           '{"cmd":"drain","on":false}\n')
    assert c.answer() == {"ok": True}
    assert c.answer()["ok"] is False
    assert c.answer() == {"ok": True}
    c.close()
    # A line over the limit: an error, then the daemon hangs up.
    c = Conn(tmp)
    c.send('{"cmd":"ban","addr":"1.2.3.4","reason":"%s"}\n' % ("x" * 2000))
    ans = c.answer()
    assert ans == {"ok": False, "error": "request too long"}
    try:
        rest = c.f.readline()
    except ConnectionResetError:  # it had unread bytes of ours
        rest = b""
    assert rest == b""
    c.close()
    # The daemon is fine, and sipguardctl agrees with what was left.
    r = subprocess.run([CTL, "-s", os.path.join(tmp, "ctl.sock"), "--json",
                        "bans"], stdout=subprocess.PIPE, timeout=10)
    assert r.returncode == 0 and json.loads(r.stdout) == {"ok": True,
                                                          "bans": []}
    assert d.proc.poll() is None


def test_sipguardctl_refuses_before_sending(sipguard, tmp_path):
    """sipguardctl checks its request with the daemon's own parser: a
    mistake is a usage error (exit 2) with the parser's reason."""
    tmp = str(tmp_path)
    sipguard(config(tmp), ready="control socket on")
    base = [CTL, "-s", os.path.join(tmp, "ctl.sock")]
    for args, why in ((["monitor", "scan/ner", "on"], "rule: bad character"),
                      (["ban", "1.2.3.4", "--reason", "a\tb"],
                       "reason: control character"),
                      (["ban", "1.2.3.4", "--reason", "r" * 201], None),
                      (["ban", "1.2.3.4", "--for", "2y"], None),
                      (["drain", "maybe"], None)):
        r = subprocess.run(base + args, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=10)
        assert r.returncode == 2, args
        if why:
            assert why in r.stderr.decode(), (args, r.stderr)
    r = subprocess.run(base + ["ban", "198.51.100.7", "--for", "90s",
                               "--reason", "caf\u00e9"],
                       stdout=subprocess.PIPE, timeout=10)
    assert r.returncode == 0
    r = subprocess.run(base + ["--json", "bans"], stdout=subprocess.PIPE,
                       timeout=10)
    ban = json.loads(r.stdout)["bans"][0]
    assert ban["addr"] == "198.51.100.7" and ban["reason"] == "caf\u00e9"
    assert 80 <= ban["expires_in"] <= 90
    # The table for people shows the same ban.
    r = subprocess.run(base + ["bans"], stdout=subprocess.PIPE, timeout=10)
    out = r.stdout.decode()
    assert out.splitlines()[0].split()[:2] == ["ADDRESS", "EXPIRES"]
    assert "198.51.100.7" in out and "caf\u00e9" in out
