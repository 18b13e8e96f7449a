"""
A small scriptable SIP caller over UDP with RTP endpoints, for the media
relay tests (issue 6): it sends an INVITE with an SDP naming its own RTP
socket, follows the dialog (ACK, BYE, CANCEL through the Record-Route
set) and sends/receives RTP with real headers.  Each socket is bound to
a port the test gives; nothing is killed by name.
"""
import os
import re
import socket
import struct
import time


def rtp_packet(seq, ts, ssrc, payload, pt=0, marker=False):
    return struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | pt,
                       seq & 0xffff, ts & 0xffffffff, ssrc) + payload


def rtcp_rr(ssrc, cname=b"alice@10.1.2.3"):
    """RR with one report block, then SDES with a CNAME."""
    rr = struct.pack("!BBHI", 0x81, 201, 7, ssrc) + \
        struct.pack("!IIIIII", 0x12345678, (5 << 24) | 3, 100, 17, 0, 0)
    item = bytes([1, len(cname)]) + cname + b"\0"
    chunk = struct.pack("!I", ssrc) + item
    while len(chunk) % 4:
        chunk += b"\0"
    sdes = struct.pack("!BBH", 0x81, 202, len(chunk) // 4) + chunk
    return rr + sdes


class RtpPeer:
    """An RTP (and RTCP) endpoint: sends numbered packets, collects what
    arrives with its source."""

    def __init__(self, ip, port):
        self.ip, self.port = ip, port
        self.rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rtp.bind((ip, port))
        self.rtcp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rtcp.bind((ip, port + 1))
        self.ssrc = struct.unpack("!I", os.urandom(4))[0]
        self.seq = 1
        self.ts = 0

    def send(self, dst, n, gap=0.002, payload_len=160):
        sent = []
        for _ in range(n):
            pl = os.urandom(payload_len)
            pkt = rtp_packet(self.seq, self.ts, self.ssrc, pl)
            self.rtp.sendto(pkt, dst)
            sent.append(pkt)
            self.seq += 1
            self.ts += 160
            time.sleep(gap)
        return sent

    def recv_all(self, sock=None, timeout=0.5):
        sock = sock or self.rtp
        got = []
        sock.settimeout(timeout)
        while True:
            try:
                got.append(sock.recvfrom(4096))
            except socket.timeout:
                return got

    def close(self):
        self.rtp.close()
        self.rtcp.close()


def sdp_of(raw):
    body = raw.split("\r\n\r\n", 1)[1] if "\r\n\r\n" in raw else ""
    c = re.search(r"(?m)^c=IN IP[46] (\S+)", body)
    m = re.search(r"(?m)^m=audio (\d+)", body)
    rc = re.search(r"(?m)^a=rtcp:(\d+)", body)
    o = re.search(r"(?m)^o=\S+ \S+ \S+ IN IP[46] (\S+)", body)
    return {"body": body, "ip": c.group(1) if c else None,
            "port": int(m.group(1)) if m else None,
            "rtcp": int(rc.group(1)) if rc else None,
            "o": o.group(1) if o else None}


class Uac:
    """A SIP caller over UDP from (ip, port) through the proxy at server."""

    def __init__(self, ip, port, server, rtp_port, user="bob"):
        self.ip, self.port, self.server = ip, port, server
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((ip, port))
        self.user = user
        self.tag = os.urandom(4).hex()
        self.callid = "media-%s@%s" % (os.urandom(6).hex(), ip)
        self.rtp_port = rtp_port
        self.cseq = 1
        self.routes, self.remote_tag, self.target = [], None, None
        self.branch = None
        self.log = []

    def _send(self, text):
        self.sock.sendto(text.replace("\n", "\r\n").encode(), self.server)

    def recv(self, timeout=5.0):
        """Next SIP message: (first line, headers, raw); None on timeout."""
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recvfrom(65535)[0].decode("utf-8", "replace")
        except socket.timeout:
            return None
        head = data.split("\r\n\r\n", 1)[0].split("\r\n")
        hdrs = {}
        for l in head[1:]:
            k, _, v = l.partition(":")
            hdrs.setdefault(k.strip().lower(), []).append(v.strip())
        self.log.append(head[0])
        return head[0], hdrs, data

    def sdp(self, ip=None, port=None, extra=""):
        ip = ip or self.ip
        return ("v=0\no=alice 42 1 IN IP4 %s\ns=-\nc=IN IP4 %s\nt=0 0\n"
                "m=audio %d RTP/AVP 0 101\na=rtpmap:0 PCMU/8000\n"
                "a=rtpmap:101 telephone-event/8000\n%s"
                % (ip, ip, port or self.rtp_port, extra)).replace("\n", "\r\n")

    def invite(self, body=None, ctype="application/sdp"):
        body = self.sdp() if body is None else body
        self.branch = "z9hG4bK" + os.urandom(6).hex()
        self.inv_head = ("Via: SIP/2.0/UDP %s:%d;branch=%s;rport\n"
                         "From: <sip:alice@%s>;tag=%s\n"
                         "To: <sip:%s@%s:%d>\nCall-ID: %s\n"
                         % (self.ip, self.port, self.branch, self.ip,
                            self.tag, self.user, self.server[0],
                            self.server[1], self.callid))
        self._send("INVITE sip:%s@%s:%d SIP/2.0\n%sCSeq: 1 INVITE\n"
                   "Contact: <sip:alice@%s:%d>\nMax-Forwards: 70\n"
                   "Content-Type: %s\nContent-Length: %d\n\n%s"
                   % (self.user, self.server[0], self.server[1],
                      self.inv_head, self.ip, self.port, ctype, len(body),
                      body.replace("\r\n", "\n")))

    def wait_final(self, timeout=10.0, want_prov_sdp=False):
        """Responses until a final one; returns (status, raw, provisional
        raw with SDP or None)."""
        deadline = time.time() + timeout
        early = None
        while time.time() < deadline:
            r = self.recv(deadline - time.time())
            if not r:
                break
            first, hdrs, raw = r
            if not first.startswith("SIP/2.0"):
                continue
            code = int(first.split()[1])
            if code < 200:
                if "application/sdp" in raw:
                    early = raw
                    self._learn(hdrs)
                    if want_prov_sdp:
                        return code, raw, early
                continue
            self._learn(hdrs)
            return code, raw, early
        return None, None, early

    def _learn(self, hdrs):
        to = hdrs["to"][0]
        m = re.search(r";tag=([^;>\s]+)", to)
        self.remote_tag = m.group(1) if m else None
        self.to_hdr = to
        self.routes = list(reversed(hdrs.get("record-route", [])))
        c = hdrs.get("contact", ["<sip:%s:%d>" % self.server])[0]
        self.target = re.search(r"<([^>]+)>", c).group(1)

    def _in_dialog(self, method, cseq):
        route = "".join("Route: %s\n" % r for r in self.routes)
        self._send("%s %s SIP/2.0\nVia: SIP/2.0/UDP %s:%d;branch=z9hG4bK%s;rport\n"
                   "From: <sip:alice@%s>;tag=%s\nTo: %s\nCall-ID: %s\n"
                   "CSeq: %d %s\n%sMax-Forwards: 70\nContent-Length: 0\n\n"
                   % (method, self.target, self.ip, self.port,
                      os.urandom(6).hex(), self.ip, self.tag, self.to_hdr,
                      self.callid, cseq, method, route))

    def ack(self):
        self._in_dialog("ACK", 1)

    def bye(self):
        self._in_dialog("BYE", 2)
        return self.wait_final(5.0)[0]

    def ack_error(self):
        """ACK for a non-2xx final response (hop by hop, same branch)."""
        self._send("ACK sip:%s@%s:%d SIP/2.0\n%sCSeq: 1 ACK\nMax-Forwards: 70\n"
                   "Content-Length: 0\n\n" % (
                       self.user, self.server[0], self.server[1],
                       self.inv_head.replace("To: <sip:%s@%s:%d>" % (
                           self.user, self.server[0], self.server[1]),
                           "To: " + self.to_hdr)))

    def cancel(self):
        self._send("CANCEL sip:%s@%s:%d SIP/2.0\n%sCSeq: 1 CANCEL\n"
                   "Max-Forwards: 70\nContent-Length: 0\n\n"
                   % (self.user, self.server[0], self.server[1],
                      self.inv_head))

    def answer_bye(self, timeout=10.0):
        """Wait for a BYE and answer 200; True when one came."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            r = self.recv(deadline - time.time())
            if not r:
                return False
            first, hdrs, raw = r
            if first.startswith("BYE "):
                via = "".join("Via: %s\n" % v for v in hdrs["via"])
                self._send("SIP/2.0 200 OK\n%sFrom: %s\nTo: %s\nCall-ID: %s\n"
                           "CSeq: %s\nContent-Length: 0\n\n"
                           % (via, hdrs["from"][0], hdrs["to"][0],
                              hdrs["call-id"][0], hdrs["cseq"][0]))
                return True
        return False

    def close(self):
        self.sock.close()
