"""
Issue 7 (TLS transport), end to end: sipguard's TLS listeners and
outbound TLS, with certificates the test makes with the openssl command
(tests/unit/transport/tls_certs.sh).  Clients are Python's ssl module
with a small SIP client (Debian's sipp has no TLS); behind sipguard a
sipp UAS or Kamailio speaks plain UDP.

Ports: 33000-33499 only (this file's range).
"""
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import threading
import time

import pytest

from opsconf import run_ctl
from miniua import MiniUA
from peers import Kamailio, Sipp

IP = "127.0.0.1"
SG_UDP = 33060      # untrusted zone, udp
SG_TLS = 33061      # untrusted zone, tls
SG_MTLS = 33062     # trunks zone, tls with client certificates required
SG_IN = 33070       # trusted zone, udp
UAS = 33080         # sipp UAS behind sipguard (udp)
TLS_PBX = 33090     # a TLS server sipguard connects out to
HERE = os.path.dirname(os.path.abspath(__file__))
CERTS_SH = os.path.join(HERE, "..", "unit", "transport", "tls_certs.sh")


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("certs"))
    subprocess.run(["sh", CERTS_SH, d], check=True)
    return d


def config(tmpdir, certs, backends=("udp:%s:%d" % (IP, UAS),),
           cert="server", zone_extra="", pbx_tls="", t1="500ms"):
    be = ", ".join('"%s"' % b for b in backends)
    return """
log:
  level: debug
  call_records_file: %(cdr)s
sip:
  t1: %(t1)s
zones:
  - name: internet
    trust: untrusted
    listen: [ "udp:%(ip)s:%(udp)d", "tls:%(ip)s:%(tls)d" ]
    route:
      backends: [ %(be)s ]
    tls:
      certificates: [ "%(d)s/%(cert)s.pem", "%(d)s/other.pem" ]
      keys: [ "%(d)s/%(cert)s.key", "%(d)s/other.key" ]
      handshake_timeout: 2s
%(zone_extra)s
  - name: trunks
    trust: untrusted
    listen: [ "tls:%(ip)s:%(mtls)d" ]
    route:
      backends: [ %(be)s ]
    tls:
      certificates: [ "%(d)s/server.pem" ]
      keys: [ "%(d)s/server.key" ]
      client_ca_file: "%(d)s/ca.pem"
      verify_clients: require
      allowed_clients: [ trunk1.example ]
  - name: pbx
    trust: trusted
    listen: [ "udp:%(ip)s:%(inn)d" ]
    tls:
      ca_file: "%(d)s/ca.pem"
%(pbx_tls)s""" % {"cdr": os.path.join(tmpdir, "cdr.json"), "ip": IP,
                  "udp": SG_UDP, "tls": SG_TLS, "mtls": SG_MTLS,
                  "inn": SG_IN, "be": be, "d": tmpdir if cert == "live"
                  else certs, "cert": cert, "zone_extra": zone_extra,
                  "pbx_tls": pbx_tls, "t1": t1}


def client_ctx(certs, cert=None, tls12=False, cipher=None):
    ctx = ssl.create_default_context(cafile=os.path.join(certs, "ca.pem"))
    if cert:
        ctx.load_cert_chain(os.path.join(certs, cert + ".pem"),
                            os.path.join(certs, cert + ".key"))
    if tls12:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    if cipher:
        ctx.set_ciphers(cipher)
    return ctx


