#!/usr/bin/python3
"""
Proxy benchmark (issue 3, `make bench-proxy`): sipp UAC -> proxy -> sipp
UAS on loopback, run once through sipguard and once through Kamailio
configured as the equivalent edge proxy, both pinned to the same core.

For each proxy it measures
  1. CPU milliseconds per call at a fixed call rate (run time of every
     process of the proxy, from /proc/PID/task/*/schedstat),
  2. the highest call rate sustained with <= 0.1 % failed calls (the rate
     is stepped up; sipp's statistics CSV gives successful/failed calls),
  3. memory per dialog: growth of the proxy's memory while N calls are
     held open (sipguard: VmRSS; Kamailio: the sum of PSS over all its
     processes, i.e. each one's private memory plus the shared memory
     counted once),
then prints a table against the issue's targets and writes
bench/out/proxy.json.  Method and figures: bench/README-proxy.md.

Every process is started here and stopped by its pid; everything is on
127.0.0.1 and bounded in count and time.  Environment knobs (defaults in
brackets): BENCH_CALLS [20000] dialogs held for the memory test,
BENCH_CPU_RATE [200] and BENCH_CPU_SECONDS [10], BENCH_RATES
[500,1000,2000,4000,8000,16000,32000] and BENCH_STEP_SECONDS [5],
BENCH_HOLD_RATE [1000], BENCH_PROXIES [sipguard,kamailio], BENCH_NICE
[-10] priority of the proxies and sipps (needs root; 0: unchanged),
BENCH_TESTS [cpu,rate,memory] which measurements to run.
"""
import argparse
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time

from common import (core_busy, core_times, free_udp_port,
                    log_lines, proc_stat, process_tree, stop_tree,
                    version_line)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SIPP = "/usr/bin/sipp"
KAMAILIO = "/usr/sbin/kamailio"
KAMCMD = "/usr/sbin/kamcmd"
IP = "127.0.0.1"
MAX_FAILED = 0.001              # a rate step passes with <= 0.1 % failed
SHORT_PAUSE_MS = 500            # call length of the CPU and rate tests
RECV_TIMEOUT_MS = 8000          # a call waiting longer than this fails
STEP_REFINE = 3                 # bisection steps after the first failure
PROXY_CORE, SIPP_CORE = 1, 0
KAM_SHM_MB, KAM_PKG_MB = 1024, 16  # 256 MiB runs out near 2000 calls/s
SG_POOL = 1000000               # sipguard's transaction and dialog pools
LATE_MS = 2000                  # a response slower than this fails a call
HOLD_MAX_SETUP_S = 60           # longest set-up of the memory test
SETTLE_S = 40                   # transactions' lifetime after a call set-up
                                # (RFC 6026 Timer L/M: 64*T1 = 32 s)
SOCKET_BUFFER = 4 << 20         # sipp's UDP buffers (its default: 64 KiB)

