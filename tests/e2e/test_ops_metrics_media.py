"""
Issue 8 (operations), end to end: the /metrics figures added for the
security events and the media relay, after a known scenario - one call
with media both ways through the relay, RTP injected from a third address
(127.0.0.66) into the caller's relay port, a scanner's OPTIONS from the
same address (dropped, source banned), and a manual ban and unban:

  sipguard_security_events_total{type,event,rule}  (drops and refusals by
                                                    reason and rule)
  sipguard_media_{calls,streams}_active, sipguard_media_pinholes_open,
  sipguard_media_packets_total, sipguard_media_bytes_total,
  sipguard_media_dropped_packets_total{reason="injected"|...}

Ports: SIP 37100-37149, RTP 37150-37199, relay 37300-37399.
"""
import json
import os
import re
import socket
import subprocess
import time
import urllib.request

from conftest import BIN
from confparts import media
from encpeers import callee_sdp, peers, wait_for
from opsconf import base_config, run_ctl
from peers import Sipp
from rtpua import Uac, sdp_of

OUT_IP, IN_IP = "127.0.0.1", "127.0.0.2"
ATK = "127.0.0.66"
SG_OUT, SG_IN = 37100, 37110
UAS, UAC = 37120, 37130
HTTP = 37140
UAC_RTP, UAS_RTP, SIPP_MEDIA = 37150, 37160, 37170
CTL = os.path.join(os.path.dirname(BIN), "sipguardctl")


def config(tmp):
    return (base_config(tmp, OUT_IP, SG_OUT, SG_IN, UAS, IN_IP) +
            media(37300, 37399) +
            'ops:\n  metrics_listen: "tcp:%s:%d"\n' % (OUT_IP, HTTP))


SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? (\S+)$')


def metrics():
    with urllib.request.urlopen("http://%s:%d/metrics" % (OUT_IP, HTTP),
                                timeout=5) as r:
        text = r.read().decode()
    out, types = {}, set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            types.add(line.split()[2])
        if line.startswith("#") or not line:
            continue
        m = SAMPLE.match(line)
        assert m, "bad sample line: %r" % line
        labels = frozenset(re.findall(r'([a-z_]+)="([^"]*)"', m.group(3) or ""))
        key = (m.group(1), labels)
        assert key not in out, "duplicate series %r" % (key,)
        assert re.sub(r"_(bucket|sum|count)$", "", m.group(1)) in types \
            or m.group(1) in types, m.group(1)
        out[key] = float(m.group(4))
    return out


def val(s, name, **labels):
    return s.get((name, frozenset(labels.items())))


def ctl(tmp, *args):
    return run_ctl(tmp, args, json_out=False).returncode


def scanner_options():
    msg = ("OPTIONS sip:%s:%d SIP/2.0\r\n"
           "Via: SIP/2.0/UDP %s:37190;branch=z9hG4bK-mm1\r\n"
           "Max-Forwards: 70\r\nFrom: <sip:100@%s>;tag=x\r\n"
           "To: <sip:100@%s>\r\nCall-ID: mm-scan-1\r\nCSeq: 1 OPTIONS\r\n"
           "User-Agent: friendly-scanner\r\nContent-Length: 0\r\n\r\n"
           % (OUT_IP, SG_OUT, ATK, ATK, OUT_IP)).encode()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((ATK, 37190))
    s.sendto(msg, (OUT_IP, SG_OUT))
    s.close()


