#!/usr/bin/python3
"""
Gate flood benchmark (issue 4, `make bench-gate`): how many packets per
second sipguard's pre-parse gate drops for a banned source on one core,
and whether legitimate calls still get through during the flood; then the
same flood and calls against Kamailio with its standard anti-flood recipe
(pike + htable ban, bench/kamailio_pike.cfg).

One run, on loopback only, every process started here and stopped by its
pid, every load bounded in count and time:

  flooder 127.0.0.66 ──► proxy :A (untrusted) ─ :C (trusted) ──► sipp UAS :B
  sipp UAC 127.0.0.1 ──►         core 1                              core 0
  core 0

Phases (each with its own proxy and UAS):
  sipguard      the flooder's address banned up front (sipguardctl ban),
                so every flood datagram meets the ban in the gate;
  sipguard-rate no ban: the gate's per-source rate limit drops the flood
                (sipguard has no rule that bans a plain flood), shown
                for information;
  kamailio      pike detects the flood, htable holds the ban, the top of
                request_route drops banned sources; Kamailio as Debian
                ships it (its default private-memory manager, qm);
  kamailio-tlsf the same with -X tlsf, the faster private-memory manager
                (qm_malloc takes most of the worker's time in the flood):
                Kamailio at its best, for a fair comparison.

Per phase: datagrams the flooder sent; drops (sipguard: gate counters from
the control socket; Kamailio: datagrams it read, i.e. sent minus what the
kernel dropped on its full socket); the proxy's CPU time (utime+stime of
every process, and the scheduler's exact run time) over the flood;
drops per CPU-second (the per-core capacity), per wall-clock second, and
the kernel's drops; the UAC's call success rate.  Prints a table and
writes bench/out/gate.json; logs go to bench/out/gate-logs/.  Method and
figures: bench/README-gate.md.

Every process started here runs in a session of its own at nice -10
(BENCH_NICE, 0: unchanged; needs root): on a shared machine other
people's programs then take little of the two cores during a phase.
"""
import argparse
import json
import os
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
IP = "127.0.0.1"
ATTACKER = "127.0.0.66"
PROXY_CORE, LOAD_CORE = 1, 0
TARGET_DROPS_PER_CORE = 1000000
TARGET_SUCCESS = 0.999
DRAIN_S = 1.0              # after the flood: the proxy empties its queue
UAC_TAIL_S = 15.0          # longest wait for the UAC after the flood
RECV_TIMEOUT_MS = 10000    # a call waiting longer than this fails
START_TIMEOUT_S = 15.0
NICE = int(os.environ.get("BENCH_NICE", "-10") or 0)  # proxy and sipps
PHASES = ("sipguard", "sipguard-rate", "kamailio", "kamailio-tlsf")


def log(msg):
    print("bench-gate: " + msg, flush=True)


# ---- /proc readers ------------------------------------------------------

def udp_sockets(port):
    """[(drops, rx_queue bytes)] of the UDP sockets bound to port."""
    out = []
    with open("/proc/net/udp") as f:
        for line in f.readlines()[1:]:
            v = line.split()
            if int(v[1].split(":")[1], 16) == port:
                out.append((int(v[-1]), int(v[4].split(":")[1], 16)))
    return out


def udp_drops(port):
    return sum(d for d, _ in udp_sockets(port))


def snmp_udp():
    """The Udp: counters of /proc/net/snmp (InDatagrams, RcvbufErrors...)."""
    try:
        with open("/proc/net/snmp") as f:
            rows = [l.split() for l in f if l.startswith("Udp:")]
        return dict(zip(rows[0][1:], (int(x) for x in rows[1][1:])))
    except (OSError, IndexError, ValueError):
        return {}


def schedstat(pid):
    """CPU seconds of every thread of pid (scheduler's ns count) or None."""
    run = 0
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                run += int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return run / 1e9


def ctx_switches(pids):
    """(voluntary, involuntary) context switches summed over pids: a
    voluntary one is a wait for work (epoll with nothing to read), so
    datagrams per voluntary switch tells how full the batches were."""
    vol = inv = 0
    for p in pids:
        try:
            with open("/proc/%d/status" % p) as f:
                for line in f:
                    if line.startswith("voluntary_ctxt_switches"):
                        vol += int(line.split()[1])
                    elif line.startswith("nonvoluntary_ctxt_switches"):
                        inv += int(line.split()[1])
        except (OSError, ValueError, IndexError):
            pass
    return vol, inv


