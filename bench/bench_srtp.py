#!/usr/bin/python3
"""
SRTP relay benchmark (issue 7, `make bench-srtp`).

N calls are set up through sipguard's signalling the way bench-media does
it (bench/bench_media.py: a Python caller and callee on loopback), but the
caller offers RTP/SAVP with its own AES_CM_128_HMAC_SHA1_80 key (a=crypto,
one key per call) from an untrusted zone with `srtp: required`, and the
callee sits in a trusted zone with `srtp: off`: sipguard bridges SRTP on
the caller's leg to plain RTP on the callee's, with keys of its own.
bench/srtp_load then sends, both ways, BENCH_PPS packets/s for
BENCH_SECONDS: SRTP from the caller (protected with the caller's key, so
the relay must authenticate and decrypt each packet), plain RTP from the
callee (the relay encrypts each one).  The same load, in the same run,
goes through rtpengine (Debian's rtpengine-daemon, userspace:
--table=-1, one thread), told over its ng protocol to do the same
bridging (offer with the caller's SAVP SDP and transport-protocol
RTP/AVP toward the callee, answer in plain RTP/AVP).  As a reference, the
same number of calls in plain RTP through sipguard (what SRTP costs).

Per relay: packets relayed per second of its CPU time (user+system from
/proc/PID/stat: "per core"), loss, CPU ms per million packets, and how
many packets arrived transformed (encrypted at the caller, decrypted at
the callee).  Target (issue 7): sipguard >= 1.5x rtpengine's SRTP
packets/s per core.  TLS handshakes/s and calls/s over TLS: `make
bench-tls` (bench/bench_tls.py).

BENCH_SUITE [AES_CM_128_HMAC_SHA1_80] picks the caller's suite, e.g.
AEAD_AES_128_GCM or AEAD_AES_256_GCM (RFC 7714): then sipguard runs its
GCM transform both ways and rtpengine decrypts what srtp_load protected
with it.

Before the relays, the transform alone (`srtp_load micro`, no sockets):
nanoseconds per packet to protect and to unprotect a 172-byte RTP
packet, round robin over BENCH_CALLS key pairs (as many calls), for
AES_CM_128_HMAC_SHA1_80, AEAD_AES_128_GCM and AEAD_AES_256_GCM, through
sipguard's transform and through libsrtp2 (what srtp.c ran the GCM
suites on before), BENCH_MICRO_RUNS [5] runs alternating, medians.
BENCH_MICRO=0 skips it, BENCH_RELAYS=none skips the relays.

Runs in its own network namespace (unshare -n, as root); without one
(BENCH_NETNS=0) the relay ports stay in 45400-45999 and N is capped at
100.  Relays on core 1, generator on core 0; every process started here
and stopped by its pid.  Knobs: BENCH_CALLS [2000], BENCH_PPS [200000],
BENCH_SECONDS [5], BENCH_RELAYS [sipguard,rtpengine,plain].  The load
is offered at bench-media's rate (200,000 pkt/s): rtpengine saturates
its core there, which is what "per core" compares; at lower rates both
relays mostly pay a system call or two per packet, whatever the crypto.
"""
import os
import re
import select
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from common import netns_or_reexec, save_json  # noqa: E402
import bench_media as bm  # noqa: E402  (its helpers: cpu, stop, ng...)

ROOT = os.path.dirname(HERE)
GEN_A, GEN_B = ("127.0.0.1", 45200), ("127.0.0.1", 45300)
SG_OUT, SG_IN, UAS, UAC = 45060, 45070, 45080, 45090
SUITE = os.environ.get("BENCH_SUITE", "AES_CM_128_HMAC_SHA1_80")
KEYLEN = {"AES_CM_128_HMAC_SHA1_80": 30, "AES_CM_128_HMAC_SHA1_32": 30,
          "AES_256_CM_HMAC_SHA1_80": 46, "AEAD_AES_128_GCM": 28,
          "AEAD_AES_256_GCM": 44}[SUITE]
# srtp_load gen protects the caller's packets with this suite.
os.environ["SRTP_LOAD_SUITE"] = SUITE
MICRO_SUITES = ("AES_CM_128_HMAC_SHA1_80", "AEAD_AES_128_GCM",
                "AEAD_AES_256_GCM")


def env_int(name, dflt):
    return int(os.environ.get(name, dflt))


def b64(k):
    import base64
    return base64.b64encode(k).decode()


def sdp(ip, port, sess, key=None):
    if key is None:
        return bm.sdp(ip, port, sess)
    return ("v=0\r\no=- %d 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
            "m=audio %d RTP/SAVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
            "a=crypto:1 %s inline:%s\r\n"
            % (sess, ip, ip, port, SUITE, b64(key)))


