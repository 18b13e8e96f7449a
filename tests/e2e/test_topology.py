"""
Issue 5, topology hiding: every byte sipguard sends into the untrusted
zone is captured (the outside peers are small Python UAs that record every
datagram they receive), and no internal address, port or host name may
appear in it - during answered calls (re-INVITE and BYE in both
directions), cancelled and rejected calls (486, 503, 404), a timeout
(408), registrations and calls from the PBX to a registered user.  The
calls must still work end to end: the inside sees its own Vias, Route
set, Contact, From/To and Call-ID again.

Addresses: the outside UAs on 127.0.0.1, sipguard's untrusted listener on
127.0.0.1, its trusted listener and the PBX on 127.0.31.x (the internal
network).  The PBX is a scripted UA that behaves like a PBX with an
internal proxy in front: it record-routes itself, names internal hosts in
Contact, From, Call-ID, Warning, Server, Path, P-Asserted-Identity.

SDP bodies are not checked: o=/c= are rewritten by the media relay
(media anchoring), not by topology hiding.
"""
import os
import re
import socket
import time

import pytest

from digestua import authorization

OUT_IP = "127.0.0.1"
SG_OUT = (OUT_IP, 31100)          # untrusted listener
SG_IN = ("127.0.31.1", 31200)     # trusted listener
PBX = ("127.0.31.10", 31300)      # the PBX (and its internal proxy)
UA1 = (OUT_IP, 31401)
UA2 = (OUT_IP, 31402)
PBX_NAME = "pbx.corp.internal"
# What must never leave the untrusted zone.
SECRETS = ["127.0.31.", "31200", "31300", PBX_NAME, "InternalPBX",
           "corp.internal"]


def config(hide_call_id=False, t1="500ms", server_header="remove"):
    return """
log:
  level: debug%(ev)s
sip:
  t1: %(t1)s
zones:
  - name: internet
    trust: untrusted
    listen: [ "udp:%(o)s:%(op)d" ]
    route:
      backends: [ "udp:%(p)s:%(pp)d" ]
    topology_hiding: true
    hide_call_id: %(cid)s
    server_header: "%(sh)s"
  - name: pbx
    trust: trusted
    listen: [ "udp:%(i)s:%(ip)d" ]
""" % {"o": SG_OUT[0], "op": SG_OUT[1], "i": SG_IN[0], "ip": SG_IN[1],
       "p": PBX[0], "pp": PBX[1], "t1": t1,
       "cid": "true" if hide_call_id else "false", "sh": server_header,
       "ev": ("\n  events_file: " + os.environ["TOPO_EVENTS"])
       if os.environ.get("TOPO_EVENTS") else ""}


# ------------------------------------------------------------ a tiny UA

class Msg:
    def __init__(self, raw, src):
        self.raw, self.src = raw, src
        text = raw.decode("utf-8", "replace")
        head, _, self.body = text.partition("\r\n\r\n")
        lines = head.split("\r\n")
        self.first = lines[0]
        self.hdrs = []
        for l in lines[1:]:
            k, _, v = l.partition(":")
            self.hdrs.append((k.strip().lower(), v.strip()))
        self.head = head

    def all(self, name):
        out = []
        for k, v in self.hdrs:
            if k == name:
                # split list headers at top-level commas (no quotes here)
                out += [x.strip() for x in re.split(r",(?![^<]*>)", v)]
        return out

    def get(self, name):
        for k, v in self.hdrs:
            if k == name:
                return v
        return None

    @property
    def is_request(self):
        return not self.first.startswith("SIP/2.0")

    @property
    def status(self):
        return None if self.is_request else int(self.first.split()[1])

    @property
    def method(self):
        return self.first.split()[0] if self.is_request else \
            self.get("cseq").split()[1]

    @property
    def ruri(self):
        return self.first.split()[1]


def uri_of(v):
    m = re.search(r"<([^>]*)>", v)
    return m.group(1) if m else v.split(";")[0]


