"""
Issue 7 (SRTP, SDES), end to end: sipguard terminates SRTP on the
untrusted leg with keys of its own and speaks plain RTP to the PBX side.

- A Python caller (rtpua.Uac, SRTP through libsrtp2 via ctypes: srtpy.py)
  offers RTP/SAVP with its key to a sipp callee behind the trusted zone:
  the callee sees RTP/AVP and no key; the caller gets sipguard's own key;
  media flows both ways, decrypted/encrypted by the relay; SRTP with a
  bad authentication tag sent to the relay port (from the caller's own
  address, and from an attacker) never reaches the callee and is counted
  and reported.
- The same caller to an SRTP callee (a sipp UAS answering with a fixed
  key): each leg has its own sipguard key, packets are re-encrypted.
- A plain RTP offer on a zone with srtp: required gets 488 and an event.
- baresip (Debian) registers over TLS through sipguard to Kamailio (the
  stand-in PBX) and calls, with mediaenc srtp-mand, a plain-RTP baresip
  registered at Kamailio behind sipguard: each hears the other's tone,
  and a capture of the loopback (tcpdump) shows that no RTP payload of
  the plain side ever crosses the untrusted side in clear.
Ports: SIP/TLS 36000-36499, relay 45000-45999 (this file's ranges).
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
import urllib.request

import pytest

from peers import Kamailio, Sipp, _stop
from rtpua import RtpPeer, Uac, rtcp_rr, rtp_packet, sdp_of
import srtpy

IP, IN_IP, ATTACKER = "127.0.0.1", "127.0.0.2", "127.0.0.66"
SG_OUT, SG_TLS, SG_IN = 36060, 36061, 36070
UAS, UAC, UAC_RTP, UAS_RTP, SIPP_MP = 36080, 36100, 36110, 36120, 36130
PBX = 36090
HTTP = 36150
HERE = os.path.dirname(os.path.abspath(__file__))
CERTS_SH = os.path.join(HERE, "..", "unit", "transport", "tls_certs.sh")
BARESIP = "/usr/bin/baresip"
TCPDUMP = shutil.which("tcpdump") or "/usr/bin/tcpdump"


def config(tmpdir, backend, certs=None, pbx_srtp='"off"'):
    tls_zone = ""
    if certs:
        tls_zone = """
  - name: secure
    trust: untrusted
    listen: [ "tls:%(ip)s:%(tls)d" ]
    require_tls: true
    srtp: required
    route:
      backends: [ "%(be)s" ]
    tls:
      certificates: [ "%(c)s/server.pem" ]
      keys: [ "%(c)s/server.key" ]
"""
    return ("""
log:
  level: debug
  call_records_file: %(d)s/cdr.json
  events_file: %(d)s/events.json
sip:
  t1: 200ms
ops:
  metrics_listen: "tcp:%(ip)s:%(http)d"
media:
  port_min: 45000
  port_max: 45999
zones:
  - name: internet
    trust: untrusted
    listen: [ "udp:%(ip)s:%(out)d" ]
    srtp: required
    route:
      backends: [ "%(be)s" ]
""" + tls_zone + """
  - name: pbx
    trust: trusted
    listen: [ "udp:%(in_ip)s:%(inn)d" ]
    srtp: %(pbx_srtp)s