# The built-in `sipp -sn uac/uas` ignore Record-Route, so their ACK and
# BYE cannot cross a record-routing proxy.  These are the same call flow
# and messages (INVITE with an SDP offer, 180, 200 with the answer, ACK,
# pause, BYE, 200) with the route set handled: the UAS copies
# Record-Route into its responses, the UAC builds ACK and BYE from the
# 200's Contact and Record-Route (rrs="true", [next_url], [routes]).
UAC_XML = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="bench uac">
  <send retrans="500">
    <![CDATA[

      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: [service] <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70
      Subject: Performance Test
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0
      a=rtpmap:0 PCMU/8000

    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rtd="true" rrs="true" timeout="%(late_ms)d"/>
  <send>
    <![CDATA[

      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      [routes]
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: [service] <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70
      Subject: Performance Test
      Content-Length: 0

    ]]>
  </send>
  <pause/>
  <send retrans="500">
    <![CDATA[

      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      [routes]
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: [service] <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70
      Subject: Performance Test
      Content-Length: 0

    ]]>
  </send>
  <recv response="200" crlf="true" timeout="%(late_ms)d"/>
</scenario>
"""

UAS_XML = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="bench uas">
  <recv request="INVITE" crlf="true"/>
  <send>
    <![CDATA[

      SIP/2.0 180 Ringing
      [last_Via:]
      [last_Record-Route:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      Content-Length: 0

    ]]>
  </send>
  <send retrans="500">
    <![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_Record-Route:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0
      a=rtpmap:0 PCMU/8000

    ]]>
  </send>
  <recv request="ACK" optional="true" rtd="true" crlf="true"/>
  <recv request="BYE"/>
  <send>
    <![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      Content-Length: 0

    ]]>
  </send>
  <timewait milliseconds="4000"/>
</scenario>
"""


def log(msg):
    print("bench-proxy: " + msg, flush=True)


def env_int(name, default):
    v = os.environ.get(name, "")
    return int(v) if v.strip() else default


def udp_bound(port):
    """Whether some socket is bound to UDP 127.0.0.1:port (or 0.0.0.0)."""
    want = (":%04X" % port)
    with open("/proc/net/udp") as f:
        for line in f.readlines()[1:]:
            local = line.split()[1]
            if local.endswith(want) and local.split(":")[0] in (
                    "0100007F", "00000000"):
                return True
    return False


def udp_drops(ports):
    """Datagrams dropped so far (full receive buffer) by the sockets bound
    to each UDP port, from the last column of /proc/net/udp."""
    drops = {}
    with open("/proc/net/udp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            port = int(fields[1].split(":")[1], 16)
            for name, p in ports.items():
                if p == port:
                    drops[name] = drops.get(name, 0) + int(fields[-1])
    return drops


# ---- /proc readers ------------------------------------------------------

def task_runtime(pid):
    """(CPU seconds, seconds spent runnable but waiting for a CPU) of
    every thread of pid, from /proc/PID/task/*/schedstat (the scheduler's
    own nanosecond counts), or None if unavailable."""
    run = wait = 0
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                v = f.read().split()
                run, wait = run + int(v[0]), wait + int(v[1])
    except (OSError, ValueError, IndexError):
        return None
    return run / 1e9, wait / 1e9


def tree_cpu(root):
    """CPU seconds used so far by root and its descendants: the sum of
    (utime+stime) from /proc/PID/stat, which counts in clock ticks
    (10 ms), and the sum of the schedstat run times (nanoseconds), which
    is what the bench divides by calls when the kernel provides it."""
    ticks, exact, wait = 0.0, 0.0, 0.0
    for p in process_tree(root):
        st = proc_stat(p)
        if st:
            ticks += st[1]
            rt = task_runtime(p)
            if rt is None or exact is None:
                exact = wait = None
            else:
                exact, wait = exact + rt[0], wait + rt[1]
    return {"stat": ticks, "schedstat": exact, "wait": wait,
            "best": exact if exact is not None else ticks}


def proc_kv(path, keys):
    """Sum of the 'Key: N kB' lines named in keys, in bytes."""
    total = 0
    try:
        with open(path) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in keys:
                    total += int(v.split()[0]) * 1024
    except OSError:
        pass
    return total


def tree_memory(root):
    """Memory figures of root and its descendants, in bytes."""
    procs = process_tree(root)
    return {
        "processes": len(procs),
        "rss": sum(proc_kv("/proc/%d/status" % p, ("VmRSS",))
                   for p in procs),
        "pss": sum(proc_kv("/proc/%d/smaps_rollup" % p, ("Pss",))
                   for p in procs),
        "private": sum(proc_kv("/proc/%d/smaps_rollup" % p,
                               ("Private_Clean", "Private_Dirty"))
                       for p in procs),
    }


# ---- processes ----------------------------------------------------------

NICE = int(os.environ.get("BENCH_NICE", "-10") or 0)


def pinned(core):
    """preexec_fn pinning the child to one core (when there are two) and,
    if allowed, raising its priority (BENCH_NICE): on a shared machine
    other programs' work then takes less of the measured cores."""
    def pin():
        if core is not None:
            os.sched_setaffinity(0, {core})
        if NICE:
            try:
                os.setpriority(os.PRIO_PROCESS, 0, NICE)
            except OSError:
                pass
    return pin


def cores():
    n = len(os.sched_getaffinity(0))
    return (PROXY_CORE, SIPP_CORE) if n >= 2 else (None, None)


stop_pid = stop_tree


class Sipp:
    """One sipp process running one of the scenarios above."""

    def __init__(self, workdir, name, role, local_port, remote=None,
                 args=(), core=None):
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir, exist_ok=True)
        xml = os.path.join(self.dir, role + ".xml")
        with open(xml, "w") as f:
            f.write(UAC_XML % {"late_ms": LATE_MS} if role == "uac"
                    else UAS_XML)
        self.stat = os.path.join(self.dir, "stat.csv")
        cmd = [SIPP, "-sf", xml, "-i", IP, "-p", str(local_port),
               "-t", "u1", "-nostdin", "-s", "bench",
               "-trace_stat", "-stf", self.stat, "-fd", "250ms",
               "-trace_err", "-error_file",
               os.path.join(self.dir, "errors.log"),
               "-max_socket", "1000", "-max_recv_loops", "1000",
               "-buff_size", str(SOCKET_BUFFER)]
        cmd += [str(a) for a in args]
        if remote:
            cmd.append("%s:%d" % (IP, remote))
        self.cmd = cmd
        self.out = open(os.path.join(self.dir, "screen.log"), "wb")
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(cmd, cwd=self.dir, stdout=self.out,
                                     stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL,
                                     preexec_fn=pinned(core))

    def wait(self, timeout):
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop()
        self.elapsed = time.monotonic() - self.t0
        return self.proc.returncode

    def stop(self):
        """SIGUSR1 is sipp's 'quit'; a second one stops waiting for calls."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGUSR1)
            try:
                self.proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                if self.proc.poll() is None:
                    self.proc.send_signal(signal.SIGUSR1)
                stop_pid(self.proc, signal.SIGUSR1, timeout=3)
        if not self.out.closed:
            self.out.close()
        return self.proc.returncode

    def cpu(self):
        return tree_cpu(self.proc.pid)["best"]

    def rows(self):
        """sipp's statistics CSV (a line every 250 ms), as dicts."""
        try:
            with open(self.stat, errors="replace") as f:
                lines = [l for l in f.read().splitlines() if l.strip()]
        except OSError:
            return []
        head = lines[0].split(";") if lines else []
        return [dict(zip(head, l.split(";"))) for l in lines[1:]]

    def stats(self):
        """The last line of sipp's statistics CSV, as a dict of strings."""
        rows = self.rows()
        return rows[-1] if rows else {}

    def creation_seconds(self, n):
        """Seconds sipp took to place its n calls (to 250 ms), or None:
        tells whether it kept the rate it was asked for."""
        def epoch(row):
            return float(row["CurrentTime"].split("\t")[-1])
        rows = self.rows()
        try:
            for row in rows:
                if int(row.get("TotalCallCreated") or 0) >= n:
                    return epoch(row) - epoch(rows[0])
        except (KeyError, ValueError, IndexError):
            pass
        return None

    def counts(self):
        s = self.stats()

        def n(key):
            try:
                return int(s.get(key, "0") or 0)
            except ValueError:
                return 0
        return {"created": n("TotalCallCreated"),
                "current": n("CurrentCall"),
                "ok": n("SuccessfulCall(C)"),
                "failed": n("FailedCall(C)"),
                "retrans": n("Retransmissions(C)"),
                "late": n("FailedTimeoutOnRecv(C)")}


# ---- the two proxies ----------------------------------------------------

class Proxy:
    """A proxy under test: listens on port_untrusted (the UAC sends there)
    and port_trusted, forwards to the UAS on backend."""
    name = "?"

    def __init__(self, workdir, ports):
        self.dir = os.path.join(workdir, self.name)
        shutil.rmtree(self.dir, ignore_errors=True)     # last run's logs
        os.makedirs(self.dir)
        self.ports = ports
        self.proc = None
        self.logf = None

    def command(self):
        raise NotImplementedError

    def start(self, core):
        cmd = self.command()
        self.logf = open(os.path.join(self.dir, "proxy.log"), "ab")
        self.proc = subprocess.Popen(cmd, cwd=self.dir, stdout=self.logf,
                                     stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL,
                                     preexec_fn=pinned(core))
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited with %s:\n%s" % (
                    self.name, self.proc.returncode, self.log_tail()))
            if udp_bound(self.ports["untrusted"]) and \
                    udp_bound(self.ports["trusted"]):
                time.sleep(0.5)     # workers still forking
                return
            time.sleep(0.1)
        raise RuntimeError("%s did not bind its ports:\n%s" % (
            self.name, self.log_tail()))

    def stop(self):
        if self.proc is not None:
            stop_pid(self.proc, signal.SIGTERM)
            self.proc = None
        if self.logf:
            self.logf.close()
            self.logf = None

    def log_tail(self, n=15):
        if self.logf:
            self.logf.flush()
        lines = log_lines(os.path.join(self.dir, "proxy.log"))
        return "\n".join(lines[-n:])

    def log_count(self, needle):
        if self.logf:
            self.logf.flush()
        return sum(line.count(needle) for line in
                   log_lines(os.path.join(self.dir, "proxy.log")))

    def cpu(self):
        return tree_cpu(self.proc.pid)

    def memory(self):
        """Bytes that count as the proxy's memory, and the details."""
        raise NotImplementedError

    def dialogs(self):
        """The proxy's own count of dialogs, if it has a way to tell."""
        return None