class Peer:
    """A UDP SIP peer that records every datagram it receives."""

    def __init__(self, addr, name):
        self.addr, self.name = addr, name
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.bind(addr)
        self.captured = []
        self.pending = []

    def close(self):
        self.s.close()

    def send(self, text, dst, body=""):
        text = text.strip("\n")
        if body and "\ncontent-type:" not in text.lower():
            text += "\nContent-Type: application/sdp"
        text = text.replace("\n", "\r\n")
        data = text + "\r\nContent-Length: %d\r\n\r\n" % len(body) + body
        self.s.sendto(data.encode(), dst)

    def _read(self, timeout):
        self.s.settimeout(timeout)
        try:
            data, src = self.s.recvfrom(65535)
        except socket.timeout:
            return None
        self.captured.append(data)
        m = Msg(data, src)
        if m.is_request and m.method == "OPTIONS" and \
                m.ruri.find("@") < 0:
            self.reply(m, 200)      # health probes
            return self._read(timeout)
        return m

    def recv(self, pred, timeout=6.0, what="message"):
        for m in list(self.pending):
            if pred(m):
                self.pending.remove(m)
                return m
        deadline = time.time() + timeout
        while time.time() < deadline:
            m = self._read(max(0.01, deadline - time.time()))
            if m is None:
                continue
            if pred(m):
                return m
            self.pending.append(m)
        raise AssertionError("%s: no %s; pending: %s" % (
            self.name, what, [p.first for p in self.pending]))

    def request(self, method, timeout=6.0):
        return self.recv(lambda m: m.is_request and m.method == method,
                         timeout, method)

    def response(self, method, status=None, timeout=6.0):
        def pred(m):
            if m.is_request or m.method != method:
                return False
            if status is None:
                return m.status >= 200
            return m.status == status
        return self.recv(pred, timeout, "%s response %s" % (method, status))

    def quiet(self, t=0.3):
        """Read (and record) whatever still arrives for t seconds."""
        deadline = time.time() + t
        while time.time() < deadline:
            m = self._read(max(0.01, deadline - time.time()))
            if m is not None:
                self.pending.append(m)

    def reply(self, req, status, reason="", tag=None, extra="", body="",
              rr=True, dst=None):
        to = req.get("to")
        if tag and ";tag=" not in to:
            to += ";tag=" + tag
        lines = ["SIP/2.0 %d %s" % (status, reason or "X")]
        lines += ["Via: %s" % v for v in req.all("via")]
        if rr and req.all("record-route"):
            lines.append("Record-Route: " + ", ".join(
                req.all("record-route")))
        lines += ["From: " + req.get("from"), "To: " + to,
                  "Call-ID: " + req.get("call-id"),
                  "CSeq: " + req.get("cseq")]
        if extra:
            lines.append(extra.strip("\n"))
        if body:
            lines.append("Content-Type: application/sdp")
        self.send("\n".join(lines), dst or req.src, body)


class TcpPeer(Peer):
    """The same over one TCP connection to sipguard (stream framing by
    Content-Length); every byte it reads is recorded too."""

    def __init__(self, addr, name, server):
        self.addr, self.name = addr, name
        self.s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.s.bind(addr)
        self.s.connect(server)
        self.server = server
        self.captured, self.pending, self.buf = [], [], b""

    def send(self, text, dst, body=""):
        text = text.strip("\n")
        if body and "\ncontent-type:" not in text.lower():
            text += "\nContent-Type: application/sdp"
        text = text.replace("\n", "\r\n")
        data = text + "\r\nContent-Length: %d\r\n\r\n" % len(body) + body
        self.s.sendall(data.encode())

    def _frame(self):
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return None
        m = re.search(rb"(?im)^(?:content-length|l)\s*:\s*(\d+)",
                      self.buf[:end])
        n = end + 4 + (int(m.group(1)) if m else 0)
        if len(self.buf) < n:
            return None
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def _read(self, timeout):
        data = self._frame()
        if data is None:
            self.s.settimeout(timeout)
            try:
                chunk = self.s.recv(65535)
            except socket.timeout:
                return None
            if not chunk:
                raise AssertionError("connection closed")
            self.buf += chunk
            data = self._frame()
            if data is None:
                return None
        self.captured.append(data)
        return Msg(data, self.server)


def sdp(ip):
    return ("v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
            "m=audio 40000 RTP/AVP 0\r\n" % (ip, ip))


def branch():
    return "z9hG4bK" + os.urandom(6).hex()


def headers_only(data):
    return data.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")


def assert_nothing_internal(peer):
    assert peer.captured, "nothing captured"
    if os.environ.get("TOPO_DUMP"):
        for data in peer.captured:
            print("----- to %s\n%s" % (peer.name, data.decode("utf-8", "replace")))
    for data in peer.captured:
        head = headers_only(data)
        for s in SECRETS:
            assert s not in head, "%s leaked to %s:\n%s" % (s, peer.name, head)


# -------------------------------------------------------- the PBX's part

PBX_EXTRA = ("Server: InternalPBX 16.2 (%s)\n"
             "Warning: 399 %s:%d \"internal debug\"\n" % (PBX_NAME, PBX[0],
                                                        PBX[1]))
PBX_CONTACT = "Contact: <sip:100@%s:%d;transport=udp>" % PBX
PBX_RR = "<sip:%s:%d;lr>" % PBX


def pbx_answer(pbx, inv, status=200, tag="pbxtag1", rr_self=True):
    """Answer an INVITE as the PBX behind its internal proxy: the
    proxy's Record-Route first, internal Contact, Server, Warning."""
    rr = ", ".join(([PBX_RR] if rr_self else []) + inv.all("record-route"))
    extra = PBX_EXTRA
    if status < 300:
        extra += PBX_CONTACT + "\n"
    if rr and status < 300:
        extra += "Record-Route: %s\n" % rr
    pbx.reply(inv, status, tag=tag, extra=extra, rr=False,
              body=sdp(PBX[0]) if status == 200 else "")


