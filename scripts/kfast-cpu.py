#!/usr/bin/python3
"""
CPU per relayed RTP packet with and without the media relay's kernel
fast path (media.kernel, issue 6).  Not a test: a measurement to run by
hand, as root (it runs in its own network namespace, like
bench/bench_media.py, whose call set-up and generator it reuses):

    make && make build/release/bench/media_load
    scripts/kfast-cpu.py [CALLS] [PPS] [SECONDS] [RUNS]

For each of media.kernel off, on and "unlisted" (loaded, but
media.kernel_interfaces leaves loopback out: attached nowhere): one
sipguard (io: uring, relay on
core 1), CALLS calls set up through its signalling, a 1 s warm-up (the
first packet of each direction goes through the relay, which then
installs it in the kernel), then RUNS generator runs (core 0) of PPS
packets/s for SECONDS.  Reported per run: packets relayed, sipguard's
own CPU, the whole machine's busy CPU (/proc/stat, every core), and
the packets' path: sipguard's CPU + the generator's system time (its
syscalls and the softirq work they run inline: with tick accounting
that is charged to the task) + the ksoftirqd threads.  With the kernel
path the relaying runs in softirq context on the sending core (the
generator's), not in sipguard's process, so sipguard's own CPU says
nothing about it.  The whole-machine figure also counts the
generator's busy-wait pacing (media_load spins between batches: a full
core at any rate) and whatever else runs on the machine; the path
figure leaves out the generator's user time, the same in both modes.
Medians of RUNS; run it on a quiet machine.
"""
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "bench"))

import bench_media as bm  # noqa: E402
from common import netns_or_reexec, stop  # noqa: E402


