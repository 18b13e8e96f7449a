"""
Issue 5, IM content security and presence privacy, end to end: sipguard
between an untrusted UA on its own loopback address (127.0.0.66, a small
scripted UA below) and sipp as the PBX / presence server.

- MESSAGEs with a denied URL, keyword, type, file or size are refused
  with the right status and never reach the PBX; a clean one does.
- SUBSCRIBE to presence (and dialog) from the untrusted zone is refused
  by default.
- A NOTIFY leaving the trusted zone arrives scrubbed (no note, place,
  device identifier or internal contact) with a matching Content-Length.
- Presence harvesting (one source, many users) is rate limited.

Ports: 32000-32499 only (this helper's range).
"""
import json
import os
import re
import socket
import time

from peers import Sipp

IP = "127.0.0.1"
UA_IP = "127.0.0.66"
SG_OUT = 32060      # untrusted zone
SG_IN = 32070       # trusted zone
PBX = 32080         # sipp, the PBX side
UA_PORT = 32101


def config(tmp, guard=""):
    return """
log:
  level: info
  events_file: %(tmp)s/events.json
guard:
  auth:
    mode: off
%(guard)szones:
  - name: internet
    trust: untrusted
    listen: [ "udp:%(ip)s:%(out)d" ]
    route:
      backends: [ "udp:%(ip)s:%(pbx)d" ]
  - name: pbx
    trust: trusted
    listen: [ "udp:%(ip)s:%(inn)d" ]
""" % {"tmp": tmp, "guard": guard, "ip": IP, "out": SG_OUT, "inn": SG_IN,
       "pbx": PBX}


def events(tmp):
    p = os.path.join(tmp, "events.json")
    if not os.path.exists(p):
        return [], ""
    raw = open(p, "rb").read().decode("utf-8")
    return [json.loads(l) for l in raw.splitlines() if l.strip()], raw


def wait_events(tmp, n, timeout=3.0, **kw):
    deadline = time.time() + timeout
    while True:
        evs = [e for e in events(tmp)[0]
               if all(e.get(k) == v for k, v in kw.items())]
        if len(evs) >= n or time.time() > deadline:
            return evs
        time.sleep(0.05)


def pbx_log(sipp):
    out = ""
    for f in os.listdir(sipp.dir):
        if f.endswith("_messages.log"):
            out += open(os.path.join(sipp.dir, f), errors="replace").read()
    return out


class UA:
    """A scripted UA on the untrusted side (its own loopback address)."""

    def __init__(self, port=UA_PORT, ip=UA_IP):
        self.ip, self.port = ip, port
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.bind((ip, port))
        self.s.settimeout(0.2)
        self.n = 0
        self.requests = []

    def close(self):
        self.s.close()

    def send(self, method, to="bob", frm="alice", body="", ctype=None,
             extra="", to_tag=""):
        self.n += 1
        self.call_id = "c%d-%d@%s" % (self.n, os.getpid(), self.ip)
        hdrs = [
            "%s sip:%s@example.com SIP/2.0" % (method, to),
            "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK-%d-%d;rport"
            % (self.ip, self.port, os.getpid(), self.n),
            "From: <sip:%s@example.com>;tag=ua1" % frm,
            "To: <sip:%s@example.com>%s" % (to, ";tag=" + to_tag
                                             if to_tag else ""),
            "Call-ID: " + self.call_id,
            "CSeq: 1 " + method,
            "Max-Forwards: 70",
            "Contact: <sip:%s@%s:%d>" % (frm, self.ip, self.port),
            "User-Agent: e2e-ua/1.0",
        ]
        if ctype:
            hdrs.append("Content-Type: " + ctype)
        data = ("\r\n".join(hdrs) + "\r\n" + extra +
                "Content-Length: %d\r\n\r\n" % len(body.encode()) + body)
        self.s.sendto(data.encode(), (IP, SG_OUT))

    def _answer(self, text):
        """200 OK to a request sipguard forwarded to us."""
        lines = text.split("\r\n")
        keep = [l for l in lines if re.match(
            r"(?i)(via|from|to|call-id|cseq):", l)]
        resp = "SIP/2.0 200 OK\r\n" + "\r\n".join(
            l + (";tag=ua2" if l.lower().startswith("to:") and
                 ";tag=" not in l else "") for l in keep) + \
            "\r\nContent-Length: 0\r\n\r\n"
        self.s.sendto(resp.encode(), (IP, SG_OUT))

    def pump(self, until, timeout=5.0):
        """Read datagrams (answering requests) until until(status, reqs)
        holds; returns the last final status seen for our request."""
        deadline = time.time() + timeout
        status = None
        while time.time() < deadline:
            try:
                data, _ = self.s.recvfrom(65535)
            except socket.timeout:
                if until(status, self.requests):
                    break
                continue
            text = data.decode("utf-8", "replace")
            if text.startswith("SIP/2.0 "):
                code = int(text.split(" ")[1])
                if code >= 200 and self.call_id in text:
                    status = code
                    self.last_response = text
            else:
                self.requests.append(text)
                self._answer(text)
            if until(status, self.requests):
                break
        return status

    def request(self, *a, **kw):
        self.send(*a, **kw)
        return self.pump(lambda st, _r: st is not None)