def ack_for(ua, resp, route, ruri, cseq):
    ua.send("ACK %s SIP/2.0\nVia: SIP/2.0/UDP %s:%d;branch=%s;rport\n"
            "Max-Forwards: 70\n%sFrom: %s\nTo: %s\nCall-ID: %s\n"
            "CSeq: %d ACK" % (ruri, ua.addr[0], ua.addr[1], branch(),
                              "Route: %s\n" % route if route else "",
                              resp.get("from"), resp.get("to"),
                              resp.get("call-id"), cseq),
            route_target(route, ua))


def ack_non2xx(ua, resp):
    """ACK for a final non-2xx: the INVITE's Via (same transaction)."""
    ua.send("ACK %s SIP/2.0\nVia: %s\nMax-Forwards: 70\nFrom: %s\nTo: %s\n"
            "Call-ID: %s\nCSeq: 1 ACK" % (
                "sip:100@%s:%d" % SG_OUT, last_invite_via(ua),
                resp.get("from"), resp.get("to"), resp.get("call-id")), SG_OUT)


def route_target(route, ua):
    # Every request from an outside UA goes to sipguard; from the PBX to
    # sipguard's trusted side.
    return SG_OUT if ua.addr[0] == OUT_IP else SG_IN


def in_dialog(ua, method, ruri, route, frm, to, cid, cseq, contact=None,
              extra="", body=""):
    ua.send("%s %s SIP/2.0\nVia: SIP/2.0/UDP %s:%d;branch=%s;rport\n"
            "Max-Forwards: 70\n%sFrom: %s\nTo: %s\nCall-ID: %s\n"
            "CSeq: %d %s\n%s%s" % (
                method, ruri, ua.addr[0], ua.addr[1], branch(),
                "Route: %s\n" % route if route else "", frm, to, cid, cseq,
                method, "Contact: %s\n" % contact if contact else "",
                extra), route_target(route, ua), body)


@pytest.fixture
def peers():
    made = []

    def make(addr, name):
        p = Peer(addr, name)
        made.append(p)
        return p
    yield make
    for p in made:
        p.close()


def invite_from_outside(ua, cid, tag="uatag1", user="100"):
    ua.send("INVITE sip:%s@%s:%d SIP/2.0\n"
            "Via: SIP/2.0/UDP %s:%d;branch=%s;rport\n"
            "Max-Forwards: 70\nFrom: <sip:alice@example.org>;tag=%s\n"
            "To: <sip:%s@%s:%d>\nCall-ID: %s\nCSeq: 1 INVITE\n"
            "Contact: <sip:alice@%s:%d>\nUser-Agent: outside-ua" % (
                user, SG_OUT[0], SG_OUT[1], ua.addr[0], ua.addr[1], branch(),
                tag, user, SG_OUT[0], SG_OUT[1], cid, ua.addr[0],
                ua.addr[1]), SG_OUT, sdp(ua.addr[0]))


# ------------------------------------------------------------- the tests

def test_call_from_outside_both_directions(sipguard, peers, request):
    d = sipguard(config())
    if os.environ.get("TOPO_LOG"):
        import shutil
        request.addfinalizer(lambda: shutil.copy(d.logpath, "/tmp/topo-sg.log"))
    ua, pbx = peers(UA1, "outside UA"), peers(PBX, "PBX")
    for n, bye_from_pbx in ((1, True), (2, False)):
        cid = "call%d-%s@outside.example" % (n, os.urandom(4).hex())
        invite_from_outside(ua, cid)
        inv = pbx.request("INVITE")
        pbx_answer(pbx, inv, 180)
        pbx_answer(pbx, inv, 200)
        ok = ua.response("INVITE", 200)
        # What the caller sees: our one Record-Route and Contact.
        rr = ok.all("record-route")
        assert len(rr) == 1 and SG_OUT[0] in rr[0] and "th=" in rr[0], rr
        assert "%s:%d" % SG_OUT in ok.get("contact")
        assert ok.get("server") is None and ok.get("warning") is None
        assert len(ok.all("via")) == 1
        route = ", ".join(reversed(rr))
        ruri = uri_of(ok.get("contact"))
        ack_for(ua, ok, route, ruri, 1)
        ack = pbx.request("ACK")
        # The inside sees its own Contact and its proxy's Route again.
        assert ack.ruri == "sip:100@%s:%d;transport=udp" % PBX, ack.first
        assert ack.all("route") == [PBX_RR], ack.all("route")

        # re-INVITE from the outside
        in_dialog(ua, "INVITE", ruri, route, ok.get("from"), ok.get("to"),
                  cid, 2, contact="<sip:alice@%s:%d>" % UA1, body=sdp(OUT_IP))
        rinv = pbx.request("INVITE")
        assert rinv.ruri.startswith("sip:100@%s" % PBX[0])
        assert rinv.all("route") == [PBX_RR]
        pbx.reply(rinv, 200, extra=PBX_EXTRA + PBX_CONTACT, body=sdp(PBX[0]))
        ok2 = ua.response("INVITE", 200)
        ack_for(ua, ok2, route, ruri, 2)
        pbx.request("ACK")

        # re-INVITE from the PBX: its route set is the Record-Route it
        # sent, without its own entry.
        prr = [r for r in ok.all("record-route")]
        pbx_route = "<sip:%s:%d;transport=udp;lr>, <sip:%s:%d;transport=udp;lr>" \
            % (SG_IN + SG_OUT)
        in_dialog(pbx, "INVITE", "sip:alice@%s:%d" % UA1, pbx_route,
                  inv.get("to") + ";tag=pbxtag1", inv.get("from"), cid, 1,
                  contact="<sip:100@%s:%d>" % PBX,
                  extra="User-Agent: InternalPBX (%s)\n"
                        "P-Asserted-Identity: <sip:100@%s>\n" % (PBX_NAME,
                                                                 PBX[0]),
                  body=sdp(PBX[0]))
        pinv = ua.request("INVITE")
        assert len(pinv.all("via")) == 1, pinv.all("via")
        ua.reply(pinv, 200, extra="Contact: <sip:alice@%s:%d>" % UA1,
                 body=sdp(OUT_IP))
        pok = pbx.response("INVITE", 200)
        # The PBX gets its own Via back.
        assert PBX[0] in pok.all("via")[0], pok.all("via")
        in_dialog(pbx, "ACK", "sip:alice@%s:%d" % UA1, pbx_route,
                  pok.get("from"), pok.get("to"), cid, 1)
        ua.request("ACK")

        if bye_from_pbx:
            in_dialog(pbx, "BYE", "sip:alice@%s:%d" % UA1, pbx_route,
                      pok.get("from"), pok.get("to"), cid, 2)
            bye = ua.request("BYE")
            ua.reply(bye, 200)
            pbx.response("BYE", 200)
        else:
            in_dialog(ua, "BYE", ruri, route, ok.get("from"), ok.get("to"),
                      cid, 3)
            bye = pbx.request("BYE")
            assert bye.ruri.startswith("sip:100@%s" % PBX[0])
            pbx.reply(bye, 200, extra=PBX_EXTRA)
            ua.response("BYE", 200)
    ua.quiet()
    assert_nothing_internal(ua)