class TlsUA(MiniUA):
    """MiniUA over TLS: same SIP, Via and Contact say TLS."""

    def __init__(self, port, ctx, user="alice", password="secret",
                 sni="server.test", session=None):
        self.user, self.password = user, password
        raw = socket.create_connection((IP, port), timeout=5)
        self.sock = ctx.wrap_socket(raw, server_hostname=sni,
                                    session=session)
        self.local = self.sock.getsockname()
        self.buf = b""
        self.tag = os.urandom(4).hex()
        self.callid = "tlsua-%s@10.99.0.5" % os.urandom(6).hex()

    def send(self, text):
        text = text.replace("SIP/2.0/TCP", "SIP/2.0/TLS")
        text = text.replace("transport=tcp", "transport=tls")
        super().send(text)

    def ping(self, timeout=5):
        """RFC 5626 CRLFCRLF keep-alive; True when the CRLF pong came."""
        self.sock.sendall(b"\r\n\r\n")
        self.sock.settimeout(timeout)
        return self.sock.recv(2) == b"\r\n"

    def options(self, port):
        self.send("OPTIONS sip:%s:%d SIP/2.0\n"
                  "Via: SIP/2.0/TLS 10.99.0.5:5061;branch=z9hG4bK%s;rport\n"
                  "Max-Forwards: 70\nFrom: <sip:%s@example.com>;tag=%s\n"
                  "To: <sip:%s:%d>\nCall-ID: o-%s\nCSeq: 1 OPTIONS\n"
                  "Content-Length: 0\n\n" % (IP, port, os.urandom(6).hex(),
                                             self.user, self.tag, IP, port,
                                             os.urandom(6).hex()))
        return self.recv_msg()

    def request(self, method, ruri, cseq, to, routes, body=""):
        self.send("%s %s SIP/2.0\n"
                  "Via: SIP/2.0/TLS 10.99.0.5:5061;branch=z9hG4bK%s;rport\n"
                  "Max-Forwards: 70\n%s"
                  "From: <sip:%s@example.com>;tag=%s\nTo: %s\n"
                  "Call-ID: %s\nCSeq: %d %s\n"
                  "Contact: <sip:%s@10.99.0.5:5061;transport=tcp>\n%s"
                  "Content-Length: %d\n\n%s"
                  % (method, ruri, os.urandom(6).hex(),
                     "".join("Route: %s\n" % r for r in routes),
                     self.user, self.tag, to, self.callid, cseq, method,
                     self.user,
                     "Content-Type: application/sdp\n" if body else "",
                     len(body.replace("\n", "\r\n")), body))

    def call(self, target="bob"):
        """INVITE to target through sipguard, ACK, BYE.  Returns the
        200's headers."""
        sdp = ("v=0\no=- 1 1 IN IP4 10.99.0.5\ns=-\nc=IN IP4 10.99.0.5\n"
               "t=0 0\nm=audio 40000 RTP/AVP 0\n")
        to = "<sip:%s@example.com>" % target
        self.request("INVITE", "sip:%s@%s:%d" % (target, IP, SG_TLS), 1, to,
                     [], sdp)
        while True:
            first, hdrs, _ = self.recv_msg(15)
            code = int(first.split()[1])
            if code >= 200:
                break
        assert code == 200, first
        rr = []
        for v in hdrs.get("record-route", []):
            rr += [x.strip() for x in v.split(",")]
        routes = list(reversed(rr))
        contact = re.search(r"<([^>]+)>", hdrs["contact"][0]).group(1)
        to = hdrs["to"][0]
        self.request("ACK", contact, 1, to, routes)
        self.request("BYE", contact, 2, to, routes)
        first, _, _ = self.recv_msg(15)
        assert first.startswith("SIP/2.0 200"), first
        return hdrs

    def close(self):
        self.sock.close()


def usable(port, ctx):
    """A TLS connection that answers a keep-alive ping.  TLS 1.3 clients
    finish the handshake first: a refusal shows on the first read (an
    alert, a reset or the end of the stream)."""
    try:
        ua = TlsUA(port, ctx)
        ok = ua.ping(timeout=3)
        ua.close()
        return ok
    except (ssl.SSLError, OSError):
        return False


def records(tmpdir, n, timeout=3.0):
    p = os.path.join(tmpdir, "cdr.json")
    deadline = time.time() + timeout
    recs = []
    while time.time() < deadline:
        if os.path.exists(p):
            recs = [json.loads(l) for l in open(p).read().splitlines() if l]
            if len(recs) >= n:
                break
        time.sleep(0.05)
    return recs


