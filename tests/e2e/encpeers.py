"""
Shared pieces of the media end-to-end tests (test_media, test_srtp,
test_dtls_srtp, test_media_baresip, test_ops_metrics_media): sipguard's
event and call-record files, a sipp callee with media and what it
received, RtpPeer sockets, baresip softphones (Debian's baresip, run as
our child and stopped by pid) and a loopback pcap reader.  Every port
is the caller's: each test file keeps its own range.
"""
import glob
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import time

import pytest

from peers import Sipp, _stop
from rtpua import RtpPeer, sdp_of

BARESIP = "/usr/bin/baresip"
TCPDUMP = shutil.which("tcpdump") or "/usr/bin/tcpdump"


def events(tmpdir, name=None):
    """sipguard's events (events_file in tmpdir), those named name."""
    p = os.path.join(tmpdir, "events.json")
    if not os.path.exists(p):
        return []
    ev = [json.loads(l) for l in open(p).read().splitlines() if l.strip()]
    return [e for e in ev if name is None or e["event"] == name]


def records(tmpdir):
    """sipguard's call records (call_records_file in tmpdir)."""
    p = os.path.join(tmpdir, "cdr.json")
    if not os.path.exists(p):
        return []
    return [json.loads(l) for l in open(p).read().splitlines() if l.strip()]


def wait_for(fn, timeout=5.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.05)
    return fn()


def media_callee(ip, port, rtp, mp, scenario="uas_media.xml"):
    """A sipp callee on ip:port answering with media on rtp (RTCP on
    rtp + 1), sipp's own media on mp, tracing its messages."""
    return Sipp(scenario, (ip, port), calls=1,
                extra=["-key", "rtp_ip", ip, "-key", "rtp_port",
                       str(rtp), "-key", "rtcp_port", str(rtp + 1),
                       "-mp", str(mp), "-mi", ip, "-trace_msg"])


def callee_invite(uas):
    """The INVITE as the sipp callee received it (its message trace)."""
    for f in os.listdir(uas.dir):
        if f.endswith("_messages.log"):
            text = open(os.path.join(uas.dir, f), errors="replace").read()
            i = text.find("INVITE sip:")
            if i >= 0:
                return text[i:].split("\n\n\n")[0]
    return None


def callee_sdp(uas):
    """The SDP of the INVITE as the callee received it (sipp's trace)."""
    inv = callee_invite(uas)
    if inv is None:
        return None
    return sdp_of(inv.replace("\n", "\r\n") + "\r\n")


@pytest.fixture
def peers():
    """peers(ip, port): an RtpPeer, closed after the test."""
    made = []

    def make(ip, port):
        p = RtpPeer(ip, port)
        made.append(p)
        return p
    yield make
    for p in made:
        p.close()