@pytest.mark.parametrize("status", [486, 503, 404])
def test_rejected_call(sipguard, peers, status):
    sipguard(config())
    ua, pbx = peers(UA1, "outside UA"), peers(PBX, "PBX")
    cid = "rej-%s@outside.example" % os.urandom(4).hex()
    invite_from_outside(ua, cid)
    inv = pbx.request("INVITE")
    pbx_answer(pbx, inv, 180)
    pbx_answer(pbx, inv, status)
    pbx.request("ACK")
    resp = ua.response("INVITE", status)
    ack_non2xx(ua, resp)
    ua.quiet(0.5)
    assert_nothing_internal(ua)


def test_cancelled_call(sipguard, peers):
    sipguard(config())
    ua, pbx = peers(UA1, "outside UA"), peers(PBX, "PBX")
    cid = "can-%s@outside.example" % os.urandom(4).hex()
    invite_from_outside(ua, cid)
    inv = pbx.request("INVITE")
    pbx_answer(pbx, inv, 180)
    ua.response("INVITE", 180)
    ua.send("CANCEL sip:100@%s:%d SIP/2.0\nVia: %s\nMax-Forwards: 70\n"
            "From: <sip:alice@example.org>;tag=uatag1\n"
            "To: <sip:100@%s:%d>\nCall-ID: %s\nCSeq: 1 CANCEL" % (
                SG_OUT[0], SG_OUT[1], last_invite_via(ua), SG_OUT[0],
                SG_OUT[1], cid), SG_OUT)
    ua.response("CANCEL", 200)
    can = pbx.request("CANCEL")
    pbx.reply(can, 200)
    pbx_answer(pbx, inv, 487)
    ua.response("INVITE", 487)
    ua.quiet(0.5)
    assert_nothing_internal(ua)


_sent_vias = {}


def last_invite_via(ua):
    return _sent_vias[ua.addr]


_orig_send = Peer.send


def _send(self, text, dst, body=""):
    m = re.match(r"INVITE [^\n]*\nVia: ([^\n]*)", text)
    if m:
        _sent_vias[self.addr] = m.group(1)
    _orig_send(self, text, dst, body)


Peer.send = _send


def test_timeout_408(sipguard, peers):
    sipguard(config(t1="50ms"))
    ua, pbx = peers(UA1, "outside UA"), peers(PBX, "PBX")
    cid = "to-%s@outside.example" % os.urandom(4).hex()
    invite_from_outside(ua, cid)
    pbx.request("INVITE")       # and never answers
    resp = ua.response("INVITE", 408, timeout=10)
    ack_non2xx(ua, resp)
    ua.quiet(0.3)
    assert_nothing_internal(ua)


