#!/usr/bin/python3
"""
Media relay benchmark (issue 6, `make bench-media`).

N concurrent calls are set up through sipguard's signalling (a Python
caller and callee on loopback: INVITE with an SDP offer, 200 with the
answer), then bench/media_load pushes RTP (PT 0, 160-byte payloads, valid
headers, own SSRC/sequence/timestamp per stream) through the relay ports
both ways at BENCH_PPS packets/s for BENCH_SECONDS.  The same load then
goes through rtpengine (Debian's rtpengine-daemon, userspace forwarding:
--table=-1), driven by its ng control protocol (bencode over UDP) from
here, and through `media_load fwd`, a bare recvmmsg/sendmmsg forwarder
with one socket per leg and no checks: the practical limit.

Per relay: packets relayed per second of its CPU time (user+system from
/proc/PID/stat, so "per core"), loss, CPU ms per million packets; for
sipguard also the memory per relayed call (VmRSS growth with N calls up,
after their transactions ended).  Targets (issue 6): >= 2x rtpengine's
packets/s per core, >= 70% of the bare forwarder's, <= 8 KiB per call,
10,000 concurrent relayed calls.

Runs in its own network namespace (unshare -n, as root) so that 10,000
calls (40,000 relay ports) do not collide with anything else on the
machine; without it (BENCH_NETNS=0) the ports stay in 45000-49999 and N
is capped at 1000.  Relays on core 1, generator on core 0.  Every
process is started here and stopped by its pid.  Knobs: BENCH_CALLS
[10000], BENCH_PPS [200000], BENCH_SECONDS [5], BENCH_RELAYS
[sipguard,sipguard-uring,sipguard-kernel,sipguard-uring-max,
sipguard-kernel-max,rtpengine,bare,direct],
direct: no relay, the generator alone (its whole-machine cost per packet
is taken off every relay's: "machine net"), sipguard-kernel: io_uring
with `media.kernel: on` (the eBPF fast path),
also sipguard-alt (BENCH_SG_ALT: another build, io_uring, for A/B),
and, two relays at once on the relay core (half the calls each, one
generator run: the same noise on both), ab (this build vs
BENCH_SG_ALT), pair-epoll (uring vs epoll), pair-rtpengine;
BENCH_PERF=PATH records a perf profile of each relay (PATH.PID):
sipguard-uring is `media: io: uring` with the same calls as the others
(capped by the descriptor limit), sipguard-uring-max the same backend
with all BENCH_CALLS (its sockets are io_uring direct descriptors, not
in the process's descriptor table).
"""
import os
import re
import resource
import select
import socket
import subprocess
import sys
import tempfile
import time

from common import (cpu_s, netns_or_reexec, rss_kib,  # noqa: F401
                    save_json, stop)  # (bench_srtp: bm.*)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RTPENGINE = "/usr/bin/rtpengine"
GEN_A, GEN_B = ("127.0.0.1", 45200), ("127.0.0.1", 45300)
SG_OUT, SG_IN, UAS, UAC = 45060, 45070, 45080, 45090
NG = ("127.0.0.1", 45010)
RELAY_CORE, GEN_CORE = "1", "0"


def env_int(name, dflt):
    return int(os.environ.get(name, dflt))


# ---------------------------------------------------------------- helpers

def raise_nofile():
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (200000, 200000))
    except (ValueError, OSError):
        pass


def run_gen(load, targets, pps, secs):
    """The generator's closing counts, by name: {"sent": N,
    "received": M} and whatever else that generator counts (srtp_load:
    at_caller, at_callee)."""
    out = subprocess.run(["taskset", "-c", GEN_CORE, load, "gen",
                          "%s:%d" % GEN_A, "%s:%d" % GEN_B, targets,
                          str(pps), str(secs)],
                         capture_output=True, text=True, timeout=secs + 60)
    m = re.search(r"sent (\d+) received (\d+).*", out.stdout)
    if not m:
        raise RuntimeError("generator: " + out.stdout + out.stderr)
    return {k: int(v) for k, v in re.findall(r"(\w+) (\d+)", m.group(0))}