def measure(pid, load, targets, pps, secs):
    return bm.measure(pid, load, targets, pps, secs,
                      {"at_caller": "encrypted_to_caller",
                       "at_callee": "decrypted_to_callee"})


# ----------------------------------------------------------- sipguard

SG_CONF = """
log:
  level: warn
sip:
  t1: 100ms
  max_transactions: 1000000
  max_dialogs: 1000000
  max_transaction_memory: 2g
media:
  port_min: %(pmin)d
  port_max: %(pmax)d
  timeout: 1h
  max_calls: 1000000
guard:
  allow: [ "127.0.0.0/8" ]
zones:
  - name: internet
    trust: untrusted
    listen: [ "udp:127.0.0.1:%(out)d" ]
    srtp: %(srtp)s
    route:
      backends: [ "udp:127.0.0.1:%(uas)d" ]
  - name: pbx
    trust: trusted
    listen: [ "udp:127.0.0.2:%(inn)d" ]
    srtp: "off"
"""


def invite(i, body):
    return ("INVITE sip:bob@127.0.0.1:%d SIP/2.0\r\n"
            "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK%d;rport\r\n"
            "From: <sip:alice@127.0.0.1>;tag=a%d\r\n"
            "To: <sip:bob@127.0.0.1>\r\nCall-ID: bench-%d\r\n"
            "CSeq: 1 INVITE\r\nContact: <sip:alice@127.0.0.1:%d>\r\n"
            "Max-Forwards: 70\r\nContent-Type: application/sdp\r\n"
            "Content-Length: %d\r\n\r\n%s"
            % (SG_OUT, UAC, i, i, i, UAC, len(body), body)).encode()


def ok_for(raw, i):
    body = bm.sdp(GEN_B[0], GEN_B[1], i).encode()
    return (b"SIP/2.0 200 OK\r\n" +
            b"".join(b"Via: " + v + b"\r\n" for v in bm.hdr(raw, b"Via")) +
            b"".join(b"Record-Route: " + v + b"\r\n"
                     for v in bm.hdr(raw, b"Record-Route")) +
            b"From: " + bm.hdr(raw, b"From")[0] + b"\r\n" +
            b"To: " + bm.hdr(raw, b"To")[0] + b";tag=b%d\r\n" % i +
            b"Call-ID: " + bm.hdr(raw, b"Call-ID")[0] +
            b"\r\nCSeq: 1 INVITE\r\n" +
            b"Contact: <sip:bob@127.0.0.1:%d>\r\n" % UAS +
            b"Content-Type: application/sdp\r\n" +
            b"Content-Length: %d\r\n\r\n" % len(body) + body)


def setup_calls(keys):
    """INVITEs (SAVP offers with keys[i], or plain when keys[i] is None)
    through sipguard; at most 300 pending.  Returns {i: (a, b)} ports."""
    n = len(keys)
    uac = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    uac.bind(("127.0.0.1", UAC))
    uas = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    uas.bind(("127.0.0.1", UAS))
    for s in (uac, uas):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    a_port, b_port = {}, {}
    sent, deadline = 0, time.time() + 300
    while len(a_port) < n and time.time() < deadline:
        while sent < n and sent - len(a_port) < 300:
            uac.sendto(invite(sent, sdp(GEN_A[0], GEN_A[1], sent,
                                        keys[sent])),
                       ("127.0.0.1", SG_OUT))
            sent += 1
        r, _, _ = select.select([uac, uas], [], [], 1.0)
        for s in r:
            for _ in range(256):
                try:
                    raw, src = s.recvfrom(65535, socket.MSG_DONTWAIT)
                except BlockingIOError:
                    break
                cid = bm.hdr(raw, b"Call-ID")
                i = int(cid[0].split(b"-")[1]) if cid else -1
                if s is uas and raw.startswith(b"INVITE "):
                    b_port[i] = bm.sdp_port(raw)
                    uas.sendto(ok_for(raw, i), src)
                elif s is uac and raw.startswith(b"SIP/2.0 200"):
                    a_port[i] = bm.sdp_port(raw)
                elif s is uac and re.match(rb"SIP/2.0 [3-6]", raw):
                    a_port[i] = None
    uac.close()
    uas.close()
    return {i: (a_port[i], b_port[i]) for i in sorted(a_port)
            if a_port[i] and i in b_port}


def write_targets(path, ports, keys, b_ip):
    with open(path, "w") as f:
        for i, (a, b) in ports.items():
            f.write("127.0.0.1 %d %s %d %s\n" % (
                a, b_ip, b, (keys[i] or bytes(KEYLEN)).hex()))