def machine_busy():
    """Busy and total jiffies of the whole machine (/proc/stat cpu)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    return sum(v) - v[3] - v[4], sum(v)


def ksoftirqd_s():
    """CPU time of the ksoftirqd threads (softirq work deferred out of
    the sender's context)."""
    t = 0.0
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/comm" % d) as f:
                if not f.read().startswith("ksoftirqd/"):
                    continue
            t += bm.cpu_s(int(d))
        except OSError:
            pass
    return t


def children_sys_s():
    """System time of our finished children: the generator's syscalls,
    with the softirq work they run inline (tick accounting charges it
    to the task).  Its user time (packet building, busy-wait pacing)
    is left out: it is the same with and without the kernel path."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_stime


STATS = "/proc/sys/kernel/bpf_stats_enabled"


def prog_stats(pid):
    """(run_time_ns, run_cnt) of the BPF programs pid holds (fdinfo of
    its program descriptors; counted while bpf_stats_enabled is 1)."""
    ns = cnt = 0
    d = "/proc/%d/fdinfo" % pid
    for fd in os.listdir(d):
        try:
            with open(os.path.join(d, fd)) as f:
                info = dict(ln.split(":", 1) for ln in f if ":" in ln)
        except OSError:
            continue
        if "prog_tag" in info and "run_cnt" in info:
            ns += int(info["run_time_ns"])
            cnt += int(info["run_cnt"])
    return ns, cnt


# media.kernel as each mode sets it; unlisted: loaded but attached
# nowhere (media.kernel_interfaces leaves loopback out), so the relay
# carries every packet: what media on a left-out interface costs.
MODES = {"off": "off", "on": "on",
         "unlisted": 'auto\n  kernel_interfaces: [ "sgnone*" ]'}


def one_mode(kernel, calls, pps, secs, runs, tmp, load):
    conf = os.path.join(tmp, "sg-%s.yaml" % kernel)
    text = bm.SG_CONF % {"pmin": 2000, "pmax": 44999, "out": bm.SG_OUT,
                         "inn": bm.SG_IN, "uas": bm.UAS, "io": "uring",
                         "threads": 1, "kernel": MODES[kernel]}
    with open(conf, "w") as f:
        f.write(text)
    logp = os.path.join(tmp, "sg-%s.log" % kernel)
    log = open(logp, "wb")
    p = subprocess.Popen(["taskset", "-c", bm.RELAY_CORE,
                          os.path.join(ROOT, "build/release/sipguard"),
                          "-c", conf], stdout=log, stderr=subprocess.STDOUT,
                         preexec_fn=bm.raise_nofile)
    res = []
    try:
        time.sleep(1.0)
        ports = bm.setup_calls(calls)
        time.sleep(2.0)
        targets = os.path.join(tmp, "targets-%s" % kernel)
        with open(targets, "w") as f:
            for a, b in ports:
                f.write("127.0.0.1 %d 127.0.0.2 %d\n" % (a, b))
        bm.run_gen(load, targets, min(pps, 20000), 1)     # warm-up
        for _ in range(runs):
            m0, c0 = machine_busy(), bm.cpu_s(p.pid)
            g0, s0 = children_sys_s(), ksoftirqd_s()
            b0 = prog_stats(p.pid)
            n = bm.run_gen(load, targets, pps, secs)
            m1, c1 = machine_busy(), bm.cpu_s(p.pid)
            g1, s1 = children_sys_s(), ksoftirqd_s()
            b1 = prog_stats(p.pid)
            busy_s = (m1[0] - m0[0]) / os.sysconf("SC_CLK_TCK")
            got = max(n["received"], 1)
            res.append({"calls": len(ports), "sent": n["sent"],
                        "received": n["received"],
                        "sg_us_per_pkt": (c1 - c0) * 1e6 / got,
                        # relay + generator's kernel time + ksoftirqd:
                        # the packets' path, without the generator's
                        # busy-wait
                        "path_us_per_pkt": ((c1 - c0) + (g1 - g0) +
                                            (s1 - s0)) * 1e6 / got,
                        "machine_us_per_pkt": busy_s * 1e6 / got,
                        # the program itself, per datagram it saw on lo
                        "bpf_ns_per_run": (b1[0] - b0[0]) /
                        max(b1[1] - b0[1], 1),
                        "bpf_runs": b1[1] - b0[1]})
    finally:
        stop(p)
        log.close()
    with open(logp, errors="replace") as f:
        for ln in f:
            if "kernel path" in ln:
                print("  sipguard: " + ln.strip())
    return res


def main():
    netns_or_reexec()
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    pps = int(sys.argv[2]) if len(sys.argv) > 2 else 100000
    secs = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    runs = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    load = os.path.join(ROOT, "build/release/bench/media_load")
    bm.raise_nofile()
    out = {}
    with open(STATS) as f:
        stats_was = f.read().strip()
    with open(STATS, "w") as f:
        f.write("1")
    try:
        run_modes(out, calls, pps, secs, runs, load)
    finally:
        with open(STATS, "w") as f:
            f.write(stats_was)
    off, on, ul = out["off"], out["on"], out["unlisted"]
    for k, what in (("machine_us_per_pkt", "whole machine"),
                    ("path_us_per_pkt", "path (sipguard + generator's "
                     "kernel time + ksoftirqd)"),
                    ("sg_us_per_pkt", "sipguard process")):
        print("median CPU per relayed packet, %s: off %.2f us, on %.2f us,"
              " unlisted %.2f us" % (what, off[k], on[k], ul[k]))
    print("median BPF program time per datagram it saw: %.0f ns (kernel "
          "on)" % on["bpf_ns_per_run"])


def run_modes(out, calls, pps, secs, runs, load):
    with tempfile.TemporaryDirectory(prefix="kfast-cpu-") as tmp:
        for kernel in MODES:
            print("media.kernel: %s" % kernel)
            r = one_mode(kernel, calls, pps, secs, runs, tmp, load)
            for x in r:
                print("  calls %(calls)d sent %(sent)d received %(received)d"
                      " sipguard %(sg_us_per_pkt).2f us/pkt, path "
                      "%(path_us_per_pkt).2f us/pkt, "
                      "machine %(machine_us_per_pkt).2f us/pkt, BPF "
                      "%(bpf_ns_per_run).0f ns/run over %(bpf_runs)d runs"
                      % x)
            out[kernel] = {k: statistics.median(x[k] for x in r)
                           for k in ("sg_us_per_pkt", "machine_us_per_pkt",
                                     "path_us_per_pkt", "bpf_ns_per_run",
                                     "received")}

if __name__ == "__main__":
    main()