def udp_counters():
    """This network namespace's UDP counters (/proc/net/snmp) and the
    packets dropped at the per-CPU input backlog (softnet_stat, column
    2: netdev_max_backlog exceeded; global, not per namespace)."""
    c = {}
    with open("/proc/net/snmp") as f:
        rows = [ln.split() for ln in f if ln.startswith("Udp:")]
    c.update(dict(zip(rows[0][1:], (int(x) for x in rows[1][1:]))))
    with open("/proc/net/softnet_stat") as f:
        c["BacklogDrops"] = sum(int(ln.split()[1], 16) for ln in f)
    return c


KERNEL_KEYS = ("InDatagrams", "NoPorts", "InErrors", "OutDatagrams",
               "RcvbufErrors", "SndbufErrors", "BacklogDrops")


def measure(pid, load, targets, pps, secs, extra=None):
    """Relay pid's CPU time over one generator run, and what it relayed.
    extra: {generator count: name in the result} to keep as well.  Also
    where packets went missing: the kernel's UDP counters over the run,
    the generator's own send failures ("unsent") and the packets that
    came after it stopped sending ("late")."""
    k0 = udp_counters()
    c0 = cpu_s(pid) if pid else 0.0
    m0 = machine_busy_s()
    prof = None
    if os.environ.get("BENCH_PERF"):   # a profile of the relay: perf.data
        prof = subprocess.Popen(
            ["perf", "record", "-g", "-q", "-o",
             os.environ["BENCH_PERF"] + ".%d" % pid, "-p", str(pid), "--",
             "sleep", str(secs)], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
    n = run_gen(load, targets, pps, secs)
    cpu = cpu_s(pid) - c0 if pid else 0.0
    machine = machine_busy_s() - m0 + cpu
    if prof:
        prof.wait(timeout=60)
    k1 = udp_counters()
    sent, recvd = n["sent"], n["received"]
    r = {"sent": sent, "received": recvd, "cpu_s": cpu, "machine_s": machine,
         "unsent": n.get("unsent", 0), "late": n.get("late", 0),
         "late_ms": n.get("late_ms", 0),
         "kernel": {k: k1.get(k, 0) - k0.get(k, 0) for k in KERNEL_KEYS}}
    for k, name in (extra or {}).items():
        r[name] = n[k]
    r.update({"loss": 1 - recvd / sent if sent else 1.0,
              "pps_per_core": recvd / cpu if cpu > 0 else 0.0,
              "cpu_ms_per_mpkt": cpu * 1e3 / (recvd / 1e6) if recvd else 0,
              "machine_ms_per_mpkt": machine * 1e3 / (recvd / 1e6)
              if recvd else 0})
    return r


def ksoftirqd_pids():
    pids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/comm" % d) as f:
                    if f.read().startswith("ksoftirqd/"):
                        pids.append(int(d))
            except OSError:
                pass
    return pids


def machine_busy_s():
    """CPU seconds charged so far to everything that carries this
    bench's packets: the generator (our waited-for children: getrusage)
    and the kernel's softirq threads; the relay's own process is added
    by measure().  A relay that forwards in the kernel (sipguard's
    `media.kernel`) does its work in the softirq of whoever sent the
    packet -- on loopback the generator's send, or ksoftirqd -- not in
    its own process; this kernel charges softirq time to the task it
    interrupted (tick accounting, no IRQ_TIME_ACCOUNTING).  Other jobs
    on the machine are not counted, unlike a /proc/stat reading."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = ru.ru_utime + ru.ru_stime
    for pid in ksoftirqd_pids():
        try:
            t += cpu_s(pid)
        except OSError:
            pass
    return t


def bench_direct(args, tmp, load):
    """No relay: the generator's caller and callee send to each other,
    the same number of streams and packets.  Its whole-machine CPU per
    packet is what the generator and loopback cost anyway; subtracted
    from each relay's, the rest is the relay's own cost, wherever the
    kernel charged it."""
    targets = os.path.join(tmp, "direct_targets")
    with open(targets, "w") as f:
        f.write(("%s %d %s %d\n" % (GEN_B + GEN_A)) * args["calls"])
    r = measure(None, load, targets, args["pps"], args["secs"])
    r["calls"] = args["calls"]
    return r


# ----------------------------------------------------------- sipguard

SG_CONF = """
log:
  level: info
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
  io: %(io)s
  threads: %(threads)d
  kernel: %(kernel)s
guard:
  allow: [ "127.0.0.0/8" ]
zones:
  - name: internet
    trust: untrusted
    listen: [ "udp:127.0.0.1:%(out)d" ]
    route:
      backends: [ "udp:127.0.0.1:%(uas)d" ]
  - name: pbx
    trust: trusted
    listen: [ "udp:127.0.0.2:%(inn)d" ]
"""


def sdp(ip, port, sess):
    return ("v=0\r\no=- %d 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
            "m=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
            % (sess, ip, ip, port))


def sdp_port(raw):
    m = re.search(rb"\r\nm=audio (\d+) ", raw)
    return int(m.group(1)) if m else None


def hdr(raw, name):
    return re.findall(rb"(?im)^" + name + rb":[ \t]*(.*?)\r$", raw)


def setup_calls(n, off=0):
    """INVITEs from UAC through sipguard to UAS, at most 300 pending
    (off: added to the SIP ports, for a second sipguard).
    Returns [(caller-facing port, callee-facing port)]."""
    SG_OUT, UAS, UAC = globals()["SG_OUT"] + off, \
        globals()["UAS"] + off, globals()["UAC"] + off
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
            cid = "bench-%d" % sent
            body = sdp(GEN_A[0], GEN_A[1], sent)
            msg = ("INVITE sip:bob@127.0.0.1:%d SIP/2.0\r\n"
                   "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK%d;rport\r\n"
                   "From: <sip:alice@127.0.0.1>;tag=a%d\r\n"
                   "To: <sip:bob@127.0.0.1>\r\nCall-ID: %s\r\n"
                   "CSeq: 1 INVITE\r\nContact: <sip:alice@127.0.0.1:%d>\r\n"
                   "Max-Forwards: 70\r\nContent-Type: application/sdp\r\n"
                   "Content-Length: %d\r\n\r\n%s"
                   % (SG_OUT, UAC, sent, sent, cid, UAC, len(body), body))
            uac.sendto(msg.encode(), ("127.0.0.1", SG_OUT))
            sent += 1
        r, _, _ = select.select([uac, uas], [], [], 1.0)
        for s in r:
            for _ in range(256):
                try:
                    raw, src = s.recvfrom(65535, socket.MSG_DONTWAIT)
                except BlockingIOError:
                    break
                if s is uas and raw.startswith(b"INVITE "):
                    cid = hdr(raw, b"Call-ID")[0]
                    i = int(cid.split(b"-")[1])
                    b_port[i] = sdp_port(raw)
                    body = sdp(GEN_B[0], GEN_B[1], i).encode()
                    resp = (b"SIP/2.0 200 OK\r\n" +
                            b"".join(b"Via: " + v + b"\r\n"
                                     for v in hdr(raw, b"Via")) +
                            b"".join(b"Record-Route: " + v + b"\r\n"
                                     for v in hdr(raw, b"Record-Route")) +
                            b"From: " + hdr(raw, b"From")[0] + b"\r\n" +
                            b"To: " + hdr(raw, b"To")[0] + b";tag=b%d\r\n" % i +
                            b"Call-ID: " + cid + b"\r\nCSeq: 1 INVITE\r\n" +
                            b"Contact: <sip:bob@127.0.0.1:%d>\r\n" % UAS +
                            b"Content-Type: application/sdp\r\n" +
                            b"Content-Length: %d\r\n\r\n" % len(body) + body)
                    uas.sendto(resp, src)
                elif s is uac and raw.startswith(b"SIP/2.0 200"):
                    cid = hdr(raw, b"Call-ID")[0]
                    a_port[int(cid.split(b"-")[1])] = sdp_port(raw)
                elif s is uac and re.match(rb"SIP/2.0 [3-6]", raw):
                    cid = hdr(raw, b"Call-ID")[0]
                    a_port[int(cid.split(b"-")[1])] = None   # failed
    uac.close()
    uas.close()
    return [(a_port[i], b_port[i]) for i in sorted(a_port)
            if a_port[i] and i in b_port]


def sg_log_summary(path, tag="sipguard"):
    """sipguard's relay lines, and its most frequent log lines (numbers
    masked): what went wrong on its side, if anything."""
    seen = {}
    with open(path, errors="replace") as f:
        for ln in f:
            ln = ln.strip()
            if "media relay" in ln and ("out of buffers" in ln or
                                        "io_uring" in ln):
                print("  %s: %s" % (tag, ln))
            elif ln:
                k = re.sub(r"\d+", "N", ln.split(" ", 1)[-1])
                seen[k] = seen.get(k, 0) + 1
    for k, n in sorted(seen.items(), key=lambda x: -x[1])[:8]:
        print("  %s: %dx %s" % (tag, n, k[:120]))


def bpf_map_kib(pid):
    """Kernel memory of pid's BPF maps (fdinfo "memlock": the map's
    actual usage on 6.4+ kernels, elements included), KiB."""
    total = 0
    d = "/proc/%d/fdinfo" % pid
    for fd in os.listdir(d):
        try:
            with open(os.path.join(d, fd)) as f:
                info = f.read()
        except OSError:
            continue
        if "map_type:" in info:
            m = re.search(r"memlock:\s+(\d+)", info)
            total += int(m.group(1)) if m else 0
    return total / 1024


def bench_sipguard(args, tmp, load, io="epoll", calls=None, kernel=False):
    conf = os.path.join(tmp, "sg.yaml")
    # io_uring: sockets live in each relay thread's fixed file table,
    # RLIMIT_NOFILE entries per thread: enough threads for the calls.
    calls = calls or args["calls"]
    threads = 1 if io == "epoll" else \
        max(1, -(-calls * 4 // args["nofile"]))
    with open(conf, "w") as f:
        f.write(SG_CONF % {"pmin": args["pmin"], "pmax": args["pmax"],
                           "out": SG_OUT, "inn": SG_IN, "uas": UAS,
                           "io": io, "threads": threads,
                           "kernel": "on" if kernel else "off"})
    log = open(os.path.join(tmp, "sg.log"), "wb")
    p = subprocess.Popen(["taskset", "-c", RELAY_CORE, args["sipguard"], "-c",
                          conf], stdout=log, stderr=subprocess.STDOUT,
                         preexec_fn=raise_nofile)
    try:
        time.sleep(1.0)
        rss0 = rss_kib(p.pid)
        t0 = time.time()
        ports = setup_calls(calls)
        setup_s = time.time() - t0
        time.sleep(8)       # 64*T1: the INVITE transactions end
        rss1 = rss_kib(p.pid)
        targets = os.path.join(tmp, "sg_targets")
        with open(targets, "w") as f:
            for a, b in ports:
                f.write("127.0.0.1 %d 127.0.0.2 %d\n" % (a, b))
        km0 = bpf_map_kib(p.pid)
        r = measure(p.pid, load, targets, args["pps"], args["secs"])
        # The kernel path's map entries (installed once media flows) are
        # kernel memory, not in VmRSS: counted as well.
        kmem = bpf_map_kib(p.pid) - km0 if kernel else 0
        r.update({"calls": len(ports), "setup_s": setup_s,
                  "threads": threads, "kernel_map_kib": kmem,
                  "mem_per_call_kib": (rss1 - rss0 + kmem) /
                  max(len(ports), 1)})
        return r
    finally:
        stop(p)
        log.close()
        sg_log_summary(os.path.join(tmp, "sg.log"))


def start_sg(args, tmp, binary, io, calls, i, pmin, pmax):
    """A sipguard (SIP ports offset by 1000 * i) with calls set up
    through it: (process, [targets line])."""
    conf = os.path.join(tmp, "pair%d.yaml" % i)
    off = 1000 * i
    with open(conf, "w") as f:
        f.write(SG_CONF % {"pmin": pmin, "pmax": pmax, "out": SG_OUT + off,
                           "inn": SG_IN + off, "uas": UAS + off, "io": io,
                           "threads": 1, "kernel": "off"})
    log = open(os.path.join(tmp, "pair%d.log" % i), "wb")
    p = subprocess.Popen(["taskset", "-c", RELAY_CORE, binary, "-c", conf],
                         stdout=log, stderr=subprocess.STDOUT,
                         preexec_fn=raise_nofile)
    log.close()
    time.sleep(1.0)
    return p, ["127.0.0.1 %d 127.0.0.2 %d" % ab
               for ab in setup_calls(calls, off)]


def start_rtpe(args, tmp, calls, i, pmin, pmax):
    p = rtpe_start(dict(args, pmin=pmin, pmax=pmax), tmp)
    return p, rtpe_calls(calls)


def bench_pair(args, tmp, load, second):
    """Two relays at once on the relay core, half the calls each, fed
    by one generator run (round robin over interleaved calls: each gets
    half the load): the build under test (io: uring) and `second`
    ("alt": BENCH_SG_ALT, io: uring; "epoll": the same build, io:
    epoll; "rtpengine").  Whatever else runs on the machine then weighs
    on both alike; their CPU per packet is compared in that one window.
    Relayed per relay = half of what arrived."""
    half, mid = args["calls"] // 2, (args["pmin"] + args["pmax"]) // 2
    procs, lines = [], []
    try:
        p, ln = start_sg(args, tmp, args["sipguard"], "uring", half, 0,
                         args["pmin"], mid)
        procs.append(p)
        lines.append(ln)
        if second == "rtpengine":
            p, ln = start_rtpe(args, tmp, half, 1, mid + 2, args["pmax"])
        else:
            p, ln = start_sg(args, tmp, args["sg_alt"] if second == "alt"
                             else args["sipguard"],
                             "uring" if second == "alt" else "epoll", half,
                             1, mid + 2, args["pmax"])
        procs.append(p)
        lines.append(ln)
        time.sleep(8)       # the INVITE transactions end
        targets = os.path.join(tmp, "pair_targets")
        with open(targets, "w") as f:
            for a, b in zip(*lines):    # interleaved: equal shares
                f.write(a + "\n" + b + "\n")
        c0 = [cpu_s(p.pid) for p in procs]
        n = run_gen(load, targets, args["pps"], args["secs"])
        cpu = [cpu_s(p.pid) - c for p, c in zip(procs, c0)]
        each = n["received"] / 2
        r = {"sent": n["sent"], "received": n["received"],
             "calls": 2 * min(len(lines[0]), len(lines[1])),
             "second": second,
             "loss": 1 - n["received"] / max(n["sent"], 1),
             "cpu_s": cpu, "pps_per_core": [each / max(c, 1e-9)
                                            for c in cpu]}
        r["ratio"] = r["pps_per_core"][0] / max(r["pps_per_core"][1], 1)
        return r
    finally:
        for i, p in enumerate(procs):
            stop(p)
            if os.path.exists(os.path.join(tmp, "pair%d.log" % i)):
                sg_log_summary(os.path.join(tmp, "pair%d.log" % i),
                               "pair%d" % i)


# ----------------------------------------------------------- rtpengine

def bencode(v):
    if isinstance(v, dict):
        return b"d" + b"".join(bencode(k) + bencode(v[k])
                               for k in sorted(v)) + b"e"
    if isinstance(v, list):
        return b"l" + b"".join(bencode(x) for x in v) + b"e"
    if isinstance(v, int):
        return b"i%de" % v
    if isinstance(v, str):
        v = v.encode()
    return b"%d:%s" % (len(v), v)


def ng(sock, cookie, cmd):
    sock.sendto(cookie.encode() + b" " + bencode(cmd), NG)
    while True:
        raw = sock.recv(65535)
        if raw.startswith(cookie.encode() + b" "):
            return raw


def rtpe_start(args, tmp):
    """rtpengine in userspace (--table=-1), one thread, on the relay
    core: the process, after its start-up."""
    log = open(os.path.join(tmp, "rtpengine.log"), "ab")
    p = subprocess.Popen(["taskset", "-c", RELAY_CORE, RTPENGINE,
                          "--foreground", "--log-stderr", "--table=-1",
                          "--interface=127.0.0.1",
                          "--listen-ng=%s:%d" % NG, "--num-threads=1",
                          "--port-min=%d" % args["pmin"],
                          "--port-max=%d" % args["pmax"],
                          "--log-level=4", "--timeout=3600",
                          "--pidfile=%s/rtpe.pid" % tmp],
                         stdout=log, stderr=subprocess.STDOUT,
                         preexec_fn=raise_nofile)
    log.close()
    time.sleep(1.5)
    return p


def rtpe_calls(calls):
    """calls offer/answer pairs over ng: [targets line]."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    lines = []
    for i in range(calls):
        cid = "bench-%d" % i
        off = ng(s, "o%d" % i, {"command": "offer", "call-id": cid,
                                "from-tag": "a%d" % i,
                                "sdp": sdp(GEN_A[0], GEN_A[1], i)})
        ans = ng(s, "a%d" % i, {"command": "answer", "call-id": cid,
                                "from-tag": "a%d" % i, "to-tag": "b%d" % i,
                                "sdp": sdp(GEN_B[0], GEN_B[1], i)})
        pb, pa = sdp_port(off), sdp_port(ans)
        if pa and pb:
            lines.append("127.0.0.1 %d 127.0.0.1 %d" % (pa, pb))
    s.close()
    return lines


