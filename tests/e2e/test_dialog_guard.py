"""
Issue 5, end to end: in-dialog requests prove they belong, and
registrations cannot be hijacked.

A legitimate caller on 127.0.0.1 (a small scripted UA here, so the test
knows every tag and CSeq) calls through sipguard to a sipp UAS standing in
for the PBX; the attacker on 127.0.0.66 (and on 127.0.0.1 from another
port) knows the call's Call-ID, tags, branch and next CSeq, as a sniffer
would, and forges BYE, CANCEL and re-INVITE.  Each forgery must be refused
and reported in the event log, the UAS must never see it (its -trace_msg
log is read), and the real call carries on: the real BYE ends it.
Registration hijack runs against Kamailio doing digest auth
(kamailio_users.cfg) in pass-through mode.

Ports: 29000-29499 only (this file's own range).
"""
import json
import os
import re
import socket
import time
import uuid

import pytest

from confparts import credentials
from digestua import authorization
from peers import Kamailio, Sipp

IP = "127.0.0.1"
ATK = "127.0.0.66"
SG = 29060          # sipguard, untrusted zone
SG_IN = 29070       # sipguard, trusted zone
UAS = 29080         # sipp UAS (the PBX side)
CALLER = 29090      # the legitimate caller
CALLER2 = 29091     # the same caller after a NAT rebinding
ATK_PORT = 29166
PBX = 29180         # Kamailio
PBX_UAS = 29181
ALICE = 29093
ALICE2 = 29095
PHONE = 29094       # a phone on the PBX side
DEAD = 29099


def config(tmp, backend="udp:%s:%d" % (IP, UAS), dialog="", registration="",
           auth="passthrough", auth_extra=""):
    return """
log:
  level: debug
  events_file: %(tmp)s/events.json
  call_records_file: %(tmp)s/cdr.json
sip:
  t1: 500ms
guard:
  auth:
    mode: %(auth)s
    realm: example.com
%(auth_extra)s  dialog:
%(dialog)s    enforce: true
  registration:
%(registration)s    max_bindings: 10
zones:
  - name: internet
    trust: untrusted
    listen: [ "udp:%(ip)s:%(sg)d", "tcp:%(ip)s:%(sg)d" ]
    route:
      backends: [ "%(be)s" ]
  - name: pbx
    trust: trusted
    listen: [ "udp:%(ip)s:%(sgin)d" ]
""" % {"tmp": tmp, "dialog": dialog, "registration": registration,
       "auth": auth, "auth_extra": auth_extra, "ip": IP, "sg": SG, "sgin": SG_IN, "be": backend}


# ------------------------------------------------------------ events

FIELDS = ["ts", "type", "event", "zone", "src", "src_port", "transport",
          "method", "user", "rule", "action", "reason", "status", "count",
          "repeat"]


def events(tmp):
    """The event log, each line checked against docs/events.md."""
    p = os.path.join(tmp, "events.json")
    if not os.path.exists(p):
        return []
    out = []
    with open(p, "rb") as f:
        raw = f.read()
    for line in raw.decode("utf-8").split("\n")[:-1]:
        pairs = json.loads(line, object_pairs_hook=list)
        assert [k for k, _ in pairs][:len(FIELDS)] == FIELDS, line
        out.append(dict(pairs))
    return out


def wait_event(tmp, timeout=3.0, **kw):
    deadline = time.time() + timeout
    while True:
        got = [e for e in events(tmp)
               if all(e.get(k) == v for k, v in kw.items())]
        if got or time.time() > deadline:
            return got
        time.sleep(0.05)


# ------------------------------------------------------- a scripted UA

def sdp(ip):
    return ("v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
            "m=audio 40000 RTP/AVP 0\r\n" % (ip, ip))


def build(first, headers, body=""):
    h = "".join("%s\r\n" % x for x in headers)
    if body:
        h += "Content-Type: application/sdp\r\n"
    return ("%s\r\n%sContent-Length: %d\r\n\r\n%s"
            % (first, h, len(body.encode()), body)).encode()