""") % {"d": tmpdir, "ip": IP, "out": SG_OUT, "tls": SG_TLS,
        "in_ip": IN_IP, "inn": SG_IN, "be": backend, "c": certs,
        "pbx_srtp": pbx_srtp, "http": HTTP}


def events(tmpdir, name):
    p = os.path.join(tmpdir, "events.json")
    if not os.path.exists(p):
        return []
    ev = [json.loads(l) for l in open(p).read().splitlines() if l.strip()]
    return [e for e in ev if e["event"] == name]


def metric(name, **labels):
    """One sample of the /metrics page (None when absent)."""
    with urllib.request.urlopen("http://%s:%d/metrics" % (IP, HTTP),
                                timeout=5) as r:
        text = r.read().decode()
    want = name + ("{%s}" % ",".join('%s="%s"' % kv for kv in
                                     sorted(labels.items()))
                   if labels else "")
    for line in text.splitlines():
        if line.startswith(want + " "):
            return float(line.split()[-1])
    return None


def records(tmpdir):
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


def callee_invite(uas):
    """The INVITE as the sipp callee received it (its message trace)."""
    for f in os.listdir(uas.dir):
        if f.endswith("_messages.log"):
            text = open(os.path.join(uas.dir, f), errors="replace").read()
            i = text.find("INVITE sip:")
            if i >= 0:
                return text[i:].split("\n\n\n")[0]
    return None


def callee(scenario="uas_media.xml"):
    return Sipp(scenario, (IP, UAS), calls=1,
                extra=["-key", "rtp_ip", IP, "-key", "rtp_port",
                       str(UAS_RTP), "-key", "rtcp_port", str(UAS_RTP + 1),
                       "-mp", str(SIPP_MP), "-mi", IP, "-trace_msg"])


@pytest.fixture
def peers():
    made = []

    def make(ip, port):
        p = RtpPeer(ip, port)
        made.append(p)
        return p
    yield make
    for p in made:
        p.close()


def savp_sdp(uac, key):
    return ("v=0\no=alice 42 1 IN IP4 %s\ns=-\nc=IN IP4 %s\nt=0 0\n"
            "m=audio %d RTP/SAVP 0 101\na=rtpmap:0 PCMU/8000\n"
            "a=rtpmap:101 telephone-event/8000\n"
            "a=crypto:1 FUTURE_SUITE_X inline:QUJDRA==\n%s\n"
            % (IP, IP, UAC_RTP, srtpy.crypto_line(7, key))
            ).replace("\n", "\r\n")


def test_srtp_to_plain_and_forged_packets(sipguard, tmp_path, peers):
    tmpdir = str(tmp_path)
    a = peers(IP, UAC_RTP)
    b = peers(IP, UAS_RTP)
    sipguard(config(tmpdir, "udp:%s:%d" % (IP, UAS)))
    uas = callee()
    time.sleep(0.3)
    uac = Uac(IP, UAC, (IP, SG_OUT), UAC_RTP)
    key = srtpy.new_key()
    uac.invite(savp_sdp(uac, key))
    try:
        code, raw, _ = uac.wait_final()
        assert code == 200, uac.log
        uac.ack()
        ans = sdp_of(raw)
        # The caller gets SRTP back with its tag 7 and sipguard's key.
        assert "RTP/SAVP 0" in ans["body"], ans["body"]
        cr = srtpy.parse_crypto(ans["body"])
        assert len(cr) == 1 and cr[0][0] == 7, cr
        assert cr[0][1] == "AES_CM_128_HMAC_SHA1_80"
        sg_key = cr[0][2]
        assert sg_key != key and len(sg_key) == 30
        # The callee (plain PBX side) gets RTP/AVP and no key at all.
        inv = wait_for(lambda: callee_invite(uas))
        assert inv and "RTP/AVP 0 101" in inv and "SAVP" not in inv, inv
        assert "crypto" not in inv
        relay_a = (IP, ans["port"])
        relay_b = (IN_IP, sdp_of(inv.replace("\n", "\r\n") + "\r\n")
                   ["port"])
        tx, rx = srtpy.Srtp(key, True), srtpy.Srtp(sg_key, False)
        ssrc = 0x11223344
        # Caller -> callee: SRTP in, plain out, exactly what was sent.
        plain = [rtp_packet(i, i * 160, ssrc, os.urandom(160))
                 for i in range(1, 41)]
        for p in plain:
            a.rtp.sendto(tx.protect(p), relay_a)
            time.sleep(0.002)
        got = [d for d, _ in b.recv_all()]
        assert got == plain, (len(got), len(plain))
        # SRTCP too, decrypted for the plain side.
        a.rtcp.sendto(tx.protect_rtcp(rtcp_rr(ssrc)), (IP, ans["port"] + 1))
        assert [d[:8] for d, _ in b.recv_all(b.rtcp)] == \
            [rtcp_rr(ssrc)[:8]]
        # Callee -> caller: plain in, SRTP out under sipguard's key.
        sent = b.send(relay_b, 30)
        got = a.recv_all()
        assert len(got) == 30
        for (d, _), p in zip(got, sent):
            assert d != p and p[12:] not in d
            assert rx.unprotect(d) == p
        # Forged: the caller's own address, a bad tag; and a replay.
        good = tx.protect(rtp_packet(100, 16000, ssrc, os.urandom(160)))
        bad = bytearray(good)
        bad[-1] ^= 0x5a
        for _ in range(20):
            a.rtp.sendto(bytes(bad), relay_a)
        a.rtp.sendto(good, relay_a)
        a.rtp.sendto(good, relay_a)
        # And an attacker elsewhere, with a well-formed packet.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as x:
            x.bind((ATTACKER, 36140))
            for _ in range(5):
                x.sendto(bytes(bad), relay_a)
        got = [d for d, _ in b.recv_all()]
        assert len(got) == 1 and got[0][:4] == good[:4], len(got)
        ev = wait_for(lambda: events(tmpdir, "srtp-auth-failure"))
        assert ev and ev[0]["zone"] == "internet", ev
        assert "key" not in json.dumps(ev).lower()
        # /metrics: the bad tags (ours and the attacker's are dropped as
        # injected first) and the replay.
        assert wait_for(lambda: metric(
            "sipguard_media_srtp_dropped_packets_total",
            reason="auth") == 20), metric(
            "sipguard_media_srtp_dropped_packets_total", reason="auth")
        assert metric("sipguard_media_srtp_dropped_packets_total",
                      reason="replay") == 1
        assert metric("sipguard_media_srtp_failure_reports_total") >= 1
        assert metric("sipguard_media_dtls_handshakes_total",
                      result="ok") == 0
        assert metric("sipguard_cluster_handoffs_total") == 0
        assert uac.bye() == 200
    finally:
        uas.stop()
        uac.close()
    rec = wait_for(lambda: [r for r in records(tmpdir)
                            if r.get("kind") == "INVITE"])
    m = rec[0]["media"][0]["caller"]
    assert m["srtp_auth_failed"] == 20, m
    assert m["srtp_replayed"] == 1, m
    assert m["injected"] == 5, m
    # No key in the records or the events.
    text = open(os.path.join(tmpdir, "cdr.json")).read() + \
        open(os.path.join(tmpdir, "events.json")).read()
    import base64
    for k in (key, sg_key):
        assert base64.b64encode(k).decode() not in text


# The fixed key of tests/e2e/sipp/uas_srtp.xml.
UAS_KEY = bytes((i * 7 + 3) & 255 for i in range(30))


def test_srtp_both_legs_with_own_keys(sipguard, tmp_path, peers):
    """SRTP caller -> SRTP callee (pbx zone srtp: required): each leg
    gets its own key from sipguard; packets are re-encrypted."""
    tmpdir = str(tmp_path)
    a = peers(IP, UAC_RTP)
    b = peers(IP, UAS_RTP)
    sipguard(config(tmpdir, "udp:%s:%d" % (IP, UAS), pbx_srtp="required"))
    uas = callee("uas_srtp.xml")
    time.sleep(0.3)
    uac = Uac(IP, UAC + 2, (IP, SG_OUT), UAC_RTP)
    key = srtpy.new_key()
    uac.invite(savp_sdp(uac, key))
    try:
        code, raw, _ = uac.wait_final()
        assert code == 200, uac.log
        uac.ack()
        ans = sdp_of(raw)
        cr = srtpy.parse_crypto(ans["body"])
        assert len(cr) == 1 and cr[0][0] == 7, cr
        sg_key0 = cr[0][2]
        inv = wait_for(lambda: callee_invite(uas))
        assert "RTP/SAVP 0 101" in inv, inv
        offered = srtpy.parse_crypto(inv)
        assert offered[0][:2] == (1, "AES_CM_128_HMAC_SHA1_80"), offered
        sg_key1 = offered[0][2]
        keys = [key, sg_key0, sg_key1, UAS_KEY] + [k for _, _, k in offered]
        assert len(set(keys)) == len(keys) - 1, "a key crossed legs"
        relay_a = (IP, ans["port"])
        relay_b = (IN_IP, sdp_of(inv.replace("\n", "\r\n") + "\r\n")
                   ["port"])
        a_tx, a_rx = srtpy.Srtp(key, True), srtpy.Srtp(sg_key0, False)
        b_tx, b_rx = srtpy.Srtp(UAS_KEY, True), srtpy.Srtp(sg_key1, False)
        plain = [rtp_packet(i, i * 160, 0x5151, os.urandom(160))
                 for i in range(1, 21)]
        for p in plain:
            a.rtp.sendto(a_tx.protect(p), relay_a)
        got = [d for d, _ in b.recv_all()]
        assert [b_rx.unprotect(d) for d in got] == plain
        plain = [rtp_packet(i, i * 160, 0x6262, os.urandom(160))
                 for i in range(1, 21)]
        for p in plain:
            b.rtp.sendto(b_tx.protect(p), relay_b)
        got = [d for d, _ in a.recv_all()]
        assert [a_rx.unprotect(d) for d in got] == plain
        assert uac.bye() == 200
    finally:
        uas.stop()
        uac.close()


def test_plain_offer_on_srtp_zone_gets_488(sipguard, tmp_path):
    tmpdir = str(tmp_path)
    sipguard(config(tmpdir, "udp:%s:%d" % (IP, UAS)))
    uac = Uac(IP, UAC + 1, (IP, SG_OUT), UAC_RTP)
    try:
        uac.invite()        # RTP/AVP
        code, _, _ = uac.wait_final()
        assert code == 488, uac.log
        uac.ack_error()
    finally:
        uac.close()
    ev = wait_for(lambda: events(tmpdir, "srtp-negotiation"))
    assert ev and "plain RTP offered" in ev[0]["reason"], ev
    assert ev[0]["zone"] == "internet"


# ------------------------------------------------------------- baresip

# SIP, control (baresip also listens on SIP+1 for TLS), RTP, tone.
USERS = {"alice": (36200, 36205, 36210, 1000),
         "bob": (36220, 36225, 36230, 600)}


class Baresip:
    def __init__(self, user, tmpdir, account, extra_conf=""):
        sip, ctrl, rtp, freq = USERS[user]
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
                    "module srtp.so\n"
                    "module_app account.so\nmodule_app menu.so\n"
                    "ctrl_tcp_listen %s:%d\nsnd_path %s\n"
                    "rtp_ports %d-%d\n%s"
                    % (IP, sip, freq, IP, ctrl, self.dir, rtp, rtp + 9,
                       extra_conf))
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
        with socket.create_connection((IP, self.ctrl), timeout=5) as s:
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


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("certs"))
    subprocess.run(["sh", CERTS_SH, d], check=True)
    return d


@pytest.mark.skipif(not os.path.exists(BARESIP), reason="no baresip")
@pytest.mark.skipif(not os.path.exists(TCPDUMP) or os.geteuid() != 0,
                    reason="tcpdump as root needed for the capture")
def test_baresip_tls_srtp_to_plain_phone(sipguard, tmp_path, certs):
    from test_media_baresip import tone_share
    tmpdir = str(tmp_path)
    sipguard(config(tmpdir, "udp:%s:%d" % (IP, PBX), certs=certs))
    cap = os.path.join(tmpdir, "lo.pcap")
    dump = subprocess.Popen(
        [TCPDUMP, "-i", "lo", "-U", "-n", "-s", "2048", "-w", cap,
         "udp and (portrange 36210-36219 or portrange 36230-36239)"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    kam = Kamailio(IP, PBX, uas="%s:%d" % (IP, PBX + 1))
    phones = []
    try:
        alice = Baresip(
            "alice", tmpdir,
            "<sip:alice@example.com;transport=tls>;auth_pass=secret;"
            "outbound=\"sip:%s:%d;transport=tls\";regint=300;"
            "answermode=auto;audio_codecs=PCMU;mediaenc=srtp-mand"
            % (IP, SG_TLS),
            "sip_cafile %s/ca.pem\n" % certs)
        bob = Baresip(
            "bob", tmpdir,
            "<sip:bob@example.com>;auth_pass=secret;"
            "outbound=\"sip:%s:%d\";regint=300;answermode=auto;"
            "audio_codecs=PCMU" % (IP, PBX))
        phones = [alice, bob]
        for p in phones:
            assert wait_for(lambda p=p: "200 OK" in p.text() and
                            "binding" in p.text(), 10), p.text()
        alice.command("dial", "sip:bob@example.com")
        assert wait_for(lambda: "call established" in bob.text().lower(),
                        15), alice.text() + bob.text()
        time.sleep(3)
        alice.command("hangup")
        time.sleep(1)
    finally:
        for p in phones:
            p.stop()
        kam.stop()
        time.sleep(0.3)
        _stop(dump, signal.SIGTERM)
    atext = alice.text()
    assert "srtp" in atext.lower(), atext
    rec_b, rec_a = bob.recording(), alice.recording()
    assert rec_b and rec_a, os.listdir(bob.dir) + os.listdir(alice.dir)
    assert tone_share(rec_b, 1000) > 0.5, tone_share(rec_b, 1000)
    assert tone_share(rec_a, 600) > 0.5, tone_share(rec_a, 600)
    # The capture: alice's side (untrusted) carries only SRTP; no
    # payload of the plain side's RTP (bob's, either way) is in it.
    pk = pcap_udp(cap)

    def side(lo, hi):
        return [p for sp, dp, p in pk if lo <= sp <= hi or lo <= dp <= hi]
    untrusted = [p for p in side(36210, 36219) if len(p) > 100]
    plain = [p for p in side(36230, 36239)
             if len(p) > 100 and p[1] & 0x7f == 0]
    assert len(untrusted) > 100 and len(plain) > 100, (len(untrusted),
                                                       len(plain))
    payloads = set(p[12:] for p in plain)
    blob = b"".join(untrusted)
    assert not any(pl in blob for pl in payloads)
    # SRTP: 12 + 160 + 10 (HMAC-SHA1-80 or -32: + 4) bytes.
    assert all(len(p) in (12 + 160 + 10, 12 + 160 + 4) for p in untrusted
               if p[1] & 0x7f == 0)
    recs = [r for r in records(tmpdir) if r.get("kind") == "INVITE"]
    assert recs and recs[0]["media"][0]["caller"]["packets"] > 50, recs
    # baresip sends RTCP in clear before its SRTP is up (an APP
    # "PINGPONG" pinhole opener) and at hang-up (BYE): the relay drops
    # those as unauthenticated, and nothing else fails.
    rtcp = [p for sp, dp, p in pk if 36210 <= sp <= 36219 and
            p[1] in (200, 201, 202, 203, 204)]
    clear = [p for p in rtcp if plain_rtcp(p)]
    assert recs[0]["media"][0]["caller"]["srtp_auth_failed"] <= len(clear), \
        [p.hex() for p in rtcp]