def register(ua, pbx, user="carol"):
    ua.send("REGISTER sip:%s:%d SIP/2.0\nVia: SIP/2.0/UDP %s:%d;branch=%s;rport\n"
            "Max-Forwards: 70\nFrom: <sip:%s@example.org>;tag=r1\n"
            "To: <sip:%s@example.org>\nCall-ID: reg-%s@outside\n"
            "CSeq: 1 REGISTER\nContact: <sip:%s@%s:%d>\nExpires: 300" % (
                SG_OUT[0], SG_OUT[1], ua.addr[0], ua.addr[1], branch(), user,
                user, os.urandom(4).hex(), user, ua.addr[0], ua.addr[1]),
            SG_OUT)
    reg = pbx.request("REGISTER")
    binding = reg.get("contact")
    # The registrar answers with the binding, another (internal) device of
    # the same user, and the internal Path and Service-Route.
    pbx.reply(reg, 200, tag="regtag", extra=(
        "Contact: %s;expires=300, <sip:%s@%s:5060>;expires=300\n"
        "Path: <sip:%s:%d;lr>\nService-Route: <sip:%s:%d;lr>\n%s" % (
            binding, user, "127.0.31.50", PBX[0], PBX[1], PBX[0], PBX[1],
            PBX_EXTRA)))
    ok = ua.response("REGISTER", 200)
    contacts = ok.all("contact")
    assert contacts[0] == "<sip:%s@%s:%d>;expires=300" % ((user,) + ua.addr), \
        contacts
    assert contacts[1].endswith("@%s:%d;transport=udp>;expires=300" % SG_OUT), \
        contacts
    return uri_of(binding)


def test_register_and_calls_from_pbx(sipguard, peers):
    sipguard(config(hide_call_id=True))
    ua, pbx = peers(UA2, "registered UA"), peers(PBX, "PBX")
    binding = register(ua, pbx)
    for n, bye_from_pbx in ((1, False), (2, True)):
        cid = "pbxcall%d-%s@%s" % (n, os.urandom(3).hex(), PBX[0])
        ptag = "ptag%d" % n
        frm = "\"Bob\" <sip:200@%s>;tag=%s" % (PBX_NAME, ptag)
        to = "<sip:carol@%s>" % PBX_NAME
        pbx.send("INVITE %s SIP/2.0\nVia: SIP/2.0/UDP %s:%d;branch=%s;rport\n"
                 "Via: SIP/2.0/UDP 127.0.31.77:5060;branch=z9hG4bKphone;received=127.0.31.77\n"
                 "Record-Route: %s\nMax-Forwards: 69\nFrom: %s\nTo: %s\n"
                 "Call-ID: %s\nCSeq: 10 INVITE\nContact: <sip:200@%s:%d>\n"
                 "P-Asserted-Identity: <sip:200@%s>\n"
                 "User-Agent: InternalPBX (%s)" % (
                     binding, PBX[0], PBX[1], branch(), PBX_RR, frm, to, cid,
                     PBX[0], PBX[1], PBX[0], PBX_NAME), SG_IN, sdp(PBX[0]))
        inv = ua.request("INVITE")
        assert inv.ruri == "sip:carol@%s:%d" % UA2, inv.first
        assert len(inv.all("via")) == 1
        assert len(inv.all("record-route")) == 1
        assert inv.get("p-asserted-identity") is None
        assert "Bob" in inv.get("from") and "200@" in inv.get("from")
        assert inv.get("call-id") != cid
        ua.reply(inv, 180, tag="uatag%d" % n,
                 extra="Contact: <sip:carol@%s:%d>" % UA2)
        ua.reply(inv, 200, tag="uatag%d" % n,
                 extra="Contact: <sip:carol@%s:%d>" % UA2, body=sdp(OUT_IP))
        ok = pbx.response("INVITE", 200)
        # The PBX sees its own dialog: Vias, Record-Route, URIs, Call-ID.
        assert ok.get("call-id") == cid
        assert ok.all("via")[0].startswith("SIP/2.0/UDP %s:%d" % PBX)
        assert len(ok.all("via")) == 2
        assert ok.get("from") == frm, ok.get("from")
        assert ok.get("to").startswith(to), ok.get("to")
        rr = ok.all("record-route")
        assert rr[-1] == PBX_RR and len(rr) == 3, rr
        # The PBX (a UAC) routes by the reversed Record-Route, minus its
        # own entry.
        proute = ", ".join(list(reversed(rr))[1:])
        in_dialog(pbx, "ACK", "sip:carol@%s:%d" % UA2, proute, frm,
                  ok.get("to"), cid, 10)
        ack = ua.request("ACK")
        assert ack.get("call-id") == inv.get("call-id")

        # re-INVITE from the registered user (the callee): its route set
        # is the Record-Route of the INVITE in order.
        uroute = ", ".join(inv.all("record-route"))
        ururi = uri_of(inv.get("contact"))
        ufrom = inv.get("to") + ";tag=uatag%d" % n
        in_dialog(ua, "INVITE", ururi, uroute, ufrom, inv.get("from"),
                  inv.get("call-id"), 1, contact="<sip:carol@%s:%d>" % UA2,
                  body=sdp(OUT_IP))
        rinv = pbx.request("INVITE")
        assert rinv.ruri == "sip:200@%s:%d" % PBX, rinv.first
        assert rinv.all("route") == [PBX_RR], rinv.all("route")
        assert rinv.get("call-id") == cid
        assert rinv.get("to") == frm, rinv.get("to")
        pbx.reply(rinv, 200, extra=PBX_EXTRA + PBX_CONTACT, body=sdp(PBX[0]))
        rok = ua.response("INVITE", 200)
        assert rok.get("call-id") == inv.get("call-id")
        in_dialog(ua, "ACK", ururi, uroute, ufrom, inv.get("from"),
                  inv.get("call-id"), 1)
        pbx.request("ACK")

        if bye_from_pbx:
            in_dialog(pbx, "BYE", "sip:carol@%s:%d" % UA2, proute, frm,
                      ok.get("to"), cid, 11)
            bye = ua.request("BYE")
            ua.reply(bye, 200)
            pbx.response("BYE", 200)
        else:
            # A re-INVITE moving media elsewhere is refused by the dialog
            # policy (488): the refusal echoes what the user sent, never
            # the internal view.
            v = "SIP/2.0/UDP %s:%d;branch=%s;rport" % (UA2 + (branch(),))
            ua.send("INVITE %s SIP/2.0\nVia: %s\nRoute: %s\n"
                    "Max-Forwards: 70\nFrom: %s\nTo: %s\nCall-ID: %s\n"
                    "CSeq: 2 INVITE\nContact: <sip:carol@%s:%d>" % (
                        ururi, v, uroute, ufrom, inv.get("from"),
                        inv.get("call-id"), UA2[0], UA2[1]), SG_OUT,
                    sdp("192.0.2.99"))
            ref = ua.response("INVITE", 488)
            assert ref.get("call-id") == inv.get("call-id")
            assert ref.get("from") == ufrom
            assert ref.get("to").startswith(inv.get("from"))
            ua.send("ACK %s SIP/2.0\nVia: %s\nRoute: %s\nMax-Forwards: 70\n"
                    "From: %s\nTo: %s\nCall-ID: %s\nCSeq: 2 ACK" % (
                        ururi, v, uroute, ufrom, ref.get("to"),
                        inv.get("call-id")), SG_OUT)
            in_dialog(ua, "BYE", ururi, uroute, ufrom, inv.get("from"),
                      inv.get("call-id"), 3)
            bye = pbx.request("BYE")
            assert bye.get("call-id") == cid
            pbx.reply(bye, 200, extra=PBX_EXTRA)
            ua.response("BYE", 200)
    ua.quiet()
    assert_nothing_internal(ua)