def bench_sipguard(args, tmp, load, srtp=True):
    conf = os.path.join(tmp, "sg.yaml")
    with open(conf, "w") as f:
        f.write(SG_CONF % {"pmin": args["pmin"], "pmax": args["pmax"],
                           "out": SG_OUT, "inn": SG_IN, "uas": UAS,
                           "srtp": "required" if srtp else "\"off\""})
    log = open(os.path.join(tmp, "sg.log"), "wb")
    p = subprocess.Popen(["taskset", "-c", bm.RELAY_CORE, args["sipguard"],
                          "-c", conf], stdout=log, stderr=subprocess.STDOUT,
                         preexec_fn=bm.raise_nofile)
    try:
        time.sleep(1.0)
        keys = [os.urandom(KEYLEN) if srtp else None
                for _ in range(args["calls"])]
        ports = setup_calls(keys)
        time.sleep(8)       # 64*T1: the INVITE transactions end
        targets = os.path.join(tmp, "sg_targets")
        write_targets(targets, ports, keys, "127.0.0.2")
        r = measure(p.pid, load, targets, args["pps"], args["secs"])
        r["calls"] = len(ports)
        return r
    finally:
        bm.stop(p)
        log.close()


def bench_plain(args, tmp, load):
    """sipguard relaying plain RTP, same load: the reference."""
    r = bench_sipguard(args, tmp, load, srtp=False)
    # Plain both ways: nothing is "encrypted" toward the caller.
    r["encrypted_to_caller"] = 0
    return r


# ----------------------------------------------------------- rtpengine

def bench_rtpengine(args, tmp, load):
    log = open(os.path.join(tmp, "rtpengine.log"), "wb")
    p = subprocess.Popen(["taskset", "-c", bm.RELAY_CORE, bm.RTPENGINE,
                          "--foreground", "--log-stderr", "--table=-1",
                          "--interface=127.0.0.1",
                          "--listen-ng=%s:%d" % bm.NG, "--num-threads=1",
                          "--port-min=%d" % args["pmin"],
                          "--port-max=%d" % args["pmax"],
                          "--log-level=4", "--timeout=3600",
                          "--pidfile=%s/rtpe.pid" % tmp],
                         stdout=log, stderr=subprocess.STDOUT,
                         preexec_fn=bm.raise_nofile)
    try:
        time.sleep(1.5)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(5)
        keys, ports = [], {}
        for i in range(args["calls"]):
            cid, key = "bench-%d" % i, os.urandom(KEYLEN)
            keys.append(key)
            off = bm.ng(s, "o%d" % i, {
                "command": "offer", "call-id": cid, "from-tag": "a%d" % i,
                "transport-protocol": "RTP/AVP",
                "sdp": sdp(GEN_A[0], GEN_A[1], i, key)})
            ans = bm.ng(s, "a%d" % i, {
                "command": "answer", "call-id": cid, "from-tag": "a%d" % i,
                "to-tag": "b%d" % i, "sdp": bm.sdp(GEN_B[0], GEN_B[1], i)})
            if i == 0:
                # Check once that it bridges: plain to the callee,
                # SAVP with its own key to the caller.
                assert b"RTP/SAVP" not in off and b"crypto" not in off, off
                assert b"RTP/SAVP" in ans and b"a=crypto" in ans, ans
            pb, pa = bm.sdp_port(off), bm.sdp_port(ans)
            if pa and pb:
                ports[i] = (pa, pb)
        s.close()
        targets = os.path.join(tmp, "rtpe_targets")
        write_targets(targets, ports, keys, "127.0.0.1")
        r = measure(p.pid, load, targets, args["pps"], args["secs"])
        r["calls"] = len(ports)
        return r
    finally:
        bm.stop(p)
        log.close()


# -------------------------------------------------------------- micro