def test_call_over_tls_to_plain_udp_uas(sipguard, certs, tmp_path):
    """A TLS client calls a plain-UDP sipp UAS through sipguard; the
    Record-Route says transport=tls on the client side, the call record
    says the caller came over TLS."""
    sipguard(config(str(tmp_path), certs))
    uas = Sipp("uas_rr.xml", (IP, UAS), calls=1)
    time.sleep(0.2)
    ua = TlsUA(SG_TLS, client_ctx(certs))
    try:
        hdrs = ua.call()
    finally:
        ua.close()
    assert uas.wait(15) == 0, uas.errors()
    rr = ",".join(hdrs["record-route"])
    # Topology hiding (on for untrusted zones) seals the inside entries
    # into a th= parameter of our entry: only our TLS address shows.
    assert "<sip:%s:%d;transport=tls;lr" % (IP, SG_TLS) in rr, rr
    assert "transport=udp" not in rr, rr     # the inside entry is sealed
    recs = records(str(tmp_path), 1)
    assert recs and recs[-1]["final_status"] == 200, recs
    assert recs[-1]["caller"]["transport"] == "TLS", recs


def test_register_over_tls_then_get_called(sipguard, certs, tmp_path):
    """A remote user registers over TLS (Kamailio challenges), then the
    PBX's call reaches it over that very TLS connection."""
    pbx_port, pbx_uas = 33180, 33181
    kam = Kamailio(IP, pbx_port, uas="%s:%d" % (IP, pbx_uas))
    ua = None
    try:
        sipguard(config(str(tmp_path), certs,
                        backends=("udp:%s:%d" % (IP, pbx_port),)))
        ua = TlsUA(SG_TLS, client_ctx(certs), user="carol")
        ua.register()
        caller = Sipp("uac_rr.xml", (IP, 33190), (IP, pbx_port), calls=1,
                      service="carol")
        seen = ua.answer_call()
        assert caller.wait(30) == 0, caller.errors() + kam.text()[-2000:]
        assert "ACK" in seen
    finally:
        if ua:
            ua.close()
        kam.stop()
    recs = records(str(tmp_path), 1)
    assert recs and recs[-1]["callee"]["transport"] == "TLS", recs


def test_mutual_tls(sipguard, certs, tmp_path):
    """The trunks zone requires a client certificate from the test CA:
    none, or one from another CA, is refused; a good one is let in and
    its name logged."""
    d = sipguard(config(str(tmp_path), certs))
    for cert in (None, "rogue"):
        assert not usable(SG_MTLS, client_ctx(certs, cert))
    ua = TlsUA(SG_MTLS, client_ctx(certs, "client"))
    first, _, _ = ua.options(SG_MTLS)
    assert first.startswith("SIP/2.0 200"), first
    ua.close()
    assert d.wait_log("client certificate verified: trunk1.example")
    assert d.wait_log("handshake failed")
    # The untrusted zone without client verification takes anyone.
    ua = TlsUA(SG_TLS, client_ctx(certs))
    assert ua.ping()
    ua.close()


def test_cipher_policy_refuses_non_aead(sipguard, certs, tmp_path):
    sipguard(config(str(tmp_path), certs))
    r = subprocess.run(["openssl", "s_client", "-connect",
                        "%s:%d" % (IP, SG_TLS), "-tls1_2", "-cipher",
                        "AES128-SHA", "-CAfile",
                        os.path.join(certs, "ca.pem")],
                       input=b"", capture_output=True, timeout=10)
    assert r.returncode != 0
    assert b"handshake failure" in r.stdout + r.stderr
    # The default policy's AEAD suites work, TLS 1.2 and 1.3.
    for tls12 in (True, False):
        ua = TlsUA(SG_TLS, client_ctx(certs, tls12=tls12))
        name, version, _ = ua.sock.cipher()
        assert "GCM" in name or "CHACHA20" in name, name
        assert version == ("TLSv1.2" if tls12 else "TLSv1.3")
        assert ua.ping()
        ua.close()


