"""
Issue 8 (operations), end to end: HEPv3 export.  Debian's sngrep listens
for HEP (`sngrep -N -q -L udp:ADDR:PORT -O FILE`) and writes what it
receives to a pcap, which this test reads: the SIP messages of two calls
must be there on both sides of sipguard (received and sent), and with
ops.hep_events the security event of a refused scanner too.

Ports: 35200-35299 (this helper's range).
"""
import json
import os
import signal
import socket
import struct
import subprocess
import time

import pytest

from conftest import udp_exchange
from peers import Sipp
from opsconf import base_config

SNGREP = "/usr/bin/sngrep"
IP = "127.0.0.1"
ATK = "127.0.0.66"
SG_OUT = 35200
SG_IN = 35210
UAS = 35220
UAC = 35230
HEP = 35290

pytestmark = pytest.mark.skipif(not os.access(SNGREP, os.X_OK),
                                reason="sngrep not installed")


def config(tmp, events):
    return base_config(tmp, IP, SG_OUT, SG_IN, UAS) + """ops:
  hep_server: "udp:%(ip)s:%(hep)d"
  hep_capture_id: 4242
  hep_events: %(ev)s
""" % {"ip": IP, "hep": HEP, "ev": "true" if events else "false"}


class Sngrep:
    """sngrep as a HEP server writing what it receives to a pcap."""

    def __init__(self, tmp):
        self.pcap = os.path.join(tmp, "hep.pcap")
        self.log = open(os.path.join(tmp, "sngrep.log"), "wb")
        self.proc = subprocess.Popen(
            [SNGREP, "-N", "-q", "-F", "-L", "udp:%s:%d" % (IP, HEP),
             "-O", self.pcap], stdout=self.log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL)
        deadline = time.time() + 5
        while time.time() < deadline and not self.bound():
            assert self.proc.poll() is None, "sngrep exited"
            time.sleep(0.05)

    @staticmethod
    def bound():
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.bind((IP, HEP))
            return False
        except OSError:
            return True
        finally:
            s.close()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def read_pcap(path):
    """[(src, sport, dst, dport, payload)] of the IPv4 UDP/TCP frames."""
    data = open(path, "rb").read()
    magic, = struct.unpack("<I", data[:4])
    assert magic in (0xa1b2c3d4, 0xa1b23c4d), hex(magic)
    linktype, = struct.unpack("<I", data[20:24])
    off, out = 24, []
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack("<IIII", data[off:off + 16])
        frame = data[off + 16:off + 16 + incl]
        off += 16 + incl
        l2 = {1: 14, 113: 16, 101: 0}.get(linktype)
        assert l2 is not None, "link type %d" % linktype
        ip = frame[l2:]
        if not ip or ip[0] >> 4 != 4:
            continue
        ihl = (ip[0] & 15) * 4
        proto = ip[9]
        src, dst = socket.inet_ntoa(ip[12:16]), socket.inet_ntoa(ip[16:20])
        l4 = ip[ihl:]
        sport, dport = struct.unpack("!HH", l4[:4])
        if proto == 17:
            payload = l4[8:]
        elif proto == 6:
            payload = l4[(l4[12] >> 4) * 4:]
        else:
            continue
        out.append((src, sport, dst, dport, payload))
    return out


def first_line(p):
    return p.split(b"\r\n", 1)[0].decode("ascii", "replace")


def cseq(p):
    for line in p.split(b"\r\n"):
        if line.lower().startswith(b"cseq:"):
            return line.split(b" ")[-1].decode()
    return None


def count(frames, src_port, dst_port, start, method=None):
    return sum(1 for (_, sp, _, dp, pl) in frames
               if sp == src_port and dp == dst_port and
               first_line(pl).startswith(start) and
               (method is None or cseq(pl) == method))