def median(v):
    v = sorted(v)
    return (v[len(v) // 2] + v[(len(v) - 1) // 2]) / 2


def micro(args):
    """{suite: {impl: {"protect_ns": [...], "unprotect_ns": [...]}}}
    from srtp_load micro, runs alternating over the suites."""
    res = {}
    for _ in range(env_int("BENCH_MICRO_RUNS", 5)):
        for suite in MICRO_SUITES:
            out = subprocess.run(
                ["taskset", "-c", bm.RELAY_CORE, args["load"], "micro",
                 suite, str(args["calls"]), str(args["micro_pkts"])],
                capture_output=True, text=True, timeout=900)
            rows = re.findall(r"(\w+) (\S+) protect_ns ([\d.]+) "
                              r"unprotect_ns ([\d.]+)", out.stdout)
            if not rows:
                raise RuntimeError("srtp_load micro: " + out.stderr)
            for impl, su, p, u in rows:
                r = res.setdefault(su, {}).setdefault(
                    impl, {"protect_ns": [], "unprotect_ns": []})
                r["protect_ns"].append(float(p))
                r["unprotect_ns"].append(float(u))
    return res


def report_micro(res, args):
    print("\nSRTP transform alone: ns per 172-byte RTP packet, %d key "
          "pairs round robin, median of %d runs"
          % (args["calls"], env_int("BENCH_MICRO_RUNS", 5)))
    print("%-26s %-9s %12s %12s %14s" % ("suite", "impl", "protect",
                                         "unprotect", "vs sipguard"))
    for suite in MICRO_SUITES:
        r = res.get(suite, {})
        sg = r.get("sipguard")
        for impl in ("sipguard", "libsrtp2"):
            x = r.get(impl)
            if not x:
                continue
            p, u = median(x["protect_ns"]), median(x["unprotect_ns"])
            ratio = "" if not sg or impl == "sipguard" else "%.1fx" % (
                (p + u) / (median(sg["protect_ns"]) +
                           median(sg["unprotect_ns"])))
            print("%-26s %-9s %12.0f %12.0f %14s" % (suite, impl, p, u,
                                                       ratio))


# ------------------------------------------------------------- report

def report(res, args):
    print("\nSRTP relay benchmark: %d calls, %d pkt/s offered for %d s "
          "(SRTP %s from the caller, plain RTP from the callee; "
          "160-byte payloads)%s" % (args["calls"], args["pps"],
                                    args["secs"], SUITE,
                                    "" if args["netns"] else
                                    " [no netns: small run]"))
    # sent/s: what the generator managed (its core also carries the
    # loopback's delivery work, so it may fall short of the offer).
    print("%-16s %7s %8s %10s %12s %7s %12s %10s %10s" % (
        "relay", "calls", "sent/s", "relayed", "pkt/s/core", "loss",
        "CPU ms/Mpkt", "encrypted", "decrypted"))
    for name, label in (("sipguard", "sipguard SRTP"),
                        ("rtpengine", "rtpengine SRTP"),
                        ("plain", "sipguard plain")):
        r = res.get(name)
        if not r:
            continue
        if "error" in r:
            print("%-16s error: %s" % (label, r["error"]))
            continue
        print("%-16s %7d %8.0f %10d %12.0f %6.2f%% %12.0f %10d %10d" % (
            label, r["calls"], r["sent"] / args["secs"], r["received"],
            r["pps_per_core"],
            100 * r["loss"], r["cpu_ms_per_mpkt"],
            r["encrypted_to_caller"], r["decrypted_to_callee"]))
    sg, rt = res.get("sipguard", {}), res.get("rtpengine", {})
    print()
    if "pps_per_core" in sg and "pps_per_core" in rt:
        x = sg["pps_per_core"] / max(rt["pps_per_core"], 1)
        print("%-40s %-10s %-10s %s" % ("SRTP pkt/s per core vs rtpengine",
                                        "%.2fx" % x, ">= 1.5x",
                                        "PASS" if x >= 1.5 else "FAIL"))
    pl = res.get("plain", {})
    if "pps_per_core" in sg and "pps_per_core" in pl:
        print("%-40s %-10s" % ("sipguard SRTP vs its plain RTP",
                               "%.0f%%" % (100 * sg["pps_per_core"] /
                                           max(pl["pps_per_core"], 1))))
    print("TLS handshakes/s and calls/s over TLS: make bench-tls")
    save_json("srtp.json", args, res)


def main():
    netns = netns_or_reexec()
    calls = env_int("BENCH_CALLS", 2000)
    bm.raise_nofile()
    args = {"calls": calls if netns else min(calls, 100),
            "pps": env_int("BENCH_PPS", 200000),
            "secs": env_int("BENCH_SECONDS", 5), "netns": netns,
            "pmin": 10000 if netns else 45400,
            "pmax": 44999 if netns else 45999,
            "sipguard": sys.argv[1] if len(sys.argv) > 1 else
            os.path.join(ROOT, "build/release/sipguard"),
            "load": sys.argv[2] if len(sys.argv) > 2 else
            os.path.join(ROOT, "build/release/bench/srtp_load")}
    args["micro_pkts"] = env_int("BENCH_MICRO_PACKETS", 100000)
    mic = None
    if os.environ.get("BENCH_MICRO", "1") != "0":
        print("bench-srtp: transform alone ...", flush=True)
        mic = micro(args)
    relays = os.environ.get("BENCH_RELAYS", "sipguard,rtpengine,plain")
    res = bm.run_relays("bench-srtp", relays, (
        ("sipguard", bench_sipguard), ("rtpengine", bench_rtpengine),
        ("plain", bench_plain)), args)
    if mic:
        res["micro"] = mic
        report_micro(mic, args)
    report(res, args)


if __name__ == "__main__":
    main()