# ------------------------------------------------------------- MESSAGE

IM_GUARD = """  im:
    max_size: 1k
    deny_domains: [ "evil.example" ]
    deny_keywords: [ "wire the money" ]
    deny_regex: [ "(?i)bitcoin\\\\s+wallet" ]
"""


def test_message_filtering(sipguard, tmp_path):
    tmp = str(tmp_path)
    sipguard(config(tmp, IM_GUARD))
    pbx = Sipp("uas_message.xml", (IP, PBX), calls=0, extra=["-trace_msg"])
    time.sleep(0.3)
    ua = UA()
    try:
        cases = [
            ("clean", "text/plain", "lunch at noon? CLEAN-1", "", 200),
            ("url", "text/plain", "see https://login.evil.example/a URL-1",
             "", 403),
            ("keyword", "text/plain", "please WIRE THE MONEY today KW-1", "",
             403),
            ("regex", "text/plain", "my Bitcoin  wallet RX-1", "", 403),
            ("type", "text/html", "<b>TYPE-1</b>", "", 415),
            ("file", "application/octet-stream", "MZ FILE-1", "", 415),
            ("size", "text/plain", "SIZE-1 " + "x" * 2000, "", 413),
            ("cpim url", "message/cpim",
             "From: <im:alice@example.com>\r\nTo: <im:bob@example.com>\r\n\r\n"
             "Content-Type: text/plain\r\n\r\nCPIM-1 http://evil.example",
             "", 403),
            ("multipart exe", "multipart/mixed;boundary=b1",
             "--b1\r\nContent-Type: text/plain\r\n\r\nMP-1\r\n"
             "--b1\r\nContent-Type: application/x-msdownload\r\n\r\nMZ\r\n"
             "--b1--\r\n", "", 415),
            ("gzip", "text/plain", "GZ-1", "Content-Encoding: gzip\r\n", 415),
            ("cpim clean", "message/cpim",
             "From: <im:alice@example.com>\r\nTo: <im:bob@example.com>\r\n\r\n"
             "Content-Type: text/plain\r\n\r\nCLEAN-2 hello", "", 200),
        ]
        for name, ct, body, extra, want in cases:
            st = ua.request("MESSAGE", body=body, ctype=ct, extra=extra)
            assert st == want, "%s: got %r" % (name, st)
            if want == 415 and ct == "text/html":
                assert "\r\nAccept: text/plain" in ua.last_response
    finally:
        ua.close()
        time.sleep(0.3)
        pbx.stop()
    seen = pbx_log(pbx)
    assert "CLEAN-1" in seen and "CLEAN-2" in seen
    for tag in ("URL-1", "KW-1", "RX-1", "TYPE-1", "FILE-1", "SIZE-1",
                "CPIM-1", "MP-1", "GZ-1"):
        assert tag not in seen, tag + " reached the PBX"
    # Repeats of a rule from one source are aggregated by the event log
    # (one line now, a "repeat" line when the window closes).
    evs = wait_events(tmp, 6, event="im-blocked")
    rules = sorted(set(e["rule"] for e in evs))
    assert rules == ["im-file", "im-keyword", "im-regex", "im-size",
                     "im-type", "im-url"], rules
    assert all(e["src"] == UA_IP and e["zone"] == "internet" for e in evs)
    # Events carry the rule, never the content.
    _, raw = events(tmp)
    for secret in ("evil", "WIRE", "wire the money", "Bitcoin", "dentist",
                   "URL-1", "KW-1", "RX-1"):
        assert secret not in raw, secret