def test_server_header_replaced(sipguard, peers):
    sipguard(config(server_header="sipguard"))
    ua, pbx = peers(UA1, "outside UA"), peers(PBX, "PBX")
    invite_from_outside(ua, "sh-%s@outside" % os.urandom(3).hex())
    inv = pbx.request("INVITE")
    pbx_answer(pbx, inv, 486)
    resp = ua.response("INVITE", 486)
    assert resp.get("server") == "sipguard"
    ack_non2xx(ua, resp)
    assert_nothing_internal(ua)


def test_call_from_outside_over_tcp(sipguard, peers):
    """The outside over TCP, the inside over UDP: what goes back on the
    connection is hidden, and the PBX's BYE reaches the caller on it."""
    sipguard(config().replace(
        '"udp:%s:%d" ]\n    route' % SG_OUT,
        '"udp:%s:%d", "tcp:%s:%d" ]\n    route' % (SG_OUT + SG_OUT)))
    pbx = peers(PBX, "PBX")
    ua = TcpPeer((OUT_IP, 31403), "outside TCP UA", SG_OUT)
    try:
        cid = "tcp-%s@outside.example" % os.urandom(3).hex()
        ua.send("INVITE sip:100@%s:%d;transport=tcp SIP/2.0\n"
                "Via: SIP/2.0/TCP %s:%d;branch=%s;rport\n"
                "Max-Forwards: 70\nFrom: <sip:alice@example.org>;tag=t1\n"
                "To: <sip:100@%s:%d>\nCall-ID: %s\nCSeq: 1 INVITE\n"
                "Contact: <sip:alice@%s:%d;transport=tcp>" % (
                    SG_OUT[0], SG_OUT[1], OUT_IP, 31403, branch(), SG_OUT[0],
                    SG_OUT[1], cid, OUT_IP, 31403), SG_OUT, sdp(OUT_IP))
        inv = pbx.request("INVITE")
        pbx_answer(pbx, inv, 200)
        ok = ua.response("INVITE", 200)
        rr = ok.all("record-route")
        assert len(rr) == 1 and "transport=tcp" in rr[0], rr
        assert "transport=tcp" in ok.get("contact")
        ua.send("ACK %s SIP/2.0\nVia: SIP/2.0/TCP %s:%d;branch=%s;rport\n"
                "Route: %s\nMax-Forwards: 70\nFrom: %s\nTo: %s\n"
                "Call-ID: %s\nCSeq: 1 ACK" % (
                    uri_of(ok.get("contact")), OUT_IP, 31403, branch(), rr[0],
                    ok.get("from"), ok.get("to"), cid), SG_OUT)
        ack = pbx.request("ACK")
        assert ack.all("route") == [PBX_RR]
        pbx_route = "<sip:%s:%d;transport=udp;lr>, <sip:%s:%d;transport=tcp;lr>" \
            % (SG_IN + SG_OUT)
        in_dialog(pbx, "BYE", "sip:alice@%s:%d;transport=tcp" % (OUT_IP, 31403),
                  pbx_route, inv.get("to") + ";tag=pbxtag1", inv.get("from"),
                  cid, 1)
        bye = ua.request("BYE")
        assert len(bye.all("via")) == 1
        ua.send("SIP/2.0 200 OK\nVia: %s\nFrom: %s\nTo: %s\nCall-ID: %s\n"
                "CSeq: %s" % (bye.get("via"), bye.get("from"), bye.get("to"),
                              bye.get("call-id"), bye.get("cseq")), SG_OUT)
        pok = pbx.response("BYE", 200)
        assert PBX[0] in pok.all("via")[0]
        ua.quiet(0.3)
        assert_nothing_internal(ua)
    finally:
        ua.close()