class Baresip:
    """One baresip with a generated tone (ausine) and a recording of what
    it hears (sndfile), driven over its ctrl_tcp socket.  ports: (SIP,
    control, first of 10 RTP ports, tone Hz).  srtp: load srtp.so."""

    def __init__(self, ip, ports, user, tmpdir, account, extra_conf="",
                 srtp=True):
        sip, ctrl, rtp, freq = ports
        self.ip = ip
        self.dir = os.path.join(tmpdir, user)
        os.makedirs(self.dir)
        self.ctrl = ctrl
        with open(os.path.join(self.dir, "config"), "w") as f:
            f.write("poll_method epoll\nsip_listen %s:%d\n"
                    "audio_player aubridge,nowhere\n"
                    "audio_alert aubridge,nowhere\n"
                    "audio_source ausine,%d\n"
                    "ausrc_srate 48000\nausrc_channels 2\n"
                    "auplay_srate 48000\nauplay_channels 2\n"
                    "module_path /usr/lib/baresip/modules\n"
                    "module g711.so\nmodule ausine.so\nmodule aubridge.so\n"
                    "module sndfile.so\nmodule ctrl_tcp.so\n"
                    "%s"
                    "module_app account.so\nmodule_app menu.so\n"
                    "ctrl_tcp_listen %s:%d\nsnd_path %s\n"
                    "rtp_ports %d-%d\n%s"
                    % (ip, sip, freq, "module srtp.so\n" if srtp else "",
                       ip, ctrl, self.dir, rtp, rtp + 9, extra_conf))
        with open(os.path.join(self.dir, "accounts"), "w") as f:
            f.write(account + "\n")
        self.log = open(os.path.join(self.dir, "out.log"), "wb")
        self.proc = subprocess.Popen([BARESIP, "-f", self.dir],
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)

    def text(self):
        if not self.log.closed:
            self.log.flush()
        return open(os.path.join(self.dir, "out.log"),
                    errors="replace").read()

    def command(self, cmd, params=""):
        msg = json.dumps({"command": cmd, "params": params,
                          "token": "t"}).encode()
        with socket.create_connection((self.ip, self.ctrl), timeout=5) as s:
            s.sendall(b"%d:%s," % (len(msg), msg))
            try:
                return s.recv(4096)
            except socket.timeout:
                return b""

    def stop(self):
        _stop(self.proc, signal.SIGTERM)
        self.log.close()

    def recording(self):
        files = glob.glob(os.path.join(self.dir, "dump-*-dec.wav"))
        return max(files, key=os.path.getsize) if files else None


def pcap_udp(path):
    """(src port, dst port, payload) of each UDP/IPv4 packet of a pcap
    written on the loopback (Ethernet link type)."""
    data = open(path, "rb").read()
    magic = struct.unpack("<I", data[:4])[0]
    end = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
    link = struct.unpack(end + "I", data[20:24])[0]
    off, out = 24, []
    while off + 16 <= len(data):
        incl = struct.unpack(end + "I", data[off + 8:off + 12])[0]
        frame = data[off + 16:off + 16 + incl]
        off += 16 + incl
        ip = frame[14:] if link == 1 else frame[16:] if link == 113 else \
            frame
        if len(ip) < 28 or ip[0] >> 4 != 4 or ip[9] != 17:
            continue
        ihl = (ip[0] & 15) * 4
        sp, dp, ulen = struct.unpack("!HHH", ip[ihl:ihl + 6])
        out.append((sp, dp, ip[ihl + 8:ihl + ulen]))
    return out


def plain_rtcp(p):
    """A compound RTCP packet whose parts fill it exactly: no SRTCP
    index and tag after them, so it was sent in clear."""
    off = 0
    while off + 4 <= len(p):
        off += (struct.unpack("!H", p[off + 2:off + 4])[0] + 1) * 4
    return off == len(p)


def start_capture(path, untrusted, plain):
    """tcpdump (our child, stopped by pid) writing to path the UDP of
    two RTP port ranges (lo, hi) on the loopback."""
    return subprocess.Popen(
        [TCPDUMP, "-i", "lo", "-U", "-n", "-s", "2048", "-w", path,
         "udp and (portrange %d-%d or portrange %d-%d)" % (untrusted + plain)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def untrusted_media(pk, untrusted, plain):
    """The media-sized payloads (pcap_udp's pk) on the untrusted port
    range, after checking that both sides carried media and that no RTP
    payload of the plain side appears on the untrusted one in clear."""
    def side(lo, hi):
        return [p for sp, dp, p in pk if lo <= sp <= hi or lo <= dp <= hi]
    u = [p for p in side(*untrusted) if len(p) > 100]
    clear = [p for p in side(*plain) if len(p) > 100 and p[1] & 0x7f == 0]
    assert len(u) > 100 and len(clear) > 100, (len(u), len(clear))
    payloads = set(p[12:] for p in clear)
    blob = b"".join(u)
    assert not any(pl in blob for pl in payloads)
    return u