def tree_cpu(pids):
    """{"stat": utime+stime, "sched": schedstat or None} summed over pids."""
    ticks, exact = 0.0, 0.0
    for p in pids:
        st = proc_stat(p)
        if st:
            ticks += st[1]
            s = schedstat(p)
            exact = None if s is None or exact is None else exact + s
    return {"stat": ticks, "sched": exact}


# ---- processes ----------------------------------------------------------

def cores():
    n = len(os.sched_getaffinity(0))
    return (PROXY_CORE, LOAD_CORE) if n >= 2 else (None, None)


def pinned(core, nice=0):
    """preexec_fn: pin the child to one core and, if allowed, raise its
    priority, so that other programs on a shared machine (nice 0) take
    little of the measured core."""
    def pin():
        if core is not None:
            os.sched_setaffinity(0, {core})
        if nice:
            # With autogroup scheduling (Linux's default for desktops and
            # this VM) nice only counts inside one session: a session of
            # its own, given the same nice, makes it count against the
            # other sessions' programs too.
            try:
                os.setsid()
                with open("/proc/self/autogroup", "w") as f:
                    f.write(str(nice))
            except OSError:
                pass
            try:
                os.setpriority(os.PRIO_PROCESS, 0, nice)
            except OSError:
                pass
    return pin


def stop_proc(proc, sig=signal.SIGTERM, timeout=8.0):
    """Stop a child we started, by its pid, then its leftover children."""
    return stop_tree(proc, sig, timeout)


class Sipp:
    """A sipp running tests/e2e/sipp/uac_rr.xml or uas_rr.xml."""

    def __init__(self, d, role, port, core, remote=None, args=()):
        os.makedirs(d, exist_ok=True)
        self.dir, self.role = d, role
        self.stat = os.path.join(d, "stat.csv")
        xml = os.path.join(ROOT, "tests", "e2e", "sipp", role + "_rr.xml")
        cmd = [SIPP, "-sf", xml, "-i", IP, "-p", str(port), "-t", "u1",
               "-nostdin", "-s", "100", "-trace_stat", "-stf", self.stat,
               "-fd", "1", "-trace_err", "-error_file",
               os.path.join(d, "errors.log"), "-buff_size", str(1 << 20)]
        cmd += [str(a) for a in args]
        if remote:
            cmd.append("%s:%d" % (IP, remote))
        self.out = open(os.path.join(d, "screen.log"), "wb")
        self.proc = subprocess.Popen(cmd, cwd=d, stdout=self.out,
                                     stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL,
                                     preexec_fn=pinned(core, NICE))

    def wait(self, timeout):
        try:
            self.proc.wait(timeout=max(timeout, 0.1))
        except subprocess.TimeoutExpired:
            pass
        return self.stop()

    def stop(self):
        """SIGUSR1 is sipp's 'quit'; then SIGTERM, SIGKILL."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGUSR1)
            try:
                self.proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                stop_proc(self.proc, signal.SIGTERM, timeout=3)
        if not self.out.closed:
            self.out.close()
        return self.proc.returncode

    def counts(self):
        try:
            with open(self.stat, errors="replace") as f:
                lines = [l for l in f.read().splitlines() if l.strip()]
        except OSError:
            return None
        if len(lines) < 2:
            return None
        s = dict(zip(lines[0].split(";"), lines[-1].split(";")))

        def n(k):
            try:
                return int(s.get(k, "0") or 0)
            except ValueError:
                return 0

        def ms(k):      # "HH:MM:SS:uuuuuu" (sipp 3.6) -> milliseconds
            try:
                h, m, sec, us = (int(x) for x in s[k].split(":"))
                return round(((h * 60 + m) * 60 + sec) * 1e3 + us / 1e3, 1)
            except (KeyError, ValueError):
                return None
        # ResponseTimeRepartition1: INVITE to 200 OK, in ms buckets
        # (uac_rr.xml: 10 ... 200); the last one counts ">= 200".
        slow = [k for k in s if k.startswith("ResponseTimeRepartition1_>=")]
        return {"created": n("TotalCallCreated"), "ok": n("SuccessfulCall(C)"),
                "setup_slow_200ms": n(slow[0]) if slow else None,
                "failed": n("FailedCall(C)"), "current": n("CurrentCall"),
                "retransmissions": n("Retransmissions(C)"),
                "setup_ms_avg": ms("ResponseTime1(C)"),
                "setup_ms_stdev": ms("ResponseTime1StDev(C)")}


class Proxy:
    name = "?"

    def __init__(self, workdir, ports):
        self.dir = os.path.join(workdir, self.name)
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        self.ports = ports
        self.proc = None
        self.logf = None

    def command(self):
        raise NotImplementedError

    def ready(self):
        return all(udp_sockets(self.ports[k]) for k in ("untrusted",
                                                         "trusted"))

    def start(self, core):
        cmd = self.command()
        self.logf = open(os.path.join(self.dir, "proxy.log"), "ab")
        self.proc = subprocess.Popen(cmd, cwd=self.dir, stdout=self.logf,
                                     stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL,
                                     preexec_fn=pinned(core, NICE))
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited with %s: %s" % (
                    self.name, self.proc.returncode, self.log_tail()))
            if self.ready():
                time.sleep(0.5)         # Kamailio still forking workers
                return
            time.sleep(0.05)
        raise RuntimeError("%s did not start: %s" % (self.name,
                                                     self.log_tail()))

    def pids(self):
        return process_tree(self.proc.pid) if self.proc else []

    def stop(self):
        stop_proc(self.proc)
        self.proc = None
        if self.logf:
            self.logf.close()
            self.logf = None

    def log_tail(self, n=8):
        lines = log_lines(os.path.join(self.dir, "proxy.log"))
        return " | ".join(lines[-n:])

    def log_count(self, needle):
        return sum(line.count(needle) for line in
                   log_lines(os.path.join(self.dir, "proxy.log")))

    def version(self):
        return "?"

    def prepare(self):
        """Before the flood (sipguard: the ban).  Returns notes."""
        return {}

    def counters(self):
        """The proxy's own counters, or {}."""
        return {}