def pbx_invite(pbx, binding, cid, ptag, br):
    pbx.send("INVITE %s SIP/2.0\nVia: SIP/2.0/UDP %s:%d;branch=%s;rport\n"
             "Record-Route: %s\nMax-Forwards: 69\n"
             "From: <sip:200@%s>;tag=%s\nTo: <sip:carol@%s>\nCall-ID: %s\n"
             "CSeq: 10 INVITE\nContact: <sip:200@%s:%d>" % (
                 binding, PBX[0], PBX[1], br, PBX_RR, PBX_NAME, ptag,
                 PBX_NAME, cid, PBX[0], PBX[1]), SG_IN, sdp(PBX[0]))


def test_pbx_call_cancelled_and_rejected(sipguard, peers):
    """The PBX cancels a ringing call to the outside user; the outside
    user rejects another (486): the CANCEL and the ACK sipguard sends out
    are hidden, the PBX gets its own Vias back."""
    sipguard(config(hide_call_id=True))
    ua, pbx = peers(UA2, "registered UA"), peers(PBX, "PBX")
    binding = register(ua, pbx)
    cid = "c1-%s@%s" % (os.urandom(3).hex(), PBX[0])
    br = branch()
    pbx_invite(pbx, binding, cid, "cx1", br)
    inv = ua.request("INVITE")
    ua.reply(inv, 180, tag="u1", extra="Contact: <sip:carol@%s:%d>" % UA2)
    r180 = pbx.response("INVITE", 180)
    assert br in r180.all("via")[0]
    pbx.send("CANCEL %s SIP/2.0\nVia: SIP/2.0/UDP %s:%d;branch=%s;rport\n"
             "Max-Forwards: 69\nFrom: <sip:200@%s>;tag=cx1\n"
             "To: <sip:carol@%s>\nCall-ID: %s\nCSeq: 10 CANCEL" % (
                 binding, PBX[0], PBX[1], br, PBX_NAME, PBX_NAME, cid), SG_IN)
    pbx.response("CANCEL", 200)
    can = ua.request("CANCEL")
    assert can.get("call-id") == inv.get("call-id")
    ua.reply(can, 200)
    ua.reply(inv, 487, tag="u1")
    r487 = pbx.response("INVITE", 487)
    assert br in r487.all("via")[0] and r487.get("call-id") == cid
    ua.request("ACK")

    cid = "c2-%s@%s" % (os.urandom(3).hex(), PBX[0])
    pbx_invite(pbx, binding, cid, "cx2", branch())
    inv = ua.request("INVITE")
    ua.reply(inv, 486, tag="u2")
    r486 = pbx.response("INVITE", 486)
    assert r486.get("call-id") == cid
    assert r486.get("to").startswith("<sip:carol@%s>" % PBX_NAME)
    ack = ua.request("ACK")
    assert ack.get("call-id") == inv.get("call-id")
    ua.quiet(0.5)
    assert_nothing_internal(ua)


def test_call_runs_out_bye_hidden(sipguard, peers):
    """A call from the PBX hits max_call_duration: the BYE sipguard makes
    for the outside party carries the same tokens as the call."""
    sipguard(config(hide_call_id=True).replace(
        "sip:\n", "sip:\n  max_call_duration: 2s\n"))
    ua, pbx = peers(UA2, "registered UA"), peers(PBX, "PBX")
    binding = register(ua, pbx)
    cid = "limited-%s@%s" % (os.urandom(3).hex(), PBX[0])
    frm = "<sip:200@%s>;tag=lim1" % PBX_NAME
    pbx.send("INVITE %s SIP/2.0\nVia: SIP/2.0/UDP %s:%d;branch=%s;rport\n"
             "Record-Route: %s\nMax-Forwards: 69\nFrom: %s\n"
             "To: <sip:carol@%s>\nCall-ID: %s\nCSeq: 10 INVITE\n"
             "Contact: <sip:200@%s:%d>" % (binding, PBX[0], PBX[1], branch(),
                                           PBX_RR, frm, PBX_NAME, cid,
                                           PBX[0], PBX[1]), SG_IN, sdp(PBX[0]))
    inv = ua.request("INVITE")
    ua.reply(inv, 200, tag="lim2", extra="Contact: <sip:carol@%s:%d>" % UA2,
             body=sdp(OUT_IP))
    ok = pbx.response("INVITE", 200)
    proute = ", ".join(list(reversed(ok.all("record-route")))[1:])
    in_dialog(pbx, "ACK", "sip:carol@%s:%d" % UA2, proute, frm, ok.get("to"),
              cid, 10)
    ua.request("ACK")
    bye = ua.request("BYE", timeout=6)
    assert bye.get("call-id") == inv.get("call-id")
    assert uri_of(bye.get("from")) == uri_of(inv.get("from"))
    assert uri_of(bye.get("to")) == uri_of(inv.get("to"))
    ua.reply(bye, 200)
    pbye = pbx.request("BYE", timeout=6)
    assert pbye.get("call-id") == cid
    pbx.reply(pbye, 200)
    ua.quiet(0.5)
    assert_nothing_internal(ua)