def test_message_rate(sipguard, tmp_path):
    tmp = str(tmp_path)
    sipguard(config(tmp, "  im:\n    per_source: 5\n"))
    pbx = Sipp("uas_message.xml", (IP, PBX), calls=0)
    time.sleep(0.3)
    ua = UA()
    try:
        got = [ua.request("MESSAGE", body="hi %d" % i, ctype="text/plain")
               for i in range(8)]
    finally:
        ua.close()
        pbx.stop()
    assert got[:5] == [200] * 5 and got[5:] == [403] * 3, got
    assert wait_events(tmp, 1, rule="im-rate-source")


# ------------------------------------------------------------ presence

def test_subscribe_presence_refused_by_default(sipguard, tmp_path):
    tmp = str(tmp_path)
    sipguard(config(tmp))
    pbx = Sipp("uas_subscribe.xml", (IP, PBX), calls=0, extra=["-trace_msg"])
    time.sleep(0.3)
    ua = UA()
    try:
        st_p = ua.request("SUBSCRIBE", extra="Event: presence\r\nExpires: 60\r\n")
        st_d = ua.request("SUBSCRIBE", extra="Event: dialog\r\nExpires: 60\r\n")
        # Own mailbox: allowed, reaches the PBX.
        st_m = ua.request("SUBSCRIBE", to="alice",
                          extra="Event: message-summary\r\nExpires: 60\r\n")
        # Someone else's mailbox: refused.
        st_o = ua.request("SUBSCRIBE", to="carol",
                          extra="Event: message-summary\r\nExpires: 60\r\n")
        # PUBLISH of someone else's presence: refused.
        st_pub = ua.request("PUBLISH", to="bob", ctype="application/pidf+xml",
                            body="<presence/>",
                            extra="Event: presence\r\nExpires: 60\r\n")
    finally:
        ua.close()
        time.sleep(0.3)
        pbx.stop()
    assert (st_p, st_d, st_m, st_o, st_pub) == (403, 403, 200, 403, 403)
    seen = pbx_log(pbx)
    assert seen.count("SUBSCRIBE sip:") == 1
    assert "Event: presence" not in seen and "Event: dialog" not in seen
    evs = wait_events(tmp, 2, event="presence-denied")
    assert sorted(set(e["rule"] for e in evs)) == [
        "presence-publish", "presence-subscribe"]


