"""Digest answers for the e2e tests: authorization() answers a challenge
(RFC 2617 section 3.2.2, MD5 as RFC 7616 keeps it) for any UA here
(miniua.py, test_dialog_guard.py, test_topology.py, DigestUA), and a UA
that REGISTERs and answers the challenge with a given password, for the
cluster tests that guess or give passwords through two sipguard
instances."""
import hashlib
import os
import re
import socket


def _md5(s):
    return hashlib.md5(s.encode()).hexdigest()


def authorization(challenge, method, uri, user, password,
                  header="Authorization"):
    """The header line (no line end) answering challenge, the value of a
    WWW- or Proxy-Authenticate header ("Digest realm=..., nonce=...),
    for method and uri as user with password: the MD5 response with
    qop=auth (nc 00000001, a fresh cnonce) when the challenge offers a
    qop, else the response without one (RFC 2069's); opaque echoed."""
    p = {k.lower(): q or t for k, q, t in
         re.findall(r'(\w+)=(?:"([^"]*)"|([^\s,"]+))', challenge)}
    ha1 = _md5("%s:%s:%s" % (user, p["realm"], password))
    ha2 = _md5("%s:%s" % (method, uri))
    out = ('%s: Digest username="%s", realm="%s", nonce="%s", uri="%s", '
           % (header, user, p["realm"], p["nonce"], uri))
    if "qop" in p:
        cnonce = os.urandom(4).hex()
        resp = _md5("%s:%s:00000001:%s:auth:%s" % (ha1, p["nonce"], cnonce,
                                                   ha2))
        out += ('response="%s", qop=auth, nc=00000001, cnonce="%s", '
                % (resp, cnonce))
    else:
        out += 'response="%s", ' % _md5("%s:%s:%s" % (ha1, p["nonce"], ha2))
    out += "algorithm=MD5"
    if "opaque" in p:
        out += ', opaque="%s"' % p["opaque"]
    return out


class DigestUA:
    def __init__(self, ip, port, realm, ua_header=""):
        self.ip, self.port, self.realm = ip, port, realm
        self.ua_header = ua_header  # e.g. "User-Agent: Zoiper\r\n"
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.bind((ip, port))
        self.n = 0

    def close(self):
        self.s.close()

    def _send(self, dst, user, cseq, auth=""):
        self.n += 1
        msg = ("REGISTER sip:%s SIP/2.0\r\n"
               "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK-du-%d-%d;rport\r\n"
               "Max-Forwards: 70\r\n"
               "From: <sip:%s@%s>;tag=du%d\r\n"
               "To: <sip:%s@%s>\r\n"
               "Call-ID: du-%s-%d-%d@%s\r\n"
               "CSeq: %d REGISTER\r\n"
               "Contact: <sip:%s@%s:%d>\r\n"
               "%s%s"
               "Expires: 60\r\n"
               "Content-Length: 0\r\n\r\n" %
               (self.realm, self.ip, self.port, self.n, os.getpid(), user,
                self.realm, self.n, user, self.realm, self.ip, self.port,
                self.n, self.ip, cseq, user, self.ip, self.port,
                self.ua_header, auth))
        self.s.sendto(msg.encode(), dst)

    def _recv(self, timeout=1.0):
        """The next final answer, or None after timeout."""
        self.s.settimeout(timeout)
        try:
            while True:
                data = self.s.recv(65535).decode("utf-8", "replace")
                if not data.startswith("SIP/2.0 100"):
                    return data
        except socket.timeout:
            return None

    def login(self, dst, user, password):
        """REGISTER to dst, answer the challenge with password; the final
        answer's status line, or None when dst answers nothing (the
        source is dropped)."""
        self._send(dst, user, 1)
        ch = self._recv()
        if ch is None:
            return None
        m = re.search(r"(?im)^WWW-Authenticate:\s*(Digest\s+.*)$", ch)
        assert m, ch
        auth = authorization(m.group(1), "REGISTER", "sip:%s" % self.realm,
                             user, password)
        self._send(dst, user, 2, auth + "\r\n")
        r = self._recv()
        return r.split("\r\n", 1)[0] if r else None


def start_pair(cfg_a, cfg_b, tag):
    """Two sipguard instances from their config builders cfg(tmpdir),
    both serving and connected to Redis; ((daemon, tmp), (daemon, tmp))."""
    import tempfile
    from conftest import Daemon
    out = []
    for cfg, side in ((cfg_a, "a"), (cfg_b, "b")):
        t = tempfile.TemporaryDirectory(prefix="sipguard-%s%s-" % (tag, side))
        d = Daemon(cfg(t.name), t.name)
        out.append((d, t))
    for d, _ in out:
        assert d.wait_log("ready: serving"), d.log()
        assert d.wait_log("connected"), d.log()
    return tuple(out)


def stop_pair(*pairs):
    for d, t in pairs:
        rc = d.stop()
        assert rc == 0, "sipguard exited with %r:\n%s" % (rc, d.log())
        t.cleanup()