class Sipguard(Proxy):
    name = "sipguard"
    memory_method = "VmRSS of the sipguard process"

    def __init__(self, workdir, ports, binary, max_dialogs):
        super().__init__(workdir, ports)
        self.binary = binary
        with open(os.path.join(HERE, "sipguard_bench.yaml")) as f:
            cfg = f.read() % {
                "ip": IP, "port_untrusted": ports["untrusted"],
                "port_trusted": ports["trusted"], "backend": ports["uas"],
                "max_dialogs": max_dialogs,
                "max_transactions": max_dialogs}
        self.cfg = os.path.join(self.dir, "sipguard.yaml")
        with open(self.cfg, "w") as f:
            f.write(cfg)

    def version(self):
        return version_line([self.binary, "-V"])

    def command(self):
        if not os.access(self.binary, os.X_OK):
            raise RuntimeError("no sipguard binary at " + self.binary)
        return [self.binary, "-c", self.cfg]

    def memory(self):
        m = tree_memory(self.proc.pid)
        return m["rss"], m


class Kamailio(Proxy):
    name = "kamailio"
    memory_method = ("sum of PSS over all Kamailio processes (private "
                     "memory of each + shared memory counted once)")

    def __init__(self, workdir, ports):
        super().__init__(workdir, ports)
        self.ctl = os.path.join(self.dir, "ctl.sock")
        with open(os.path.join(HERE, "kamailio_edge.cfg")) as f:
            cfg = f.read() % {
                "ip": IP, "port_untrusted": ports["untrusted"],
                "port_trusted": ports["trusted"],
                "backend": "%s:%d" % (IP, ports["uas"]),
                "ctl_socket": self.ctl}
        self.cfg = os.path.join(self.dir, "kamailio.cfg")
        with open(self.cfg, "w") as f:
            f.write(cfg)

    def version(self):
        return version_line([KAMAILIO, "-v"], first_line=True)

    def command(self):
        # -DD: stay in the foreground as our child (workers still fork);
        # -E: log to stderr; shared memory sized for the held dialogs.
        return [KAMAILIO, "-DD", "-E", "-f", self.cfg,
                "-P", os.path.join(self.dir, "kamailio.pid"),
                "-Y", self.dir, "-w", self.dir,
                "-m", str(KAM_SHM_MB), "-M", str(KAM_PKG_MB)]

    def shm(self):
        """Kamailio's shared-memory allocator figures (kamcmd
        core.shmmem: used, real_used with the allocator's overhead,
        max_used high-water mark...), or {}."""
        try:
            out = subprocess.run(
                [KAMCMD, "-s", "unix:" + self.ctl, "core.shmmem"],
                capture_output=True, text=True, timeout=5).stdout
        except (OSError, subprocess.SubprocessError):
            return {}
        d = {}
        for line in out.splitlines():
            k, _, v = line.strip().partition(":")
            if v.strip().isdigit():
                d["shm_" + k] = int(v)
        return d

    def memory(self):
        m = tree_memory(self.proc.pid)
        m.update(self.shm())
        return m["pss"], m

    def dialogs(self):
        """Active dialogs by state (kamcmd dlg.stats_active)."""
        try:
            out = subprocess.run(
                [KAMCMD, "-s", "unix:" + self.ctl, "dlg.stats_active"],
                capture_output=True, text=True, timeout=5).stdout
        except (OSError, subprocess.SubprocessError):
            return None
        d = {}
        for line in out.splitlines():
            k, _, v = line.strip().partition(":")
            if v.strip().isdigit():
                d[k] = int(v)
        return d or None