def bench_rtpengine(args, tmp, load):
    p = rtpe_start(args, tmp)
    try:
        lines = rtpe_calls(args["calls"])
        targets = os.path.join(tmp, "rtpe_targets")
        with open(targets, "w") as f:
            f.write("".join(ln + "\n" for ln in lines))
        r = measure(p.pid, load, targets, args["pps"], args["secs"])
        r["calls"] = len(lines)
        return r
    finally:
        stop(p)


# ------------------------------------------------------- bare forwarder

def bench_bare(args, tmp, load):
    ports = os.path.join(tmp, "bare_ports")
    targets = os.path.join(tmp, "bare_targets")
    base = args["pmin"]
    with open(ports, "w") as f, open(targets, "w") as t:
        for i in range(args["calls"]):
            pa, pb = base + 4 * i, base + 4 * i + 2
            f.write("%d %s %d\n%d %s %d\n" % (pa, GEN_B[0], GEN_B[1],
                                              pb, GEN_A[0], GEN_A[1]))
            t.write("127.0.0.1 %d 127.0.0.1 %d\n" % (pa, pb))
    p = subprocess.Popen(["taskset", "-c", RELAY_CORE, load, "fwd", ports],
                         stdout=subprocess.PIPE, preexec_fn=raise_nofile)
    try:
        p.stdout.readline()     # "ready N"
        r = measure(p.pid, load, targets, args["pps"], args["secs"])
        r["calls"] = args["calls"]
        return r
    finally:
        stop(p)