def test_security_and_media_metrics(sipguard, tmp_path, peers):
    tmp = str(tmp_path)
    a = peers(OUT_IP, UAC_RTP)
    b = peers(OUT_IP, UAS_RTP)
    evil = peers(ATK, UAC_RTP)
    d = sipguard(config(tmp))
    assert d.wait_log("metrics on")
    s0 = metrics()
    assert val(s0, "sipguard_media_packets_total") == 0
    assert val(s0, "sipguard_media_streams_active") == 0
    assert not [k for k in s0 if k[0] == "sipguard_security_events_total"]

    uas = Sipp("uas_media.xml", (OUT_IP, UAS), calls=1,
               extra=["-key", "rtp_ip", OUT_IP, "-key", "rtp_port",
                      str(UAS_RTP), "-key", "rtcp_port", str(UAS_RTP + 1),
                      "-mp", str(SIPP_MEDIA), "-mi", OUT_IP, "-trace_msg"])
    time.sleep(0.3)
    uac = Uac(OUT_IP, UAC, (OUT_IP, SG_OUT), UAC_RTP)
    uac.invite()
    code, raw, _ = uac.wait_final()
    assert code == 200, uac.log
    uac.ack()
    relay_a = (OUT_IP, sdp_of(raw)["port"])
    relay_b = (IN_IP, wait_for(lambda: callee_sdp(uas))["port"])
    sent_a = a.send(relay_a, 30)
    sent_b = b.send(relay_b, 20)
    for _ in range(10):
        evil.rtp.sendto(b"\x80\x00" + os.urandom(170), relay_a)
    assert len(b.recv_all()) == len(sent_a)
    assert len(a.recv_all()) == len(sent_b)
    scanner_options()
    assert ctl(tmp, "ban", "198.51.100.7", "--for", "1h") == 0
    assert ctl(tmp, "unban", "198.51.100.7") == 0

    # During the call: one call, one stream, its pinholes open; every
    # packet of the call relayed, the attacker's ten dropped as injected.
    def during():
        s = metrics()
        return s if val(s, "sipguard_media_dropped_packets_total",
                        reason="injected") == 10 else None
    s = wait_for(during)
    assert s, metrics()
    assert val(s, "sipguard_media_calls_active") == 1
    assert val(s, "sipguard_media_streams_active") == 1
    assert val(s, "sipguard_media_pinholes_open") >= 1
    assert val(s, "sipguard_media_packets_total") == 50
    assert val(s, "sipguard_media_bytes_total") == 50 * (12 + 160)
    assert val(s, "sipguard_media_dropped_packets_total",
               reason="policed") == 0
    assert val(s, "sipguard_media_dropped_packets_total",
               reason="invalid") == 0
    # The same per call, in sipguardctl calls: what each party sent.
    r = subprocess.run([CTL, "-s", os.path.join(tmp, "ctl.sock"), "--json",
                        "calls"], stdout=subprocess.PIPE, timeout=10)
    calls = json.loads(r.stdout)["calls"]
    assert len(calls) == 1 and calls[0]["media"] == {
        "caller": {"packets": 30, "bytes": 30 * 172, "dropped": 10},
        "callee": {"packets": 20, "bytes": 20 * 172, "dropped": 0}}, calls
    r = subprocess.run([CTL, "-s", os.path.join(tmp, "ctl.sock"), "calls"],
                       stdout=subprocess.PIPE, timeout=10)
    assert "30/20 (10)" in r.stdout.decode(), r.stdout
    # Security events by type, reason and rule: the scanner dropped and
    # banned, the injection, the administrator's unban.
    ev = {(dict(k[1])["type"], dict(k[1])["event"], dict(k[1])["rule"]): v
          for k, v in s.items() if k[0] == "sipguard_security_events_total"}
    assert ev[("drop", "scanner", "scanner-ua")] == 1
    assert ev[("ban", "scanner", "scanner-ua")] == 1
    assert ev[("drop", "rtp-injection", "media-source")] >= 1
    assert [v for (t, _, _), v in ev.items() if t == "unban"] == [1]
    assert val(s, "sipguard_rule_hits_total", rule="scanner-ua") == 1

    # After the call: nothing active, the totals stay.
    assert uac.bye() == 200
    assert uas.wait(10) == 0, uas.errors()
    # A stream is counted until its relay thread confirms the close
    # (MEDIA_N_DONE), which may come a moment after the call is gone.
    s = wait_for(lambda: (lambda m: m if val(
        m, "sipguard_media_calls_active") == 0 and val(
        m, "sipguard_media_streams_active") == 0 else None)(metrics()))
    assert s, metrics()
    assert val(s, "sipguard_media_packets_total") >= 50
    assert val(s, "sipguard_media_dropped_packets_total",
               reason="injected") == 10
