"""
A minimal SIP user agent over one TCP connection, for tests that need a
remote user "behind NAT": it registers with a private, unreachable Contact
(10.99.0.5), answers digest challenges (RFC 2617 MD5, qop=auth), then
answers one call that must arrive over the same connection.
"""
import os
import re
import socket
import time

from digestua import authorization


class MiniUA:
    cseq = 0  # subclasses with their own __init__ start from here too

    def __init__(self, server, user, password, local_ip="127.0.0.1"):
        self.user, self.password = user, password
        self.sock = socket.create_connection(server, timeout=5)
        self.local = self.sock.getsockname()
        self.buf = b""
        self.tag = os.urandom(4).hex()
        self.callid = "miniua-%s@10.99.0.5" % os.urandom(6).hex()
        self.cseq = 0  # one REGISTER Call-ID: CSeq keeps rising

    def send(self, text):
        self.sock.sendall(text.replace("\n", "\r\n").encode())

    def recv_msg(self, timeout=10):
        """Next framed SIP message as (first line, headers dict, raw)."""
        deadline = time.time() + timeout
        while True:
            while self.buf.startswith(b"\r\n"):
                self.buf = self.buf[2:]
            end = self.buf.find(b"\r\n\r\n")
            if end >= 0:
                head = self.buf[:end].decode()
                m = re.search(r"(?im)^(?:content-length|l)\s*:\s*(\d+)", head)
                clen = int(m.group(1)) if m else 0
                if len(self.buf) >= end + 4 + clen:
                    raw = self.buf[:end + 4 + clen]
                    self.buf = self.buf[end + 4 + clen:]
                    lines = head.split("\r\n")
                    hdrs = {}
                    for l in lines[1:]:
                        k, _, v = l.partition(":")
                        hdrs.setdefault(k.strip().lower(), []).append(v.strip())
                    return lines[0], hdrs, raw.decode()
            left = deadline - time.time()
            if left <= 0:
                raise TimeoutError("no SIP message")
            self.sock.settimeout(left)
            data = self.sock.recv(65535)
            if not data:
                raise ConnectionError("closed")
            self.buf += data

    def register(self, registrar="example.com", expires=300):
        auth = ""
        for _ in range(3):
            self.cseq += 1
            self.send(
                "REGISTER sip:%s SIP/2.0\n"
                "Via: SIP/2.0/TCP 10.99.0.5:5060;branch=z9hG4bK%s;rport\n"
                "Max-Forwards: 70\n"
                "From: <sip:%s@%s>;tag=%s\n"
                "To: <sip:%s@%s>\n"
                "Call-ID: reg-%s\n"
                "CSeq: %d REGISTER\n"
                "Contact: <sip:%s@10.99.0.5:5060;transport=tcp>\n"
                "Expires: %d\n%s"
                "Content-Length: 0\n\n" % (registrar, os.urandom(6).hex(),
                                           self.user, registrar, self.tag,
                                           self.user, registrar, self.callid,
                                           self.cseq, self.user, expires,
                                           auth))
            first, hdrs, _ = self.recv_msg()
            code = int(first.split()[1])
            if code == 200:
                return hdrs
            if code != 401:
                raise AssertionError("REGISTER got " + first)
            auth = authorization(hdrs["www-authenticate"][0], "REGISTER",
                                 "sip:%s" % registrar, self.user,
                                 self.password) + "\n"
        raise AssertionError("REGISTER not accepted")

    def answer_call(self, timeout=15):
        """Wait for INVITE on this connection; 180, 200; ACK; BYE; 200."""
        first, hdrs, raw = self.recv_msg(timeout)
        assert first.startswith("INVITE "), first
        # The INVITE is addressed to the Contact we registered.
        assert "10.99.0.5" in first, first
        top = "\n".join("Via: %s" % v for v in hdrs["via"])
        rr = "".join("Record-Route: %s\n" % v for v in hdrs.get("record-route", []))
        to = hdrs["to"][0] + ";tag=" + self.tag
        common = "%s\nFrom: %s\nTo: %s\nCall-ID: %s\nCSeq: %s\n%s" % (
            top, hdrs["from"][0], to, hdrs["call-id"][0], hdrs["cseq"][0], rr)
        contact = "Contact: <sip:%s@10.99.0.5:5060;transport=tcp>\n" % self.user
        self.send("SIP/2.0 180 Ringing\n" + common + contact +
                  "Content-Length: 0\n\n")
        sdp = ("v=0\no=- 1 1 IN IP4 10.99.0.5\ns=-\nc=IN IP4 10.99.0.5\n"
               "t=0 0\nm=audio 40000 RTP/AVP 0\n").replace("\n", "\r\n")
        self.send("SIP/2.0 200 OK\n" + common + contact +
                  "Content-Type: application/sdp\nContent-Length: %d\n\n" % len(sdp)
                  + sdp.replace("\r\n", "\n"))
        seen = []
        while True:
            first, hdrs2, _ = self.recv_msg(timeout)
            seen.append(first.split()[0])
            if first.startswith("BYE "):
                break
        top = "\n".join("Via: %s" % v for v in hdrs2["via"])
        self.send("SIP/2.0 200 OK\n%s\nFrom: %s\nTo: %s\nCall-ID: %s\nCSeq: %s\n"
                  "Content-Length: 0\n\n" % (top, hdrs2["from"][0], hdrs2["to"][0],
                                             hdrs2["call-id"][0], hdrs2["cseq"][0]))
        return seen

    def reject_call(self, code=486, timeout=5):
        """Wait for INVITE on this connection, refuse it, absorb the ACK
        (RFC 3261 17.1.1.3: the proxy's client transaction sends it)."""
        first, hdrs, _ = self.recv_msg(timeout)
        assert first.startswith("INVITE "), first
        top = "\n".join("Via: %s" % v for v in hdrs["via"])
        self.send("SIP/2.0 %d Busy Here\n%s\nFrom: %s\nTo: %s;tag=%s\n"
                  "Call-ID: %s\nCSeq: %s\nContent-Length: 0\n\n"
                  % (code, top, hdrs["from"][0], hdrs["to"][0], self.tag,
                     hdrs["call-id"][0], hdrs["cseq"][0]))
        ack, _, _ = self.recv_msg(timeout)
        assert ack.startswith("ACK "), ack
        return first

    def close(self):
        self.sock.close()