SIPGUARD_YAML = """\
# Written by bench/gate_flood.py for `make bench-gate`.
log:
  level: warn
  events_file: "%(events)s"
guard:
  control_socket: %(ctl)s
zones:
  - name: outside
    trust: untrusted
    listen:
      - udp:%(ip)s:%(untrusted)d
    route:
      backends:
        - udp:%(ip)s:%(uas)d
  - name: inside
    trust: trusted
    listen:
      - udp:%(ip)s:%(trusted)d
"""


class Sipguard(Proxy):
    def __init__(self, workdir, ports, binary, ctl_bin, ban, events=True):
        self.name = "sipguard" if ban else "sipguard-rate"
        super().__init__(workdir, ports)
        self.binary, self.ctl_bin, self.ban = binary, ctl_bin, ban
        self.ctl = os.path.join(self.dir, "ctl.sock")
        self.cfg = os.path.join(self.dir, "sipguard.yaml")
        with open(self.cfg, "w") as f:
            f.write(SIPGUARD_YAML % {
                "ip": IP, "untrusted": ports["untrusted"],
                "trusted": ports["trusted"], "uas": ports["uas"],
                "ctl": self.ctl,
                "events": os.path.join(self.dir, "events.jsonl")
                if events else ""})

    def command(self):
        if not os.access(self.binary, os.X_OK):
            raise RuntimeError("no sipguard binary at " + self.binary)
        return [self.binary, "-c", self.cfg]

    def ready(self):
        return super().ready() and os.path.exists(self.ctl)

    def version(self):
        return version_line([self.binary, "-V"])

    def ctlcmd(self, *args):
        r = subprocess.run([self.ctl_bin, "-s", self.ctl, "--json"] +
                           list(args), capture_output=True, text=True,
                           timeout=10)
        if r.returncode != 0:
            raise RuntimeError("sipguardctl %s: %s" % (
                " ".join(args), (r.stderr or r.stdout).strip()))
        return json.loads(r.stdout) if r.stdout.strip() else {}

    def prepare(self):
        if not self.ban:
            return {}
        self.ctlcmd("ban", ATTACKER, "--for", "3600", "--reason",
                    "bench-gate flood")
        bans = self.ctlcmd("bans").get("bans", [])
        return {"bans_before_flood": bans}

    def counters(self):
        try:
            return self.ctlcmd("stats").get("stats", {})
        except (RuntimeError, OSError, ValueError,
                subprocess.SubprocessError) as e:
            return {"error": str(e)}