def test_notify_scrubbed(sipguard, tmp_path):
    tmp = str(tmp_path)
    sipguard(config(tmp, "  presence:\n    subscribe: [ presence ]\n"))
    pbx = Sipp("uas_presence.xml", (IP, PBX), calls=1, extra=["-trace_msg"])
    time.sleep(0.3)
    ua = UA()
    try:
        ua.send("SUBSCRIBE", extra="Event: presence\r\nExpires: 60\r\n"
                "Accept: application/pidf+xml\r\n")
        st = ua.pump(lambda s, r: s is not None and
                     any(x.startswith("NOTIFY ") for x in r))
        assert st == 200
        rc = pbx.wait(10)
    finally:
        ua.close()
    assert rc == 0, pbx.errors()
    sent = pbx_log(pbx)
    assert "gone to the dentist" in sent      # the PBX did send it all
    notify = [r for r in ua.requests if r.startswith("NOTIFY ")][0]
    head, body = notify.split("\r\n\r\n", 1)
    cl = int(re.search(r"(?im)^Content-Length:\s*(\d+)", head).group(1))
    assert cl == len(body.encode())
    for leak in ("dentist", "civicAddress", "Room 4.12", "<gp:geopriv",
                 "10.20.30.40", "deviceID", "8c2dd3f4a1b2", "<contact"):
        assert leak not in body, leak
    assert "<basic>open</basic>" in body and "</presence>" in body
    assert "application/pidf+xml" in head


def test_presence_harvest(sipguard, tmp_path):
    tmp = str(tmp_path)
    sipguard(config(tmp, "  scanner:\n    distinct_users: 0\n"
                         "  presence:\n    harvest_users: 5\n"))
    pbx = Sipp("uas_subscribe.xml", (IP, PBX), calls=0, extra=["-trace_msg"])
    time.sleep(0.3)
    ua = UA()
    try:
        got = [ua.request("SUBSCRIBE", to="user%02d" % i,
                          extra="Event: refer\r\nExpires: 60\r\n")
               for i in range(20)]
        # Another source is not affected.
        other = UA(port=UA_PORT + 1, ip="127.0.0.67")
        try:
            st_other = other.request("SUBSCRIBE", to="someone",
                                     extra="Event: refer\r\nExpires: 60\r\n")
        finally:
            other.close()
    finally:
        ua.close()
        time.sleep(0.3)
        pbx.stop()
    ok = got.count(200)
    assert 4 <= ok <= 7, got
    assert got[-5:] == [403] * 5, got
    assert st_other == 200
    assert pbx_log(pbx).count("SUBSCRIBE sip:") == ok + 1
    evs = wait_events(tmp, 1, event="presence-harvest")
    assert evs and evs[0]["rule"] == "presence-harvest"
    assert evs[0]["src"] == UA_IP


def test_notify_resource_list_scrubbed(sipguard, tmp_path):
    """RFC 4662 resource lists: every PIDF part scrubbed, the RLMI kept."""
    tmp = str(tmp_path)
    sipguard(config(tmp, "  presence:\n    subscribe: [ presence ]\n"))
    pbx = Sipp("uas_presence_rls.xml", (IP, PBX), calls=1,
               extra=["-trace_msg"])
    time.sleep(0.3)
    ua = UA()
    try:
        ua.send("SUBSCRIBE", extra="Event: presence\r\nExpires: 60\r\n"
                "Supported: eventlist\r\nAccept: application/pidf+xml, "
                "application/rlmi+xml, multipart/related\r\n")
        st = ua.pump(lambda s, r: s is not None and
                     any(x.startswith("NOTIFY ") for x in r))
        assert st == 200
        rc = pbx.wait(10)
    finally:
        ua.close()
    assert rc == 0, pbx.errors()
    assert "carol-at-the-dentist" in pbx_log(pbx)
    notify = [r for r in ua.requests if r.startswith("NOTIFY ")][0]
    head, body = notify.split("\r\n\r\n", 1)
    cl = int(re.search(r"(?im)^Content-Length:\s*(\d+)", head).group(1))
    assert cl == len(body.encode())
    for leak in ("dentist", "holiday", "10.20.30.41", "<contact", "<note"):
        assert leak not in body, leak
    assert body.count("--rls42\r\n") == 3 and body.endswith("--rls42--\r\n")
    assert 'cid="p1@example.com"' in body and "<basic>closed</basic>" in body