# ------------------------------------------------------------- report

def net_machine(res):
    """Each relay's whole-machine CPU per Mpkt minus the direct run's
    (net_ms_per_mpkt), and the packets/s one core's worth of it relays
    (net_pps_per_core).  Needs the "direct" run."""
    d = res.get("direct", {})
    if not d.get("machine_ms_per_mpkt"):
        return
    for name, r in res.items():
        if name == "direct" or not r.get("machine_ms_per_mpkt"):
            continue
        net = r["machine_ms_per_mpkt"] - d["machine_ms_per_mpkt"]
        r["net_ms_per_mpkt"] = net
        r["net_pps_per_core"] = 1e9 / net if net > 0 else 0.0


def verdict(ok):
    return "PASS" if ok else "FAIL"


def report(res, args):
    print("\nmedia relay benchmark: %d calls, %d pkt/s offered for %d s "
          "(160-byte RTP both ways)%s" % (args["calls"], args["pps"],
                                          args["secs"],
                                          "" if args["netns"] else
                                          " [no netns: small run]"))
    print("%-18s %8s %12s %12s %8s %14s %14s" % (
        "relay", "calls", "relayed", "pkt/s/core", "loss", "CPU ms/Mpkt",
        "machine net"))
    net_machine(res)
    for name in ("sipguard", "sipguard-uring", "sipguard-kernel",
                 "sipguard-alt", "sipguard-uring-max", "sipguard-kernel-max", "rtpengine", "bare",
                 "direct", "ab", "pair-epoll", "pair-rtpengine"):
        r = res.get(name)
        if not r:
            continue
        if "error" in r:
            print("%-18s error: %s" % (name, r["error"]))
            continue
        if "ratio" in r:
            continue
        print("%-18s %8d %12d %12.0f %7.2f%% %14.0f %14s" % (
            name, r["calls"], r["received"], r["pps_per_core"],
            100 * r["loss"], r["cpu_ms_per_mpkt"],
            "%.0f" % r["net_ms_per_mpkt"] if "net_ms_per_mpkt" in r
            else "-"))
        kc = r.get("kernel", {})
        print("%-18s sent %d unsent %d late %d (%d ms) | udp in %d out %d "
              "rcvbuf-err %d sndbuf-err %d noports %d backlog-drop %d" % (
                  "", r["sent"], r.get("unsent", 0), r.get("late", 0),
                  r.get("late_ms", 0),
                  kc.get("InDatagrams", 0), kc.get("OutDatagrams", 0),
                  kc.get("RcvbufErrors", 0), kc.get("SndbufErrors", 0),
                  kc.get("NoPorts", 0), kc.get("BacklogDrops", 0)))
    # The verdicts are the default backend's (media.io: uring); the
    # epoll backend's are shown next to them.
    sg = res.get("sipguard-uring") or res.get("sipguard", {})
    ep = res.get("sipguard", {})
    tag = "uring" if res.get("sipguard-uring") else "epoll"
    rows = []

    def ratio(a, b):
        return a["pps_per_core"] / max(b["pps_per_core"], 1)

    def has(r):
        return "pps_per_core" in r
    rt, bare = res.get("rtpengine", {}), res.get("bare", {})
    if has(sg) and has(rt):
        x = ratio(sg, rt)
        rows.append(("pkt/s per core vs rtpengine (%s)" % tag, "%.2fx" % x,
                     ">= 2x", x >= 2))
    if has(sg) and has(bare):
        x = ratio(sg, bare)
        rows.append(("pkt/s per core vs bare (%s)" % tag,
                     "%.0f%%" % (100 * x), ">= 70%", x >= 0.7))
    if "mem_per_call_kib" in sg:
        rows.append(("memory per relayed call", "%.2f KiB" %
                     sg["mem_per_call_kib"], "<= 8 KiB",
                     sg["mem_per_call_kib"] <= 8))
    for kname in ("sipguard-kernel", "sipguard-kernel-max"):
        k = res.get(kname, {})
        if "mem_per_call_kib" in k:
            rows.append(("memory per call (%s, map incl.)" % kname[9:],
                         "%.2f KiB" % k["mem_per_call_kib"], "<= 8 KiB",
                         k["mem_per_call_kib"] <= 8))
    for bname, tagn in (("sipguard-uring-max", ""),
                        ("sipguard-kernel-max", " (kernel)")):
        big = res.get(bname) or (sg if not tagn else {})
        if "calls" in big:
            ok = big["calls"] >= 10000 and big["loss"] < 0.01
            rows.append(("concurrent relayed calls%s" % tagn,
                         "%d (loss %.2f%%, %d thr)" %
                         (big["calls"], 100 * big["loss"],
                          big.get("threads", 1)),
                         ">= 10000, loss < 1%", ok))
    if ep is not sg and has(ep):
        for name, base in (("rtpengine", rt), ("bare", bare)):
            if has(base):
                x = ratio(ep, base)
                rows.append(("epoll pkt/s per core vs %s" % name,
                             "%.2fx" % x, "", x >= 1))
        if has(sg):
            x = ratio(sg, ep)
            rows.append(("uring vs epoll pkt/s per core", "%.2fx" % x, "",
                         x >= 1))
        if "calls" in ep:
            rows.append(("epoll concurrent calls", "%d%s" % (
                ep["calls"], " [fd limit %d]" % args["nofile"]
                if args["calls"] >= args["fd_cap"] else ""), "", True))
    # Whole machine (every core's busy time, the generator's own cost
    # per packet -- the "direct" run -- taken off): what each relay
    # costs wherever the kernel charged it.  The only fair figure for
    # the kernel fast path, whose work is not in its process.
    kn = res.get("sipguard-kernel", {})
    for name, r in (("uring", sg), ("kernel", kn)):
        for bname, base in (("rtpengine", rt), ("bare", bare)):
            if "net_pps_per_core" in r and "net_pps_per_core" in base:
                x = r["net_pps_per_core"] / max(base["net_pps_per_core"], 1)
                want = {"rtpengine": (">= 2x", 2), "bare": (">= 70%", .7)}
                rows.append(("machine: %s vs %s" % (name, bname),
                             "%.2fx" % x, want[bname][0],
                             x >= want[bname][1]))
    sa = res.get("sipguard-alt", {})
    if has(sg) and has(sa):
        x = ratio(sg, sa)
        rows.append(("uring pkt/s per core vs alt build", "%.2fx" % x, "",
                     x >= 1))
    for name in ("pair-rtpengine", "pair-epoll", "ab"):
        ab = res.get(name, {})
        if "ratio" not in ab:
            continue
        print("%s (at once, %d calls, loss %.2f%%): uring %.0f, %s %.0f "
              "pkt/s/core" % (name, ab["calls"], 100 * ab["loss"],
                              ab["pps_per_core"][0], ab["second"],
                              ab["pps_per_core"][1]))
        want = ">= 2x" if ab["second"] == "rtpengine" else ""
        rows.append(("at once: uring vs %s" % ab["second"],
                     "%.2fx" % ab["ratio"], want,
                     ab["ratio"] >= (2 if want else 1)))
    print()
    for what, got, want, ok in rows:
        print("%-34s %-22s %-22s %s" % (what, got, want, verdict(ok)))
    save_json("media.json", args, res)