class Kamailio(Proxy):
    def __init__(self, workdir, ports, pkg_mem=""):
        self.name = "kamailio-" + pkg_mem if pkg_mem else "kamailio"
        super().__init__(workdir, ports)
        self.pkg_mem = pkg_mem
        with open(os.path.join(HERE, "kamailio_pike.cfg")) as f:
            cfg = f.read() % {
                "ip": IP, "port_untrusted": ports["untrusted"],
                "port_trusted": ports["trusted"],
                "backend": "%s:%d" % (IP, ports["uas"])}
        self.cfg = os.path.join(self.dir, "kamailio.cfg")
        with open(self.cfg, "w") as f:
            f.write(cfg)

    def command(self):
        if not os.access(KAMAILIO, os.X_OK):
            raise RuntimeError("no Kamailio at " + KAMAILIO +
                               " (Debian package kamailio)")
        cmd = [KAMAILIO, "-DD", "-E", "-f", self.cfg,
               "-P", os.path.join(self.dir, "kamailio.pid"),
               "-Y", self.dir, "-w", self.dir]
        if self.pkg_mem:
            cmd += ["-X", self.pkg_mem]
        return cmd

    def version(self):
        return version_line([KAMAILIO, "-v"], first_line=True)

    def counters(self):
        return {"pike_alerts": self.log_count("pike blocking")}


# ---- one phase ----------------------------------------------------------

def run_flooder(o, port, core, seconds):
    cmd = [o.flooder, "--src", ATTACKER, "--dst", IP, "--port", str(port),
           "--seconds", str(seconds), "--count", str(o.max_packets),
           "--gso", str(o.gso)]
    if o.flood_rate:
        cmd += ["--rate", str(o.flood_rate)]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL,
                            preexec_fn=pinned(core, NICE))