def test_hep_export_both_sides_of_calls(sipguard, tmp_path):
    tmp = str(tmp_path)
    sng = Sngrep(tmp)
    try:
        d = sipguard(config(tmp, events=False))
        assert d.wait_log("HEP export to udp:%s:%d" % (IP, HEP))
        uas = Sipp("uas_rr.xml", (IP, UAS), calls=0)
        time.sleep(0.3)
        uac = Sipp("uac_rr.xml", (IP, UAC), (IP, SG_OUT), calls=2, rate=10)
        assert uac.wait(30) == 0, uac.errors()[-2000:]
        time.sleep(0.3)
        uas.stop()
        time.sleep(0.5)
    finally:
        sng.stop()
    frames = read_pcap(sng.pcap)
    assert frames, "sngrep received nothing"
    # Received from the caller, and sent on to the callee.
    assert count(frames, UAC, SG_OUT, "INVITE ") == 2
    assert count(frames, SG_IN, UAS, "INVITE ") == 2
    # The callee's answer, received and sent back to the caller.
    assert count(frames, UAS, SG_IN, "SIP/2.0 200", "INVITE") == 2
    assert count(frames, SG_OUT, UAC, "SIP/2.0 200", "INVITE") == 2
    # ACK and BYE cross too, and the BYE's 200 comes back.
    for m in ("ACK ", "BYE "):
        assert count(frames, UAC, SG_OUT, m) == 2, m
        assert count(frames, SG_IN, UAS, m) == 2, m
    assert count(frames, SG_OUT, UAC, "SIP/2.0 200", "BYE") == 2
    # sipguard's own 100 Trying is what it sent.
    assert count(frames, SG_OUT, UAC, "SIP/2.0 100") == 2
    # Addresses are the real ones.
    assert all(f[0] == IP and f[2] == IP for f in frames)


def test_hep_export_security_event(sipguard, tmp_path):
    tmp = str(tmp_path)
    sng = Sngrep(tmp)
    try:
        d = sipguard(config(tmp, events=True))
        assert d.wait_log("security events too")
        msg = ("OPTIONS sip:%s:%d SIP/2.0\r\n"
               "Via: SIP/2.0/UDP %s:35240;branch=z9hG4bK-hep1\r\n"
               "Max-Forwards: 70\r\nFrom: <sip:100@%s>;tag=x\r\n"
               "To: <sip:100@%s>\r\nCall-ID: hep-scan-1\r\n"
               "CSeq: 1 OPTIONS\r\nUser-Agent: friendly-scanner\r\n"
               "Content-Length: 0\r\n\r\n"
               % (IP, SG_OUT, ATK, ATK, IP)).encode()
        assert udp_exchange((IP, SG_OUT), msg, src=(ATK, 35240),
                            timeout=0.5) is None
        time.sleep(0.8)
    finally:
        sng.stop()
    frames = read_pcap(sng.pcap)
    # The scanner's request as received (its source is the attacker).
    got = [f for f in frames if f[1] == 35240 and
           first_line(f[4]).startswith("OPTIONS ")]
    assert len(got) == 1 and got[0][0] == ATK
    # The event lines: JSON, naming the rule and the source.
    events = []
    for f in frames:
        if f[4][:1] == b"{":
            events.append(json.loads(f[4].decode()))
    assert any(e.get("rule") == "scanner-ua" and e.get("src") == ATK
               for e in events), events


def test_hep_masks_sdes_keys(sipguard, tmp_path):
    """A caller's INVITE offering SDES (RFC 4568): the capture server
    gets it with the key material masked by '*' of the same length
    (ops.hep_keys off, the default), suite and lifetime intact, and the
    copy's length unchanged; the key is in no captured packet."""
    tmp = str(tmp_path)
    key = "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"
    body = ("v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
            "m=audio 35250 RTP/SAVP 0\r\n"
            "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:%s|2^20\r\n"
            % (IP, IP, key))
    msg = ("INVITE sip:200@%s:%d SIP/2.0\r\n"
           "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK-hepkey1;rport\r\n"
           "Max-Forwards: 70\r\nFrom: <sip:100@%s>;tag=k1\r\n"
           "To: <sip:200@%s>\r\nCall-ID: hep-key-1\r\nCSeq: 1 INVITE\r\n"
           "Contact: <sip:100@%s:%d>\r\nContent-Type: application/sdp\r\n"
           "Content-Length: %d\r\n\r\n%s"
           % (IP, SG_OUT, IP, UAC, IP, IP, IP, UAC, len(body), body)
           ).encode()
    sng = Sngrep(tmp)
    try:
        d = sipguard(config(tmp, events=False))
        assert d.wait_log("HEP export to udp:%s:%d" % (IP, HEP))
        udp_exchange((IP, SG_OUT), msg, src=(IP, UAC), timeout=0.5)
        time.sleep(0.8)
    finally:
        sng.stop()
    frames = read_pcap(sng.pcap)
    got = [f[4] for f in frames if f[1] == UAC and f[3] == SG_OUT and
           first_line(f[4]).startswith("INVITE ")]
    assert got, "the INVITE was not captured"
    assert len(got[0]) == len(msg)
    assert b"inline:" + b"*" * len(key) + b"|2^20\r\n" in got[0]
    assert b"AES_CM_128_HMAC_SHA1_80" in got[0]
    assert all(key.encode() not in f[4] for f in frames)