def run_relays(tag, relays, runs, args):
    """Each (name, fn) of runs named in relays (comma list), in one
    temporary directory: {name: fn's result, or {"error": why}}."""
    res = {}
    with tempfile.TemporaryDirectory(prefix=tag + "-") as tmp:
        for name, fn in runs:
            if name not in relays.split(","):
                continue
            print("%s: %s ..." % (tag, name), flush=True)
            try:
                res[name] = fn(args, tmp, args["load"])
            except Exception as e:      # report, go on with the others
                res[name] = {"error": str(e)}
    return res


def main():
    netns = netns_or_reexec()
    calls = env_int("BENCH_CALLS", 10000)
    raise_nofile()
    # Each relayed call holds 4 sockets (RTP and RTCP per leg) in the
    # relay process, in sipguard as in rtpengine: the process's hard
    # RLIMIT_NOFILE caps the calls one process can relay (raising it
    # needs CAP_SYS_RESOURCE).
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    fd_cap = (hard - 1280) // 4     # sipguard keeps 1024 for the rest
    if calls > fd_cap:
        print("bench-media: RLIMIT_NOFILE hard limit %d: at most %d calls "
              "(4 sockets each) per relay process" % (hard, fd_cap))
        calls = fd_cap
    args = {"calls": calls if netns else min(calls, 1000),
            # io_uring: the relay's sockets are outside the fd table.
            "calls_uring": env_int("BENCH_CALLS", 10000) if netns else
            min(calls, 1000),
            "fd_cap": fd_cap, "nofile": hard,
            "pps": env_int("BENCH_PPS", 200000),
            "secs": env_int("BENCH_SECONDS", 5), "netns": netns,
            "pmin": 2000 if netns else 45400,
            "pmax": 44999 if netns else 49999,
            "sipguard": sys.argv[1] if len(sys.argv) > 1 else
            os.path.join(ROOT, "build/release/sipguard"),
            "sg_alt": os.environ.get("BENCH_SG_ALT", ""),
            "load": sys.argv[2] if len(sys.argv) > 2 else
            os.path.join(ROOT, "build/release/bench/media_load")}
    relays = os.environ.get(
        "BENCH_RELAYS",
        "sipguard,sipguard-uring,sipguard-kernel,sipguard-uring-max,"
        "sipguard-kernel-max,rtpengine,bare,direct")
    res = run_relays("bench-media", relays, (
        ("sipguard", bench_sipguard),
        ("sipguard-uring",
         lambda a, t, ld: bench_sipguard(a, t, ld, "uring")),
        # media.kernel: on, the eBPF fast path (judged by the whole
        # machine's CPU: see machine_busy_s).
        ("sipguard-kernel",
         lambda a, t, ld: bench_sipguard(a, t, ld, "uring", kernel=True)),
        ("sipguard-uring-max",
         lambda a, t, ld: bench_sipguard(a, t, ld, "uring",
                                         a["calls_uring"])),
        ("sipguard-kernel-max",
         lambda a, t, ld: bench_sipguard(a, t, ld, "uring",
                                         a["calls_uring"], kernel=True)),
        # A/B within one run: another sipguard build (BENCH_SG_ALT),
        # io_uring, the same calls as sipguard-uring.
        ("sipguard-alt",
         lambda a, t, ld: bench_sipguard(dict(a, sipguard=a["sg_alt"]), t,
                                         ld, "uring")),
        ("ab", lambda a, t, ld: bench_pair(a, t, ld, "alt")),
        ("pair-epoll", lambda a, t, ld: bench_pair(a, t, ld, "epoll")),
        ("pair-rtpengine",
         lambda a, t, ld: bench_pair(a, t, ld, "rtpengine")),
        ("rtpengine", bench_rtpengine),
        ("bare", bench_bare),
        ("direct", bench_direct)), args)
    report(res, args)


if __name__ == "__main__":
    main()