def test_sni_and_resumption(sipguard, certs, tmp_path):
    sock = os.path.join(str(tmp_path), "ctl.sock")
    sipguard(config(str(tmp_path), certs) +
             "guard:\n  control_socket: %s\n" % sock)
    ctx = client_ctx(certs)
    ua = TlsUA(SG_TLS, ctx, sni="other.test")
    assert ua.sock.getpeercert()["subject"][0][0][1] == "other.test"
    assert ua.ping()       # TLS 1.3 tickets arrive with the first read
    sess = ua.sock.session
    ua.close()
    ua = TlsUA(SG_TLS, ctx, sni="other.test", session=sess)
    assert ua.sock.session_reused
    assert ua.ping()
    ua.close()
    ctl = os.path.join(os.path.dirname(os.environ.get(
        "SIPGUARD_BIN", os.path.join(HERE, "..", "..", "build", "release",
                                     "sipguard"))), "sipguardctl")
    out = subprocess.run([ctl, "-s", sock, "stats"], capture_output=True,
                         timeout=10).stdout.decode()
    stats = dict(l.split()[:2] for l in out.splitlines() if len(l.split()) >= 2)
    assert int(stats.get("tls.handshakes", 0)) == 2, out
    assert int(stats.get("tls.resumed", 0)) == 1, out


class TlsServer:
    """A TLS server on TLS_PBX presenting `cert`; records what it reads
    and the handshake errors it sees."""

    def __init__(self, certs, cert):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(os.path.join(certs, cert + ".pem"),
                                 os.path.join(certs, cert + ".key"))
        self.ls = socket.socket()
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind((IP, TLS_PBX))
        self.ls.listen(16)
        self.ls.settimeout(0.2)
        self.data, self.errors = b"", []
        self.stop_ev = threading.Event()
        self.th = threading.Thread(target=self.run, daemon=True)
        self.th.start()

    def run(self):
        while not self.stop_ev.is_set():
            try:
                c, _ = self.ls.accept()
            except socket.timeout:
                continue
            try:
                c.settimeout(3)
                s = self.ctx.wrap_socket(c, server_side=True)
                s.settimeout(0.5)
                try:
                    while True:
                        b = s.recv(65535)
                        if not b:
                            break
                        self.data += b
                except (socket.timeout, OSError):
                    pass
                s.close()
            except (ssl.SSLError, OSError) as e:
                self.errors.append(str(e))
                c.close()

    def stop(self):
        self.stop_ev.set()
        self.th.join(5)
        self.ls.close()