# ------------------------------------------- real peers: Kamailio, sipp

KAM = ("127.0.31.10", 31300)      # Kamailio: PBX and registrar
EXT = ("127.0.31.11", 31310)      # sipp UAS: an extension on the PBX
PHONE = ("127.0.31.12", 31320)    # sipp UAC: an internal phone


def register_digest(ua, user, password="secret", domain="example.org"):
    """REGISTER through sipguard, answering one digest challenge."""
    auth = ""
    for cseq in (1, 2):
        ua.send("REGISTER sip:%s SIP/2.0\n"
                "Via: SIP/2.0/UDP %s:%d;branch=%s;rport\nMax-Forwards: 70\n"
                "From: <sip:%s@%s>;tag=reg1\nTo: <sip:%s@%s>\n"
                "Call-ID: reg-%s@outside\nCSeq: %d REGISTER\n"
                "Contact: <sip:%s@%s:%d>\nExpires: 300\n%s" % (
                    domain, ua.addr[0], ua.addr[1], branch(), user, domain,
                    user, domain, user, cseq, user, ua.addr[0], ua.addr[1],
                    auth), SG_OUT)
        resp = ua.response("REGISTER")
        if resp.status == 200:
            return resp
        assert resp.status == 401, resp.first
        auth = authorization(resp.get("www-authenticate"), "REGISTER",
                             "sip:%s" % domain, user, password) + "\n"
    raise AssertionError("REGISTER not accepted")


def test_kamailio_pbx_and_sipp_both_directions(sipguard, peers):
    """Real software inside: Kamailio as PBX/registrar (record-routing),
    a sipp extension and a sipp phone behind it.  The outside user
    registers, calls the extension, and is called by the phone; every
    byte it receives is checked."""
    from peers import Kamailio, Sipp
    secrets = SECRETS + ["31310", "31320", "kamailio"]
    cfg = config(hide_call_id=True).replace(
        "udp:%s:%d\" ]\n    topology" % PBX,
        "udp:%s:%d\" ]\n    topology" % KAM)
    kam = Kamailio(KAM[0], KAM[1], uas="%s:%d" % EXT)
    try:
        sipguard(cfg)
        ua = peers(UA1, "outside UA")
        register_digest(ua, "alice")

        # alice calls extension 100 (a sipp UAS behind Kamailio).
        ext = Sipp("uas_rr.xml", EXT, calls=1, service="bob")
        time.sleep(0.3)
        cid = "out-%s@outside.example" % os.urandom(3).hex()
        invite_from_outside(ua, cid)
        ok = ua.response("INVITE", 200, timeout=10)
        rr = ok.all("record-route")
        assert len(rr) == 1 and "th=" in rr[0], rr
        route = ", ".join(reversed(rr))
        ruri = uri_of(ok.get("contact"))
        ack_for(ua, ok, route, ruri, 1)
        time.sleep(0.2)
        in_dialog(ua, "BYE", ruri, route, ok.get("from"), ok.get("to"),
                  cid, 2)
        ua.response("BYE", 200)
        assert ext.wait(15) == 0, ext.errors() + kam.text()[-2000:]

        # An internal phone calls alice through Kamailio (its location
        # is sipguard's binding).
        phone = Sipp("uac_rr.xml", PHONE, KAM, calls=1, service="alice")
        inv = ua.request("INVITE", timeout=10)
        assert len(inv.all("via")) == 1 and len(inv.all("record-route")) == 1
        ua.reply(inv, 180, tag="al1", extra="Contact: <sip:alice@%s:%d>" % UA1)
        ua.reply(inv, 200, tag="al1", extra="Contact: <sip:alice@%s:%d>" % UA1,
                 body=sdp(OUT_IP))
        ua.request("ACK", timeout=10)
        bye = ua.request("BYE", timeout=10)
        ua.reply(bye, 200)
        assert phone.wait(15) == 0, phone.errors() + kam.text()[-2000:]
        ua.quiet(0.5)
    finally:
        kam.stop()
    assert ua.captured
    for data in ua.captured:
        head = headers_only(data)
        if os.environ.get("TOPO_DUMP"):
            print("----- to outside UA\n" + head)
        for s in secrets:
            assert s not in head, "%s leaked:\n%s" % (s, head)