# ---- the measurements ---------------------------------------------------

def children_cpu():
    """CPU seconds of our reaped children (the sipp UACs), so far."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


class Run:
    """Runs the three measurements against one proxy."""

    def __init__(self, proxy, opts, workdir, ports):
        self.proxy, self.opts, self.ports = proxy, opts, ports
        self.workdir = os.path.join(workdir, proxy.name)
        self.core_proxy, self.core_sipp = cores()
        self.uas = None
        self.uacs = []          # every UAC started, to stop on the way out
        self.seq = 0
        self.res = {"version": proxy.version(), "error": None,
                    "memory_method": proxy.memory_method}

    # -- plumbing --

    def start(self):
        self.seq += 1
        self.uas = Sipp(self.workdir, "uas-%d" % self.seq, "uas",
                        self.ports["uas"], core=self.core_sipp)
        self.proxy.start(self.core_proxy)
        try:
            self.res["nice"] = os.getpriority(os.PRIO_PROCESS,
                                              self.proxy.proc.pid)
        except OSError:
            pass
        deadline = time.monotonic() + 5
        while not udp_bound(self.ports["uas"]):
            if self.uas.proc.poll() is not None or \
                    time.monotonic() > deadline:
                raise RuntimeError("sipp UAS did not start: see " +
                                   self.uas.dir)
            time.sleep(0.05)

    def stop(self):
        for u in self.uacs:
            u.stop()
        self.uacs = []
        self.proxy.stop()
        if self.uas is not None:
            self.uas.stop()
            self.uas = None

    def restart(self):
        self.stop()
        time.sleep(0.5)
        self.start()

    def uac(self, tag, rate, calls, pause_ms, timeout_s, extra=()):
        self.seq += 1
        args = ["-r", rate, "-m", calls, "-d", pause_ms,
                "-recv_timeout", RECV_TIMEOUT_MS, "-timeout",
                "%ds" % timeout_s] + list(extra)
        u = Sipp(self.workdir, "%02d-%s" % (self.seq, tag), "uac",
                 self.ports["uac"], remote=self.ports["untrusted"],
                 args=args, core=self.core_sipp)
        self.uacs.append(u)
        return u

    def calls(self, tag, rate, calls, pause_ms):
        """Run calls to completion; returns (sipp, counts)."""
        timeout = int(calls / rate * 2 + pause_ms / 1000 +
                      RECV_TIMEOUT_MS / 1000 + 10)
        u = self.uac(tag, rate, calls, pause_ms, timeout)
        u.wait(timeout + 10)
        return u, u.counts()

    # -- 0. does a call get through at all? --

    def smoke(self):
        u, c = self.calls("smoke", 10, 5, 100)
        if c["ok"] != 5:
            raise RuntimeError(
                "calls do not get through %s (%d of 5 succeeded; sipp "
                "logs in %s; proxy log tail:\n%s)" % (
                    self.proxy.name, c["ok"], u.dir,
                    self.proxy.log_tail(8)))

    # -- 1. CPU per call at a fixed rate --

    def cpu_per_call(self):
        rate, secs = self.opts.cpu_rate, self.opts.cpu_seconds
        self.calls("warmup", rate, rate, SHORT_PAUSE_MS)
        time.sleep(1)
        c0, t0 = self.proxy.cpu(), time.monotonic()
        time.sleep(2)
        c1, t1, k1 = self.proxy.cpu(), time.monotonic(), core_times()
        u, c = self.calls("cpu", rate, rate * secs, SHORT_PAUSE_MS)
        time.sleep(2)           # let timers finish the calls' state
        c2, t2, k2 = self.proxy.cpu(), time.monotonic(), core_times()
        idle = (c1["best"] - c0["best"]) / (t1 - t0)
        used = c2["best"] - c1["best"]
        self.res["cpu"] = {
            "rate": rate, "seconds": secs, "calls": rate * secs,
            "ok": c["ok"], "failed": rate * secs - c["ok"],
            "cpu_s": round(used, 4),
            "cpu_s_ticks": round(c2["stat"] - c1["stat"], 3),
            "source": "schedstat" if c2["schedstat"] is not None
            else "stat",
            "window_s": round(t2 - t1, 2),
            "idle_cpu_ms_per_s": round(idle * 1000, 3),
            "proxy_core_busy": core_busy(k1, k2, self.core_proxy),
            "proxy_share": round(used / (t2 - t1), 3),
            "proxy_wait_share": None if c2["wait"] is None else
            round((c2["wait"] - c1["wait"]) / (t2 - t1), 3),
        }
        if rate * secs - c["ok"] > 0.01 * rate * secs:
            # the figure would be the cost of failing calls: stop here
            raise RuntimeError("%d of %d calls failed at %d calls/s (sipp "
                               "logs in %s)" % (rate * secs - c["ok"],
                                                rate * secs, rate, u.dir))
        self.res["cpu_ms_per_call"] = round(used * 1000 / c["ok"], 4)
        log("%s: %.4f ms CPU per call (%d calls at %d/s, %d failed)" % (
            self.proxy.name, self.res["cpu_ms_per_call"], c["ok"], rate,
            rate * secs - c["ok"]))

    # -- 2. highest sustained rate --

    def step(self, rate):
        secs = self.opts.step_seconds
        n = rate * secs
        p0, g0 = self.proxy.cpu(), children_cpu()
        s0 = self.uas.cpu()
        d0, k0 = udp_drops(self.ports), core_times()
        u, c = self.calls("rate-%d" % rate, rate, n, SHORT_PAUSE_MS)
        wall = u.elapsed
        d1, k1 = udp_drops(self.ports), core_times()
        drops = {k: v - d0.get(k, 0) for k, v in d1.items()
                 if v - d0.get(k, 0) and k != "uac"}
        p1 = self.proxy.cpu()
        proxy_util = (p1["best"] - p0["best"]) / wall
        # What else ran on the proxy's core (the machine may be shared).
        busy = core_busy(k0, k1, self.core_proxy)
        others = None if busy is None else max(0.0, busy - proxy_util)
        # Time the proxy's processes were runnable but not running: one
        # waiting for a sibling on the same core, or for another program.
        wait = None if p0["wait"] is None else \
            round((p1["wait"] - p0["wait"]) / wall, 3)
        sipp_util = (children_cpu() - g0 + self.uas.cpu() - s0) / wall
        # Failed: not completed, which includes the calls whose 200 took
        # over LATE_MS (they waited for a proxy seconds behind: at that
        # rate its backlog grows, and a longer step would see more fail).
        # On loopback a retransmission means the proxy lost a datagram
        # (its receive buffer overflowed): such a call counts as failed
        # too (retransmissions are counted per message, an upper bound).
        failed = n - c["ok"]
        bad = failed + c["retrans"]
        # sipp must also have kept the rate: every call placed in about
        # the nominal time (a saturated generator stretches it).
        placed = u.creation_seconds(n)
        in_time = placed is not None and placed <= secs * 1.1 + 0.5
        ok = bad <= MAX_FAILED * n and in_time
        r = {"rate": rate, "calls": n, "ok": c["ok"], "late": c["late"],
             "failed": failed,
             "retransmissions": c["retrans"], "wall_s": round(wall, 2),
             "placed_s": None if placed is None else round(placed, 2),
             "in_time": in_time, "pass": ok,
             "udp_drops": drops,
             "proxy_core_util": round(proxy_util, 3),
             "proxy_wait_share": wait,
             "cpu_ms_per_call": round((p1["best"] - p0["best"]) * 1000 /
                                      max(c["ok"], 1), 4),
             "sipp_core_util": round(sipp_util, 3),
             # the same cores' total use: more than the above = others
             "proxy_core_busy": busy,
             "others_on_proxy_core": None if others is None else
             round(others, 3),
             "sipp_core_busy": core_busy(k0, k1, self.core_sipp)}
        self.log_step(r)
        return r

    def log_step(self, r):
        others = r["others_on_proxy_core"]
        log("%s: %6d calls/s: %s (%d ok, %d failed (%d late), %d retrans, "
            "placed in %s s, proxy core %.0f%%%s, sipp core %.0f%%%s)" % (
                self.proxy.name, r["rate"], "pass" if r["pass"] else "FAIL",
                r["ok"], r["failed"], r["late"],
                r["retransmissions"], "?" if r["placed_s"] is None else
                "%.1f" % r["placed_s"], r["proxy_core_util"] * 100,
                "" if not others or others < 0.05 else
                " + others %.0f%%" % (others * 100),
                r["sipp_core_util"] * 100,
                "".join(", %d dropped at %s" % (v, k)
                        for k, v in r["udp_drops"].items())))

    def max_rate(self):
        steps, best, worst = [], 0, None
        for rate in self.opts.rates:
            r = self.step(rate)
            steps.append(r)
            if not r["pass"]:
                worst = rate
                break
            best = rate
            time.sleep(2)
        for _ in range(STEP_REFINE):
            if worst is None or worst - best <= max(best // 16, 50):
                break
            self.restart()  # a failed step leaves state behind
            rate = (best + worst) // 2 // 50 * 50 or 50
            r = self.step(rate)
            steps.append(r)
            if r["pass"]:
                best = rate
            else:
                worst = rate
        self.res["steps"] = steps
        self.res["max_rate"] = best
        self.res["max_rate_bounded_by_steps"] = worst is None
        last = [s for s in steps if s["rate"] == worst]
        # If the failing step had the generator's core saturated and the
        # proxy's not, the limit measured is sipp's, not the proxy's.
        self.res["max_rate_generator_bound"] = bool(
            last and last[-1]["sipp_core_util"] >= 0.9 and
            last[-1]["proxy_core_util"] < 0.8)
        log("%s: highest sustained rate %d calls/s" % (self.proxy.name,
                                                       best))

    # -- 3. memory per dialog --

    def acks_sent(self, u):
        """ACKs the UAC has sent so far = dialogs established (from the
        -trace_counts file: one column per scenario step)."""
        names = [f for f in os.listdir(u.dir) if f.endswith("_counts.csv")]
        if not names:
            return 0
        with open(os.path.join(u.dir, names[0]), errors="replace") as f:
            lines = [l for l in f.read().splitlines() if l.strip()]
        if len(lines) < 2:
            return 0
        row = dict(zip(lines[0].split(";"), lines[-1].split(";")))
        for k, v in row.items():
            if k.endswith("_ACK_Sent"):
                return int(v or 0)
        return 0

    def hold(self, n, rate):
        """Open n calls at rate and keep them open; returns the UAC once
        every call is established (or the time is up)."""
        setup = n / rate
        pause_ms = int((setup + 60) * 1000)
        u = self.uac("hold", rate, n, pause_ms, int(setup + 120),
                     ["-l", n + 10, "-trace_counts"])
        deadline = time.monotonic() + setup * 1.5 + 30
        last, stable, done = None, 0, None
        while time.monotonic() < deadline and u.proc.poll() is None:
            time.sleep(0.5)
            if done is None:
                c = u.counts()
                if c["failed"] > 0.01 * n:
                    break       # memory() reports the calls missing
                if c["created"] < n or c["current"] + c["failed"] < n or \
                        self.acks_sent(u) + c["failed"] < n:
                    continue
                done = time.monotonic()
            # Transactions outlive their call set-up by a few seconds
            # (RFC 3261 timers; Kamailio's wait timer is 5 s): measure
            # once only the dialogs are left.
            if time.monotonic() - done < SETTLE_S:
                continue
            mem = self.proxy.memory()[0]
            # plateau: three readings within 0.2 % of each other
            if last is not None and abs(mem - last) <= 0.002 * last:
                stable += 1
            else:
                stable = 0
            last = mem
            if stable >= 3:
                break
        return u

    def memory(self):
        n = self.opts.calls
        # The same rate for every proxy (set-up rate decides how many
        # transactions coexist with the dialogs), unless one cannot
        # sustain it.
        rate = self.opts.hold_rate
        if self.res.get("max_rate", rate) < rate:
            rate = self.res["max_rate"] // 2
            if n / max(rate, 1) > HOLD_MAX_SETUP_S:
                raise RuntimeError("highest rate %d calls/s: too low to "
                                   "open %d calls in %d s, memory not "
                                   "tested" % (self.res["max_rate"], n,
                                               HOLD_MAX_SETUP_S))
        self.restart()          # a fresh proxy: no memory left from above
        self.calls("warmup", 50, 50, 0)
        time.sleep(SETTLE_S)    # the warm-up's transactions expire
        base, base_d = self.proxy.memory()
        u = self.hold(n, rate)
        held = self.acks_sent(u)
        plateau, plat_d = self.proxy.memory()
        extra = self.proxy.dialogs()
        u.stop()
        self.res["memory"] = {
            "calls": n, "rate": rate, "dialogs": held,
            "base_bytes": base, "plateau_bytes": plateau,
            "base": base_d, "plateau": plat_d, "proxy_dialogs": extra,
        }
        if held < n * 0.99:
            raise RuntimeError("only %d of %d calls established in the "
                               "memory test" % (held, n))
        self.res["bytes_per_dialog"] = round((plateau - base) / held)
        shm = ""
        if plat_d.get("shm_real_used") and base_d.get("shm_real_used"):
            per = round((plat_d["shm_real_used"] -
                         base_d["shm_real_used"]) / held)
            self.res["memory"]["shm_bytes_per_dialog"] = per
            shm = "; shared-memory allocator: %d bytes per dialog" % per
        log("%s: %d bytes per dialog (%d dialogs set up at %d/s, %.1f -> "
            "%.1f MiB%s)" % (self.proxy.name, self.res["bytes_per_dialog"],
                             held, rate, base / 2**20, plateau / 2**20, shm))

    def run(self):
        t0 = time.monotonic()
        log("---- %s (%s)" % (self.proxy.name, self.res["version"]))
        try:
            self.start()
            self.smoke()
            if "cpu" in self.opts.tests:
                self.cpu_per_call()
            if "rate" in self.opts.tests:
                self.max_rate()
            if "memory" in self.opts.tests:
                self.memory()
        except Exception as e:      # report and carry on to the next proxy
            self.res["error"] = str(e)
            log("%s: ERROR: %s" % (self.proxy.name, e))
        finally:
            self.stop()
        self.res["seconds"] = round(time.monotonic() - t0, 1)
        return self.res


# ---- report -------------------------------------------------------------

def verdicts(sg, km):
    """Rows of (metric, sipguard, kamailio, ratio, target, result)."""
    rows = []

    def get(r, k):
        return r.get(k) if r else None

    def fmt(v, f):
        return "n/a" if v is None else f % v

    def ratio(a, b):
        return a / b if a is not None and b else None

    c_s, c_k = get(sg, "cpu_ms_per_call"), get(km, "cpu_ms_per_call")
    r = ratio(c_s, c_k)
    rows.append(("CPU per call (ms)", fmt(c_s, "%.4f"), fmt(c_k, "%.4f"),
                 fmt(r, "%.3f"), "<= 1/3 of Kamailio",
                 "n/a" if r is None else ("pass" if r <= 1 / 3 else "FAIL")))
    m_s, m_k = get(sg, "max_rate"), get(km, "max_rate")
    r = ratio(m_s, m_k)
    rows.append(("highest rate, <=0.1% failed (calls/s)", fmt(m_s, "%d"),
                 fmt(m_k, "%d"), fmt(r, "%.2f"), ">= 2x Kamailio",
                 "n/a" if r is None else ("pass" if r >= 2 else "FAIL")))
    b_s, b_k = get(sg, "bytes_per_dialog"), get(km, "bytes_per_dialog")
    r = ratio(b_s, b_k)
    rows.append(("memory per dialog (bytes)", fmt(b_s, "%d"),
                 fmt(b_k, "%d"), fmt(r, "%.3f"), "<= 2048",
                 "n/a" if b_s is None else
                 ("pass" if b_s <= 2048 else "FAIL")))
    return rows


def print_table(rows):
    head = ("metric", "sipguard", "kamailio", "ratio", "target", "result")
    w = [max(len(str(r[i])) for r in rows + [head]) for i in range(6)]
    line = "  ".join("%%-%ds" % x for x in w)
    print()
    print(line % head)
    print(line % tuple("-" * x for x in w))
    for r in rows:
        print(line % r)
    print(flush=True)


def notes(results):
    for name, r in results.items():
        if r.get("error"):
            print("note: %s: %s" % (name, r["error"].splitlines()[0]))
        if r.get("max_rate_bounded_by_steps"):
            print("note: %s passed every rate step; its limit is higher"
                  % name)
        others = [s["others_on_proxy_core"] for s in r.get("steps", [])
                  if s.get("others_on_proxy_core")]
        if others and max(others) >= 0.1:
            print("note: other programs used up to %.0f%% of %s's core "
                  "during a rate step: its figures are skewed"
                  % (max(others) * 100, name))
        if r.get("max_rate_generator_bound"):
            print("note: %s: sipp's core was saturated at the failing "
                  "step: the rate found is the load generator's limit"
                  % name)


# ---- main ---------------------------------------------------------------

def options():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sipguard", type=os.path.abspath, default=os.path.join(
        ROOT, "build", "release", "sipguard"), help="sipguard binary")
    ap.add_argument("--calls", type=int, default=env_int("BENCH_CALLS",
                    20000), help="dialogs held for the memory test")
    ap.add_argument("--cpu-rate", type=int,
                    default=env_int("BENCH_CPU_RATE", 200))
    ap.add_argument("--cpu-seconds", type=int,
                    default=env_int("BENCH_CPU_SECONDS", 10))
    ap.add_argument("--step-seconds", type=int,
                    default=env_int("BENCH_STEP_SECONDS", 5))
    ap.add_argument("--rates", default=os.environ.get(
        "BENCH_RATES", "500,1000,2000,4000,8000,16000,32000"))
    ap.add_argument("--hold-rate", type=int,
                    default=env_int("BENCH_HOLD_RATE", 1000))
    ap.add_argument("--proxies", default=os.environ.get(
        "BENCH_PROXIES", "sipguard,kamailio"))
    ap.add_argument("--out", default=os.path.join(HERE, "out",
                                                  "proxy.json"))
    ap.add_argument("--tests", default=os.environ.get(
        "BENCH_TESTS", "cpu,rate,memory"),
        help="which measurements to run (comma-separated)")
    ap.add_argument("--strict", action="store_true",
                    help="exit 1 unless every target passes")
    o = ap.parse_args()
    o.rates = [int(x) for x in o.rates.split(",") if x.strip()]
    o.proxies = [x.strip() for x in o.proxies.split(",") if x.strip()]
    o.tests = {x.strip() for x in o.tests.split(",") if x.strip()}
    if not o.tests <= {"cpu", "rate", "memory"}:
        ap.error("--tests: cpu, rate, memory")
    if not o.rates or min(o.rates) <= 0 or o.calls <= 0:
        ap.error("rates and calls must be positive")
    return o


def loadavg():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


def raise_fd_limit(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else max(need, soft)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def make_proxy(name, o, workdir, ports):
    if name == "sipguard":
        return Sipguard(workdir, ports, o.sipguard,
                        max(SG_POOL, 2 * o.calls))
    if name == "kamailio":
        return Kamailio(workdir, ports)
    raise SystemExit("unknown proxy " + name)


def on_sigterm(signum, frame):
    """Leave through the normal path, so every child is stopped."""
    raise SystemExit(128 + signum)


def main():
    signal.signal(signal.SIGTERM, on_sigterm)
    o = options()
    for tool in (SIPP, KAMAILIO):
        if not os.access(tool, os.X_OK):
            raise SystemExit("bench-proxy: %s missing (make deps)" % tool)
    fds = raise_fd_limit(o.calls + 1024)
    workdir = os.path.join(HERE, "out", "proxy-logs")
    os.makedirs(workdir, exist_ok=True)
    ports = {k: free_udp_port() for k in
             ("uac", "untrusted", "trusted", "uas")}
    pc, sc = cores()
    log("proxy on core %s, sipp on core %s; %d dialogs held; logs in %s" %
        (pc, sc, o.calls, os.path.relpath(workdir, ROOT)))
    load0 = loadavg()
    if load0[0] > 0.5:
        log("warning: load average %.2f before the run: other work on "
            "this machine will skew the figures" % load0[0])
    t0 = time.monotonic()
    results = {}
    for name in o.proxies:
        proxy = make_proxy(name, o, workdir, ports)
        results[name] = Run(proxy, o, workdir, ports).run()
    total = time.monotonic() - t0
    rows = verdicts(results.get("sipguard"), results.get("kamailio"))
    print_table(rows)
    notes(results)
    log("whole run: %.0f s" % total)
    out = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "host": {"cpus": os.cpu_count(), "kernel": os.uname().release,
                 "proxy_core": pc, "sipp_core": sc, "nofile": fds,
                 "nice_requested": NICE,
                 "loadavg_start": load0, "loadavg_end": loadavg()},
        "params": {"calls": o.calls, "cpu_rate": o.cpu_rate,
                   "cpu_seconds": o.cpu_seconds, "rates": o.rates,
                   "step_seconds": o.step_seconds,
                   "hold_rate": o.hold_rate, "call_pause_ms":
                   SHORT_PAUSE_MS, "max_failed": MAX_FAILED},
        "results": results,
        "table": [dict(zip(("metric", "sipguard", "kamailio", "ratio",
                            "target", "result"), r)) for r in rows],
        "seconds": round(total, 1),
    }
    os.makedirs(os.path.dirname(os.path.abspath(o.out)), exist_ok=True)
    with open(o.out, "w") as f:
        json.dump(out, f, indent=2)
    log("figures written to %s" % os.path.relpath(o.out, ROOT))
    if o.strict and any(r[5] != "pass" for r in rows):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