def invite_udp(port=SG_UDP, timeout=8.0):
    """INVITE over UDP to sipguard; the final status (None if none)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((IP, 0))
    lp = s.getsockname()[1]
    msg = ("INVITE sip:bob@%s:%d SIP/2.0\r\n"
           "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK%s;rport\r\n"
           "Max-Forwards: 70\r\nFrom: <sip:alice@example.com>;tag=1\r\n"
           "To: <sip:bob@example.com>\r\nCall-ID: %s\r\nCSeq: 1 INVITE\r\n"
           "Contact: <sip:alice@%s:%d>\r\nContent-Length: 0\r\n\r\n"
           % (IP, port, IP, lp, os.urandom(6).hex(), os.urandom(6).hex(),
              IP, lp))
    s.sendto(msg.encode(), (IP, port))
    deadline = time.time() + timeout
    status = None
    while time.time() < deadline:
        s.settimeout(max(0.05, deadline - time.time()))
        try:
            data = s.recv(65535).decode()
        except socket.timeout:
            break
        code = int(data.split()[1])
        if code >= 200:
            status = code
            break
    s.close()
    return status


@pytest.mark.parametrize("server_cert,ok", [("other", False),
                                            ("server", True)])
def test_outbound_tls_checks_host_name(sipguard, certs, tmp_path,
                                       server_cert, ok):
    """The backend is tls:127.0.0.1:33090 and must be server.test; a
    server showing other.test's (valid, same CA) certificate is refused
    and sees nothing; the right one gets the INVITE over TLS."""
    srv = TlsServer(certs, server_cert)
    try:
        # T1 50 ms: the INVITE nobody answers ends at Timer B, 3.2 s.
        d = sipguard(config(str(tmp_path), certs, t1="50ms",
                            backends=("tls:%s:%d" % (IP, TLS_PBX),),
                            zone_extra="      backend_name: server.test\n"))
        status = invite_udp()
        time.sleep(0.3)
    finally:
        srv.stop()
    if ok:
        assert b"INVITE sip:bob@" in srv.data, (srv.errors, d.log()[-2000:])
        assert b"Via: SIP/2.0/TLS 127.0.0.1:%d;" % SG_IN in srv.data
    else:
        assert b"INVITE" not in srv.data
        assert status != 200
        assert srv.errors, d.log()[-2000:]
        assert d.wait_log("handshake failed")
        assert "Hostname mismatch" in d.log() or \
            "certificate verify failed" in d.log(), d.log()[-2000:]


def test_reload_bad_certificate_keeps_old(sipguard, certs, tmp_path):
    """SIGHUP with a broken certificate file: refused, the old one stays
    (new clients still get it); then a good new pair: new clients get it,
    a connection made before every reload still works."""
    live = str(tmp_path)
    for src, dst in (("server.pem", "live.pem"), ("server.key", "live.key"),
                     ("server.pem", "server.pem"),
                     ("server.key", "server.key"),
                     ("other.pem", "other.pem"), ("other.key", "other.key"),
                     ("ca.pem", "ca.pem")):
        with open(os.path.join(certs, src), "rb") as f, \
                open(os.path.join(live, dst), "wb") as g:
            g.write(f.read())
    d = sipguard(config(live, live, cert="live") +
                 "guard:\n  control_socket: %s/ctl.sock\n" % live)
    ctx = client_ctx(certs)
    ctx.check_hostname = False
    old = TlsUA(SG_TLS, ctx, sni=None)
    assert old.ping()

    def cn():
        ua = TlsUA(SG_TLS, ctx, sni=None)
        der = ua.sock.getpeercert(binary_form=False)
        ua.close()
        return dict(x[0] for x in der["subject"])["commonName"]

    with open(os.path.join(live, "live.pem"), "w") as f:
        f.write("garbage\n")
    d.proc.send_signal(signal.SIGHUP)
    assert d.wait_log("tls reload refused")
    assert cn() == "server.test"
    for src, dst in (("other.pem", "live.pem"), ("other.key", "live.key")):
        with open(os.path.join(certs, src), "rb") as f, \
                open(os.path.join(live, dst), "wb") as g:
            g.write(f.read())
    d.proc.send_signal(signal.SIGHUP)
    assert d.wait_log("tls certificates and keys reloaded")
    assert cn() == "other.test"
    # `sipguardctl reload` renews them as SIGHUP does.
    for src, dst in (("server.pem", "live.pem"), ("server.key", "live.key")):
        with open(os.path.join(certs, src), "rb") as f, \
                open(os.path.join(live, dst), "wb") as g:
            g.write(f.read())
    r = run_ctl(live, ["reload"], json_out=False)
    assert r.returncode == 0, r.stderr
    assert cn() == "server.test"
    assert old.ping()
    old.close()
    assert "pw-secret" not in d.log()


def test_handshake_timeout(sipguard, certs, tmp_path):
    """A client that connects and says nothing is dropped after the
    zone's handshake_timeout (2 s here)."""
    d = sipguard(config(str(tmp_path), certs))
    s = socket.create_connection((IP, SG_TLS), timeout=6)
    t0 = time.time()
    assert s.recv(1) == b""
    assert 1.5 < time.time() - t0 < 5
    s.close()


def test_handshake_flood_is_rate_limited_by_the_gate(sipguard, certs,
                                                     tmp_path):
    """The gate counts every accepted connection of a source: a source
    opening TLS connections far over guard.gate.packets_per_second gets
    reset before any handshake work; another source is unaffected."""
    gate = ("guard:\n  gate:\n    packets_per_second: 5\n"
            "    packet_burst: 5\n    flood_drops: 0\n")
    sipguard(config(str(tmp_path), certs) + gate)
    ctx = client_ctx(certs)
    ok = refused = 0
    for _ in range(30):
        raw = socket.socket()
        raw.bind(("127.0.0.66", 0))
        raw.settimeout(3)
        try:
            raw.connect((IP, SG_TLS))
            s = ctx.wrap_socket(raw, server_hostname="server.test")
            s.close()
            ok += 1
        except (ssl.SSLError, OSError):
            refused += 1
            raw.close()
    assert 1 <= ok <= 12, (ok, refused)
    assert refused >= 15, (ok, refused)
    ua = TlsUA(SG_TLS, ctx)
    assert ua.ping()
    ua.close()