def parse(data):
    text = data.decode("utf-8", "replace")
    head = text.split("\r\n\r\n", 1)[0].split("\r\n")
    hdrs = {}
    for l in head[1:]:
        k, _, v = l.partition(":")
        hdrs.setdefault(k.strip().lower(), []).append(v.strip())
    return head[0], hdrs


class UA:
    """One UDP socket speaking SIP to sipguard's untrusted listener."""

    def __init__(self, ip, port):
        self.ip, self.port = ip, port
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.bind((ip, port))

    def close(self):
        self.s.close()

    def via(self, branch=None):
        self.branch = branch or "z9hG4bK-" + uuid.uuid4().hex[:12]
        return "Via: SIP/2.0/UDP %s:%d;branch=%s;rport" % (
            self.ip, self.port, self.branch)

    def send(self, data, dst=(IP, SG)):
        self.s.sendto(data, dst)

    def recv(self, timeout=2.0):
        """Next message as (first line, headers), or None."""
        self.s.settimeout(timeout)
        try:
            return parse(self.s.recvfrom(65535)[0])
        except socket.timeout:
            return None

    def final(self, method, timeout=5.0):
        """The first final response to `method`: (status, headers)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            m = self.recv(deadline - time.time())
            if not m:
                break
            first, h = m
            if first.startswith("SIP/2.0 ") and \
                    h["cseq"][0].split()[1] == method:
                code = int(first.split()[1])
                if code >= 200:
                    return code, h
        return None, None

    def quiet(self, timeout=1.0):
        """Nothing but (possibly) 100 Trying arrives: [first lines]."""
        got = []
        deadline = time.time() + timeout
        while time.time() < deadline:
            m = self.recv(deadline - time.time())
            if not m:
                break
            if not m[0].startswith("SIP/2.0 100"):
                got.append(m[0])
        return got


class Call:
    """The legitimate caller's side of one dialog, with what a sniffer
    learns of it."""

    def __init__(self, ua):
        self.ua = ua
        self.call_id = "dlg-e2e-%s@%s" % (uuid.uuid4().hex[:10], IP)
        self.ftag = uuid.uuid4().hex[:8]
        self.cseq = 1
        self.to = "<sip:bob@%s:%d>" % (IP, SG)
        self.target = "sip:bob@%s:%d" % (IP, SG)
        self.route = []

    def headers(self, method, cseq, via, extra=()):
        h = [via, "Max-Forwards: 70",
             "From: <sip:alice@example.com>;tag=%s" % self.ftag,
             "To: %s" % self.to, "Call-ID: %s" % self.call_id,
             "CSeq: %d %s" % (cseq, method),
             "Contact: <sip:alice@%s:%d>" % (self.ua.ip, self.ua.port),
             "User-Agent: e2e-phone"]
        if self.route:
            h.append("Route: " + ", ".join(self.route))
        return h + list(extra)

    def request(self, method, cseq=None, body="", ua=None, via=None,
                extra=()):
        """Bytes of a request in this dialog; ua: who sends (default the
        caller) - the attacker builds the very same bytes."""
        ua = ua or self.ua
        cseq = self.cseq if cseq is None else cseq
        return build("%s %s SIP/2.0" % (method, self.target),
                     self.headers(method, cseq, via or ua.via(), extra),
                     body)

    def invite(self, wait_for=200):
        self.invite_bytes = self.request("INVITE", 1, sdp(self.ua.ip))
        self.invite_branch = self.ua.branch
        self.ua.send(self.invite_bytes)
        deadline = time.time() + 5
        while time.time() < deadline:
            m = self.ua.recv(deadline - time.time())
            assert m, "no answer to INVITE"
            first, h = m
            code = int(first.split()[1])
            if code >= wait_for:
                break
        assert code == wait_for, first
        self.to = h["to"][0]
        if code == 200:
            rr = ",".join(h.get("record-route", []))
            self.route = [r.strip() for r in rr.split(",") if r.strip()][::-1]
            self.target = re.search(r"<([^>]*)>", h["contact"][0]).group(1)
        return h

    def ack(self, cseq):
        self.ua.send(self.request("ACK", cseq))


def digest(challenge, method, uri, user="alice", password="secret",
           header="Proxy-Authorization"):
    """An RFC 2617 MD5 answer to a challenge header value."""
    return authorization(challenge, method, uri, user, password, header)


def uas_log(uas):
    text = ""
    for f in os.listdir(uas.dir):
        if f.endswith("_messages.log"):
            text += open(os.path.join(uas.dir, f), errors="replace").read()
    return text


def received(uas, method):
    """Requests of `method` the UAS received (not the ones it sent)."""
    return len(re.findall(r"^%s sip:" % method, uas_log(uas), re.M))


@pytest.fixture
def sockets():
    made = []

    def make(ip, port):
        u = UA(ip, port)
        made.append(u)
        return u

    yield make
    for u in made:
        u.close()


def cdr(tmp):
    p = os.path.join(tmp, "cdr.json")
    if not os.path.exists(p):
        return []
    return [json.loads(l) for l in open(p).read().splitlines() if l.strip()]


# ------------------------------------------------------------ dialogs

@pytest.mark.parametrize("action", ["drop", "reply"])
def test_spoofed_bye_refused_call_goes_on(sipguard, tmp_path, sockets,
                                          action):
    tmp = str(tmp_path)
    sipguard(config(tmp, dialog="    action_untrusted: %s\n"
                                "    rebind: never\n" % action))
    uas = Sipp("uas_rr.xml", (IP, UAS), calls=1, extra=["-trace_msg"])
    time.sleep(0.3)
    caller = sockets(IP, CALLER)
    atk = sockets(ATK, ATK_PORT)
    near = sockets(IP, ATK_PORT)        # same IP as the caller, other port
    call = Call(caller)
    call.invite()
    call.ack(1)
    time.sleep(0.3)
    # The attacker knows Call-ID, both tags and the next CSeq.
    for who in (atk, near):
        who.send(call.request("BYE", 2, ua=who))
        got = who.quiet(1.0)
        if action == "drop":
            assert got == [], got
        else:
            assert got and got[0].startswith("SIP/2.0 481"), got
    ev = wait_event(tmp, event="spoofed-bye", src=ATK)
    assert ev and ev[0]["rule"] == "spoofed-bye-source", events(tmp)
    assert ev[0]["type"] == ("drop" if action == "drop" else "refuse")
    assert wait_event(tmp, event="spoofed-bye", src=IP,
                      src_port=ATK_PORT), events(tmp)
    # A replayed old CSeq from the right address is refused as well.
    caller.send(call.request("INFO", 1))
    code, _ = caller.final("INFO", 1.0)
    assert code in (None, 481)
    assert wait_event(tmp, rule="dialog-hijack-cseq"), events(tmp)
    assert received(uas, "BYE") == 0
    assert received(uas, "INFO") == 0
    # The real call goes on; the real BYE ends it.
    caller.send(call.request("BYE", 2))
    code, _ = caller.final("BYE")
    assert code == 200
    assert uas.wait(10) == 0, uas.errors()
    assert received(uas, "BYE") == 1
    deadline = time.time() + 3
    while time.time() < deadline and not cdr(tmp):
        time.sleep(0.05)
    assert cdr(tmp)[-1]["end_reason"] == "bye-caller"


def test_unknown_dialog_from_untrusted_refused(sipguard, tmp_path, sockets):
    tmp = str(tmp_path)
    sipguard(config(tmp, dialog="    action_untrusted: reply\n"))
    atk = sockets(ATK, ATK_PORT)
    call = Call(atk)
    call.to = "<sip:bob@%s:%d>;tag=guessed" % (IP, SG)
    # Routed statelessly by its Route before: now refused.
    call.route = ["<sip:%s:%d;lr>" % (IP, SG)]
    call.target = "sip:bob@%s:%d" % (IP, UAS)
    atk.send(call.request("BYE", 5))
    got = atk.quiet(1.0)
    assert got and got[0].startswith("SIP/2.0 481"), got
    ev = wait_event(tmp, rule="spoofed-bye-unknown")
    assert ev and ev[0]["status"] == 481


def test_spoofed_cancel_refused(sipguard, tmp_path, sockets):
    tmp = str(tmp_path)
    sipguard(config(tmp))
    uas = Sipp("uas_ring.xml", (IP, UAS), calls=1, extra=["-trace_msg"])
    time.sleep(0.3)
    caller = sockets(IP, CALLER)
    atk = sockets(ATK, ATK_PORT)
    near = sockets(IP, ATK_PORT)
    call = Call(caller)
    call.invite(wait_for=180)
    via = "Via: SIP/2.0/UDP %s:%d;branch=%s;rport" % (IP, CALLER,
                                                     call.invite_branch)
    to = "<sip:bob@%s:%d>" % (IP, SG)
    cancel = build("CANCEL sip:bob@%s:%d SIP/2.0" % (IP, SG),
                   [via, "Max-Forwards: 70",
                    "From: <sip:alice@example.com>;tag=%s" % call.ftag,
                    "To: %s" % to, "Call-ID: %s" % call.call_id,
                    "CSeq: 1 CANCEL", "User-Agent: e2e-phone"])
    # The old check looked at the IP only: a neighbour behind the same
    # address could cancel.  Neither may now.
    for who in (atk, near):
        who.send(cancel)
        assert who.quiet(1.0) == []
    ev = wait_event(tmp, event="spoofed-cancel", src=ATK)
    assert ev and ev[0]["rule"] == "spoofed-cancel-source", events(tmp)
    assert ev[0]["type"] == "drop"
    assert wait_event(tmp, event="spoofed-cancel", src_port=ATK_PORT,
                      src=IP)
    assert received(uas, "CANCEL") == 0
    # Still ringing; the caller's own CANCEL works.
    caller.send(cancel)
    code, _ = caller.final("CANCEL")
    assert code == 200
    code, h = caller.final("INVITE")
    assert code == 487
    caller.send(build("ACK sip:bob@%s:%d SIP/2.0" % (IP, SG),
                      [via, "Max-Forwards: 70",
                       "From: <sip:alice@example.com>;tag=%s" % call.ftag,
                       "To: %s" % h["to"][0], "Call-ID: %s" % call.call_id,
                       "CSeq: 1 ACK"]))
    assert uas.wait(10) == 0, uas.errors()
    assert received(uas, "CANCEL") == 1


def test_reinvite_hijack_and_media_redirect_refused(sipguard, tmp_path,
                                                    sockets):
    tmp = str(tmp_path)
    sipguard(config(tmp))
    # This UAS fails on any re-INVITE: none may reach it.
    uas = Sipp("uas_rr.xml", (IP, UAS), calls=1, extra=["-trace_msg"])
    time.sleep(0.3)
    caller = sockets(IP, CALLER)
    atk = sockets(ATK, ATK_PORT)
    call = Call(caller)
    call.invite()
    call.ack(1)
    # The attacker re-INVITEs the call's media to itself.
    atk.send(call.request("INVITE", 2, sdp(ATK), ua=atk))
    assert atk.quiet(1.0) == []
    ev = wait_event(tmp, event="dialog-hijack", src=ATK)
    assert ev and ev[0]["rule"] == "dialog-hijack-source", events(tmp)
    # The party itself may not point media at a third address either.
    caller.send(call.request("INVITE", 2, sdp(ATK)))
    code, _ = caller.final("INVITE")
    assert code == 488
    call.ack(2)     # hop by hop, absorbed by sipguard
    ev = wait_event(tmp, event="media-redirect")
    assert ev and ev[0]["status"] == 488 and ev[0]["src"] == IP, events(tmp)
    assert received(uas, "INVITE") == 1
    caller.send(call.request("BYE", 3))
    code, _ = caller.final("BYE")
    assert code == 200
    assert uas.wait(10) == 0, uas.errors()
    assert received(uas, "INVITE") == 1


def test_legit_reinvite_after_nat_rebinding_and_bye(sipguard, tmp_path,
                                                    sockets):
    tmp = str(tmp_path)
    sipguard(config(tmp, dialog="    rebind: same-ip\n"))
    uas = Sipp("uas_reinvite.xml", (IP, UAS), calls=1, extra=["-trace_msg"])
    time.sleep(0.3)
    caller = sockets(IP, CALLER)
    call = Call(caller)
    call.invite()
    call.ack(1)
    # The caller's NAT gave it a new port: same IP, so same-ip accepts
    # the change and reports it.
    moved = sockets(IP, CALLER2)
    call.ua = moved
    moved.send(call.request("INVITE", 2, sdp(IP)))
    code, _ = moved.final("INVITE")
    assert code == 200
    call.ack(2)
    ev = wait_event(tmp, event="dialog-rebind")
    assert ev and ev[0]["type"] == "notice" and ev[0]["action"] == "pass"
    assert ev[0]["src_port"] == CALLER2
    # Another IP is still refused (same-ip allows only the port to move).
    atk = sockets(ATK, ATK_PORT)
    atk.send(call.request("INFO", 3, ua=atk))
    assert atk.quiet(1.0) == []
    assert wait_event(tmp, rule="dialog-hijack-source", src=ATK)
    moved.send(call.request("BYE", 3))
    code, _ = moved.final("BYE")
    assert code == 200
    assert uas.wait(10) == 0, uas.errors()
    assert received(uas, "INVITE") == 2 and received(uas, "BYE") == 1
    assert not [e for e in events(tmp) if e["type"] in ("drop", "refuse")
                and e["src"] == IP]


def test_monitor_mode_lets_spoofed_bye_through(sipguard, tmp_path, sockets):
    tmp = str(tmp_path)
    sipguard(config(tmp).replace(
        "guard:\n", "guard:\n  monitor_rules: [ spoofed-bye-source ]\n"))
    uas = Sipp("uas_rr.xml", (IP, UAS), calls=1, extra=["-trace_msg"])
    time.sleep(0.3)
    call = Call(sockets(IP, CALLER))
    call.invite()
    call.ack(1)
    atk = sockets(ATK, ATK_PORT)
    atk.send(call.request("BYE", 2, ua=atk))
    code, _ = atk.final("BYE")
    assert code == 200
    assert wait_event(tmp, type="would-drop", event="spoofed-bye")
    assert uas.wait(10) == 0


# ------------------------------------------------------ registrations

def register(ua, user="alice", contact=None, cseq=1, auth=None,
             ua_name="e2e-remote-user", call_id=None):
    contact = contact or "sip:%s@%s:%d;transport=UDP" % (user, ua.ip,
                                                         ua.port)
    h = [ua.via(), "Max-Forwards: 70",
         "From: <sip:%s@example.com>;tag=%s" % (user, uuid.uuid4().hex[:8]),
         "To: <sip:%s@example.com>" % user,
         "Call-ID: %s" % (call_id or uuid.uuid4().hex),
         "CSeq: %d REGISTER" % cseq, "Contact: <%s>" % contact,
         "Expires: 300", "User-Agent: %s" % ua_name]
    if auth:
        h.append(auth)
    ua.send(build("REGISTER sip:example.com SIP/2.0", h))
    return ua.final("REGISTER")


def register_auth(ua, user="alice", password="secret", **kw):
    """REGISTER, answer the digest challenge (RFC 2617 MD5)."""
    cid = uuid.uuid4().hex
    code, h = register(ua, user, call_id=cid, **kw)
    if code != 401:
        return code, h
    a = authorization(h["www-authenticate"][0], "REGISTER",
                      "sip:example.com", user, password)
    return register(ua, user, cseq=2, auth=a, call_id=cid, **kw)


@pytest.fixture
def kamailio():
    k = Kamailio(IP, PBX, uas="%s:%d" % (IP, PBX_UAS),
                 cfg="kamailio_users.cfg")
    yield k
    k.stop()


def call_alice(port):
    """A phone on the PBX side calls alice; alice is a sipp UAS on port."""
    alice = Sipp("uas_rr.xml", (IP, port), calls=1)
    time.sleep(0.3)
    phone = Sipp("uac_rr.xml", (IP, PHONE), (IP, PBX), calls=1,
                 service="alice")
    rc = phone.wait(30)
    alice.stop()
    return rc, phone


@pytest.mark.parametrize("hold", [False, True])
def test_register_hijack_refused(sipguard, tmp_path, sockets, kamailio,
                                 hold):
    tmp = str(tmp_path)
    sipguard(config(tmp, backend="udp:%s:%d" % (IP, PBX),
                    registration="    move_hold: 60s\n" if hold else ""))
    alice = sockets(IP, ALICE)
    code, _ = register_auth(alice)
    assert code == 200, kamailio.text()[-2000:]
    alice.close()
    regs = kamailio.text().count("PBX rx REGISTER")
    # The attacker re-registers alice's very Contact from its own
    # address, without credentials.
    atk = sockets(ATK, ATK_PORT)
    code, _ = register(atk, contact="sip:alice@%s:%d;transport=UDP"
                       % (IP, ALICE), ua_name="evil")
    if hold:
        # Held: refused here, the PBX never sees it.
        assert code == 403
        ev = wait_event(tmp, event="registration-moved", src=ATK)
        assert ev and ev[0]["rule"] == "registration-move-hold"
        assert ev[0]["status"] == 403 and ev[0]["user"] == "alice"
        time.sleep(0.3)
        assert kamailio.text().count("PBX rx REGISTER") == regs
    else:
        assert code == 401
        ev = wait_event(tmp, event="registration-hijack", src=ATK)
        assert ev and ev[0]["type"] == "refuse", events(tmp)
    # Calls for alice still reach alice, not the attacker.
    rc, phone = call_alice(ALICE)
    assert rc == 0, phone.errors() + kamailio.text()[-2000:]
    assert atk.quiet(0.5) == []


def test_register_move_reported_and_followed(sipguard, tmp_path, sockets,
                                             kamailio):
    tmp = str(tmp_path)
    sipguard(config(tmp, backend="udp:%s:%d" % (IP, PBX)))
    contact = "sip:alice@10.99.0.5:5060"    # behind NAT: private Contact
    a1 = sockets(IP, ALICE)
    assert register_auth(a1, contact=contact)[0] == 200
    a1.close()
    # The same phone after its NAT rebinding: authenticated, accepted,
    # reported.
    a2 = sockets(IP, ALICE2)
    assert register_auth(a2, contact=contact)[0] == 200
    ev = wait_event(tmp, event="registration-moved", type="notice")
    assert ev and ev[0]["src_port"] == ALICE2, events(tmp)
    a2.close()
    rc, phone = call_alice(ALICE2)
    assert rc == 0, phone.errors() + kamailio.text()[-2000:]


def test_register_forbidden_contacts_and_cap(sipguard, tmp_path, sockets,
                                             kamailio):
    tmp = str(tmp_path)
    sipguard(config(tmp, backend="udp:%s:%d" % (IP, PBX),
                    registration="    forbidden_contacts: [ 127.0.0.99/32 ]\n"
                    ).replace("max_bindings: 10", "max_bindings: 1"))
    u = sockets(IP, ALICE)
    regs = kamailio.text().count("PBX rx REGISTER")
    for c in ("sip:alice@127.0.0.99:5060",        # configured prefix
              "sip:alice@%s:%d" % (IP, PBX),      # the PBX itself
              "sip:alice@%s:%d" % (IP, SG)):      # sipguard itself
        code, _ = register(u, contact=c)
        assert code == 403, c
    ev = wait_event(tmp, event="forbidden-contact")
    assert ev and ev[0]["rule"] == "registration-forbidden-contact"
    # (the other two are aggregated into a repeat line, 10 s later)
    time.sleep(0.3)
    assert kamailio.text().count("PBX rx REGISTER") == regs
    # One binding per AOR: the second device is refused.
    assert register_auth(u)[0] == 200
    other = sockets(IP, ALICE2)
    code, _ = register(other)
    assert code == 403
    assert wait_event(tmp, event="registration-limit", src_port=ALICE2)
    # Refreshing the existing binding is not a new one.
    assert register_auth(u)[0] == 200


def test_rebind_authenticated_in_local_mode(sipguard, tmp_path, sockets):
    """rebind: authenticated - a phone that changed networks mid-call
    (new IP) proves itself with credentials sipguard verifies; an
    intruder without the password cannot."""
    tmp = str(tmp_path)
    creds = credentials(tmp, {"alice": "secret"}, "example.com")
    d = sipguard(config(tmp, auth="local", dialog="    rebind: authenticated\n",
                    auth_extra="    credentials: %s\n    sha256: false\n"
                    % creds))
    uas = Sipp("uas_rr.xml", (IP, UAS), calls=1, extra=["-trace_msg"])
    time.sleep(0.3)
    caller = sockets(IP, CALLER)
    call = Call(caller)
    # Local mode: the INVITE itself is challenged first.
    caller.send(call.request("INVITE", 1, sdp(IP)))
    code, h = caller.final("INVITE")
    assert code == 407
    via = "Via: SIP/2.0/UDP %s:%d;branch=%s;rport" % (IP, CALLER,
                                                     caller.branch)
    first_to = call.to
    call.to = h["to"][0]
    caller.send(call.request("ACK", 1, via=via))
    call.to = first_to
    pa = digest(h["proxy-authenticate"][0], "INVITE", call.target)
    caller.send(call.request("INVITE", 2, sdp(IP), extra=[pa]))
    code, h = caller.final("INVITE")
    assert code == 200, d.log()[-3000:]
    call.to = h["to"][0]
    rr = ",".join(h.get("record-route", []))
    call.route = [r.strip() for r in rr.split(",") if r.strip()][::-1]
    call.target = re.search(r"<([^>]*)>", h["contact"][0]).group(1)
    call.ack(2)
    # An intruder with a wrong password: refused, never forwarded.
    intruder = sockets("127.0.0.67", ATK_PORT)
    intruder.send(call.request("BYE", 3, ua=intruder))
    code, h = intruder.final("BYE")
    assert code == 407, events(tmp)
    intruder.send(call.request("BYE", 4, ua=intruder, extra=[digest(
        h["proxy-authenticate"][0], "BYE", call.target, password="guess")]))
    code, _ = intruder.final("BYE")
    assert code == 403
    assert received(uas, "BYE") == 0
    # The phone, now on another network, answers the challenge.
    moved = sockets(ATK, ATK_PORT)
    moved.send(call.request("BYE", 3, ua=moved))
    code, h = moved.final("BYE")
    assert code == 407
    moved.send(call.request("BYE", 4, ua=moved, extra=[digest(
        h["proxy-authenticate"][0], "BYE", call.target)]))
    code, _ = moved.final("BYE")
    assert code == 200
    ev = wait_event(tmp, event="dialog-rebind", src=ATK)
    assert ev and ev[0]["type"] == "notice", events(tmp)
    assert uas.wait(10) == 0, uas.errors()
    assert received(uas, "BYE") == 1
    assert "Proxy-Authorization" not in uas_log(uas)


class TcpUA(UA):
    """The same over one TCP connection (framing from miniua)."""

    def __init__(self):
        from miniua import MiniUA
        self.m = MiniUA((IP, SG), "alice", "x")
        self.ip, self.port = self.m.local[0], self.m.local[1]

    def close(self):
        self.m.close()

    def via(self, branch=None):
        self.branch = branch or "z9hG4bK-" + uuid.uuid4().hex[:12]
        return "Via: SIP/2.0/TCP %s:%d;branch=%s;rport" % (
            self.ip, self.port, self.branch)

    def send(self, data, dst=None):
        self.m.sock.sendall(data)

    def recv(self, timeout=2.0):
        try:
            first, hdrs, _ = self.m.recv_msg(timeout)
        except (TimeoutError, socket.timeout):
            return None
        return first, hdrs


def test_tcp_party_bound_to_its_connection(sipguard, tmp_path):
    """Over TCP the party is its connection: another connection from the
    same host cannot end the call (rebind: never)."""
    tmp = str(tmp_path)
    sipguard(config(tmp, dialog="    rebind: never\n"))
    uas = Sipp("uas_rr.xml", (IP, UAS), calls=1, extra=["-trace_msg"])
    time.sleep(0.3)
    caller, other = TcpUA(), TcpUA()
    try:
        call = Call(caller)
        call.invite()
        call.ack(1)
        other.send(call.request("BYE", 2, ua=other))
        assert other.quiet(1.0) == []
        ev = wait_event(tmp, rule="spoofed-bye-source")
        assert ev and ev[0]["transport"] == "TCP", events(tmp)
        assert received(uas, "BYE") == 0
        caller.send(call.request("BYE", 2))
        code, _ = caller.final("BYE")
        assert code == 200
        assert uas.wait(10) == 0, uas.errors()
    finally:
        caller.close()
        other.close()