def phase(proxy, o, workdir):
    """Start the UAS and proxy, check one call, flood while the UAC calls,
    measure; always stops what it started.  Returns the result dict."""
    core_proxy, core_load = cores()
    ports = proxy.ports
    res = {"proxy": proxy.name, "version": proxy.version(), "error": None}
    uas = uac = flood = None
    try:
        uas = Sipp(os.path.join(proxy.dir, "uas"), "uas", ports["uas"],
                   core_load)
        proxy.start(core_proxy)
        # One call before the flood: the set-up works at all.
        chk = Sipp(os.path.join(proxy.dir, "check"), "uac", ports["uac"],
                   core_load, ports["untrusted"],
                   ["-m", "1", "-recv_timeout", "3000"])
        chk.wait(6)
        c = chk.counts() or {}
        if c.get("ok") != 1:
            raise RuntimeError("a call without flood failed (%s); see %s" %
                               (c, chk.dir))
        res["prepare"] = proxy.prepare()
        ncalls = max(1, int(o.call_rate * max(o.seconds - 1.5, 1)))
        pids = proxy.pids()
        st0 = proxy.counters()
        drops0 = udp_drops(ports["untrusted"])
        snmp0 = snmp_udp()
        cpu0 = tree_cpu(pids)
        cs0 = ctx_switches(pids)
        ct0 = core_times()
        t0 = time.monotonic()
        flood = run_flooder(o, ports["untrusted"], core_load, o.seconds)
        time.sleep(0.5)
        uac = Sipp(os.path.join(proxy.dir, "uac"), "uac", ports["uac"],
                   core_load, ports["untrusted"],
                   ["-r", str(o.call_rate), "-m", str(ncalls),
                    "-recv_timeout", str(RECV_TIMEOUT_MS)])
        try:
            fout, ferr = flood.communicate(timeout=o.seconds + 10)
        except subprocess.TimeoutExpired:
            stop_proc(flood)
            fout, ferr = flood.communicate()
        t_flood = time.monotonic() - t0
        time.sleep(DRAIN_S)
        cpu1 = tree_cpu(pids)
        cs1 = ctx_switches(pids)
        ct1 = core_times()
        drops1 = udp_drops(ports["untrusted"])
        snmp1 = snmp_udp()
        st1 = proxy.counters()
        try:
            fl = json.loads(fout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            raise RuntimeError("flooder said nothing: %s" % ferr.strip())
        uac.wait(UAC_TAIL_S)
        calls = uac.counts() or {}
        res.update(measure(proxy, fl, t_flood, cpu0, cpu1, st0, st1,
                           drops1 - drops0, snmp0, snmp1,
                           core_busy(ct0, ct1, core_proxy),
                           core_busy(ct0, ct1, core_load), calls, ncalls,
                           (cs1[0] - cs0[0], cs1[1] - cs0[1])))
    except (RuntimeError, OSError, subprocess.SubprocessError) as e:
        res["error"] = str(e)
        log("%s: n/a: %s" % (proxy.name, e))
    finally:
        for p in (uac, uas):
            if p:
                p.stop()
        if flood and flood.poll() is None:
            stop_proc(flood)
        proxy.stop()
    return res


def delta(a, b, k):
    try:
        return int(b[k]) - int(a[k])
    except (KeyError, ValueError, TypeError):
        return None


def measure(proxy, fl, t_flood, cpu0, cpu1, st0, st1, kdrops, snmp0, snmp1,
            busy_proxy, busy_load, calls, ncalls, switches):
    sent = fl.get("sent", 0)
    cpu_stat = cpu1["stat"] - cpu0["stat"]
    cpu_sched = (cpu1["sched"] - cpu0["sched"]
                 if cpu1["sched"] is not None and cpu0["sched"] is not None
                 else None)
    cpu = cpu_sched if cpu_sched else cpu_stat
    delivered = max(sent - kdrops, 0)
    m = {"flood": fl, "flood_wall_s": round(t_flood, 3),
         "kernel_drops": kdrops,
         "kernel_drop_share": round(kdrops / sent, 4) if sent else None,
         "delivered_to_proxy": delivered,
         "udp_rcvbuf_errors": delta(snmp0, snmp1, "RcvbufErrors"),
         "cpu_s_stat": round(cpu_stat, 3),
         "cpu_s_sched": round(cpu_sched, 4) if cpu_sched else None,
         "proxy_core_busy": busy_proxy, "load_core_busy": busy_load,
         "counters_before": st0, "counters_after": st1}
    if proxy.name.startswith("sipguard"):
        banned = delta(st0, st1, "gate.drop_banned") or 0
        rate = delta(st0, st1, "gate.drop_rate") or 0
        drops = banned + rate
        m.update({"gate_drop_banned": banned, "gate_drop_rate": rate,
                  "gate_checked": delta(st0, st1, "gate.checked"),
                  "gate_passed": (delta(st0, st1, "gate.checked") or 0) -
                  drops, "bans_total": st1.get("gate.bans_total")})
        m["drop_source"] = "gate.drop_banned + gate.drop_rate (sipguardctl)"
    else:
        # Kamailio counts nothing for the recipe's silent exit: what it
        # read from the socket is what reached its script, all but the
        # first few (before pike tripped) dropped by the ipban check.
        drops = delivered
        m["drop_source"] = "datagrams read = sent - kernel drops"
    m["drops"] = drops
    m["waits"], m["preemptions"] = switches
    m["drops_per_wait"] = round(drops / switches[0], 1) if switches[0] \
        else None
    m["drops_per_cpu_s"] = round(drops / cpu) if cpu > 0 else None
    m["ns_per_drop"] = round(cpu * 1e9 / drops, 1) if drops else None
    m["drops_per_wall_s"] = round(drops / t_flood) if t_flood else None
    created = calls.get("created", 0)
    ok = calls.get("ok", 0)
    m["calls"] = calls
    m["calls_planned"] = ncalls
    # Every planned call counts: one never placed or still running at
    # the end is a failure.
    m["success"] = round(ok / max(created, ncalls), 5) if calls else None
    slow = calls.get("setup_slow_200ms")
    m["setup_within_200ms"] = (round(1 - slow / ok, 4)
                               if ok and slow is not None else None)
    # What else ran on the proxy's core (other people's work on a shared
    # machine): its busy share less the proxy's own.
    if busy_proxy is not None and t_flood:
        m["other_load_on_proxy_core"] = round(
            max(busy_proxy - cpu / (t_flood + DRAIN_S), 0), 3)
    log("%s: sent %d in %.1fs (%.0f/s), drops %d, kernel drops %d, "
        "CPU %.2fs -> %s drops/CPU-s; calls %d/%d ok" % (
            proxy.name, sent, t_flood, sent / t_flood if t_flood else 0,
            drops, kdrops, cpu, m["drops_per_cpu_s"], ok, max(created,
                                                             ncalls)))
    return m


# ---- report -------------------------------------------------------------

def fmt(v, kind):
    if v is None:
        return "n/a"
    if kind == "int":
        return "{:,}".format(int(v))
    if kind == "pct":
        return "%.2f %%" % (v * 100)
    if kind == "ns":
        return "%.0f ns" % v
    if kind == "ms":        # sipp's resolution is 1 ms
        return "< 1" if v < 1 else "%.0f" % v
    return str(v)


def table(results, order):
    cols = [results.get(n) or {} for n in order]
    sg = results.get("sipguard") or {}

    def g(r, k):
        return r.get(k) if r and not r.get("error") else None

    def calls(r, k):
        c = g(r, "calls")
        return c.get(k) if c else None

    def row(name, get, kind, target="", verdict=""):
        return (name, [fmt(get(r), kind) for r in cols], target, verdict)

    def judge(v, limit):
        return "n/a" if v is None else ("pass" if v >= limit else "FAIL")
    dps, succ = g(sg, "drops_per_cpu_s"), g(sg, "success")
    rows = [
        row("flood offered (datagrams/s, wall)",
            lambda r: g(r, "flood") and g(r, "flood")["pps"], "int"),
        row("drops per CPU-second (one core)",
            lambda r: g(r, "drops_per_cpu_s"), "int", ">= 1,000,000",
            judge(dps, TARGET_DROPS_PER_CORE)),
        row("CPU per dropped datagram", lambda r: g(r, "ns_per_drop"), "ns"),
        row("drops per wall-clock second",
            lambda r: g(r, "drops_per_wall_s"), "int"),
        row("datagrams per wait (batching)",
            lambda r: g(r, "drops_per_wait"), ""),
        row("proxy core busy", lambda r: g(r, "proxy_core_busy"), "pct"),
        row("other programs on the proxy core",
            lambda r: g(r, "other_load_on_proxy_core"), "pct"),
        row("kernel drops (proxy socket full)",
            lambda r: g(r, "kernel_drop_share"), "pct"),
        row("legitimate calls ok under flood", lambda r: g(r, "success"),
            "pct", ">= 99.90 %", judge(succ, TARGET_SUCCESS)),
        row("legitimate calls set up in < 200 ms",
            lambda r: g(r, "setup_within_200ms"), "pct"),
        row("legitimate call retransmissions",
            lambda r: calls(r, "retransmissions"), "int"),
        row("legitimate call set-up, avg ms",
            lambda r: calls(r, "setup_ms_avg"), "ms"),
    ]
    head = ["metric"] + list(order) + ["target", "result"]
    w = [36] + [14] * len(order) + [13, 6]
    lines = ["  ".join(h.ljust(w[i]) for i, h in enumerate(head)),
             "  ".join("-" * x for x in w)]
    for name, vals, target, verdict in rows:
        cells = [name] + vals + [target, verdict]
        lines.append("  ".join(str(c).ljust(w[i])
                               for i, c in enumerate(cells)).rstrip())
    verdict = {r[0]: r[3] for r in rows}
    kam = {n: g(results.get(n), "success") for n in order
           if n.startswith("kamailio")}
    verdicts = {"drops_per_core": verdict["drops per CPU-second (one core)"],
                "legit_success": verdict["legitimate calls ok under flood"],
                "kamailio_success_below_target": {
                    n: None if v is None else v < TARGET_SUCCESS
                    for n, v in kam.items()}}
    return "\n".join(lines), verdicts


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return f.read().split()[0]
    except OSError:
        return "?"


def options():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    p.add_argument("--sipguard", default=os.path.join(
        ROOT, "build", "release", "sipguard"))
    p.add_argument("--sipguardctl", default=os.path.join(
        ROOT, "build", "release", "sipguardctl"))
    p.add_argument("--flooder", default=os.path.join(
        ROOT, "build", "release", "bench", "gate_flood"))
    p.add_argument("--seconds", type=float, default=10.0,
                   help="flood length per phase (default 10)")
    p.add_argument("--call-rate", type=int, default=5,
                   help="legitimate calls/s (default 5)")
    p.add_argument("--flood-rate", type=int, default=0,
                   help="flood datagrams/s, 0: as fast as one core can")
    p.add_argument("--gso", type=int, default=32,
                   help="datagrams per UDP GSO send, 0: plain sendmmsg")
    p.add_argument("--no-events", action="store_true",
                   help="run sipguard without its event log (shows what "
                   "logging the drops costs)")
    p.add_argument("--max-packets", type=int, default=100000000)
    p.add_argument("--only", default=",".join(PHASES),
                   help="phases to run, comma-separated")
    p.add_argument("--out", default=os.path.join(HERE, "out"))
    p.add_argument("--strict", action="store_true",
                   help="exit 1 unless every target passes")
    o = p.parse_args()
    if not (0 < o.seconds <= 60) or not (0 < o.call_rate <= 1000):
        p.error("--seconds in (0, 60], --call-rate in (0, 1000]")
    return o


def make_proxy(name, o, workdir):
    ports = {k: free_udp_port() for k in ("untrusted", "trusted", "uas",
                                          "uac")}
    if name == "kamailio":
        return Kamailio(workdir, ports)
    if name == "kamailio-tlsf":
        return Kamailio(workdir, ports, "tlsf")
    return Sipguard(workdir, ports, o.sipguard, o.sipguardctl,
                    ban=(name == "sipguard"), events=not o.no_events)


def main():
    o = options()
    o.sipguard, o.sipguardctl, o.flooder = (
        os.path.abspath(x) for x in (o.sipguard, o.sipguardctl, o.flooder))
    workdir = os.path.join(o.out, "gate-logs")
    os.makedirs(workdir, exist_ok=True)
    t_start = time.monotonic()
    results, notes = {}, []
    if not os.access(SIPP, os.X_OK):
        notes.append("no sipp at %s (Debian package sip-tester)" % SIPP)
    if not os.access(o.flooder, os.X_OK):
        notes.append("no flooder at %s (make bench-gate builds it)" %
                     o.flooder)
    if cores() == (None, None):
        notes.append("one core only: nothing pinned, figures shared")
    for name in [x.strip() for x in o.only.split(",") if x.strip()]:
        if name not in PHASES:
            notes.append("unknown phase " + name)
            continue
        if notes and any(n.startswith(("no sipp", "no flooder"))
                         for n in notes):
            results[name] = {"proxy": name, "error": "; ".join(notes)}
            continue
        log("phase %s: flood %.0fs from %s, %d calls/s from %s "
            "(load average %s)" % (name, o.seconds, ATTACKER, o.call_rate,
                                   IP, loadavg()))
        try:
            proxy = make_proxy(name, o, workdir)
        except (OSError, KeyError, ValueError) as e:
            results[name] = {"proxy": name, "error": str(e)}
            continue
        results[name] = phase(proxy, o, workdir)
        other = results[name].get("other_load_on_proxy_core")
        if other and other > 0.1:
            notes.append("%s: other programs took %.0f %% of the proxy's "
                         "core during the flood (shared machine): wall-clock "
                         "rates, kernel drops and calls are worse than on "
                         "an idle core, the per-CPU-second figure somewhat "
                         "(more wake-ups, colder caches)" % (name,
                                                             other * 100))
    text, verdicts = table(results, [n for n in PHASES if n in results])
    print()
    print(text)
    for n in notes:
        print("note: " + n)
    for name, r in results.items():
        if r.get("error"):
            print("note: %s n/a: %s" % (name, r["error"]))
    out = {"bench": "gate-flood", "attacker": ATTACKER, "caller": IP,
           "seconds": o.seconds, "call_rate": o.call_rate, "gso": o.gso,
           "flood_rate": o.flood_rate, "cores": {"proxy": PROXY_CORE,
                                                 "load": LOAD_CORE},
           "targets": {"drops_per_cpu_s": TARGET_DROPS_PER_CORE,
                       "legit_success": TARGET_SUCCESS},
           "verdicts": verdicts, "notes": notes, "results": results,
           "elapsed_s": round(time.monotonic() - t_start, 1)}
    path = os.path.join(o.out, "gate.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=2)
    print("wrote %s (%.0f s)" % (os.path.relpath(path, ROOT),
                                 out["elapsed_s"]))
    if o.strict and not (verdicts["drops_per_core"] == "pass" and
                         verdicts["legit_success"] == "pass"):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
