"""
What the benchmark drivers (bench_proxy.py, gate_flood.py, bench_media.py,
bench_srtp.py, bench_tls.py, bench_store.py) share: reading a process's
CPU time and memory from /proc, a process tree (Kamailio forks its
workers), per-core busy time from /proc/stat, a free UDP port, and
stopping a child by its pid.  Linux only; /proc is read, never written.
"""
import json
import os
import re
import signal
import socket
import subprocess
import sys

CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_udp_port(ip="127.0.0.1"):
    """A UDP port free on ip right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((ip, 0))
        return s.getsockname()[1]


def cpu_s(pid):
    """utime + stime of pid in seconds (raises when it is gone)."""
    with open("/proc/%d/stat" % pid) as f:
        v = f.read().rsplit(")", 1)[1].split()
    return (int(v[11]) + int(v[12])) / CLK_TCK


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def proc_stat(pid):
    """(ppid, utime+stime in seconds) of one process, or None if gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
    except OSError:
        return None
    v = s[s.rindex(")") + 2:].split()
    return int(v[1]), (int(v[11]) + int(v[12])) / CLK_TCK


def process_tree(root):
    """root and all its descendants."""
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            st = proc_stat(int(d))
            if st:
                kids.setdefault(st[0], []).append(int(d))
    tree, todo = [], [root]
    while todo:
        p = todo.pop()
        tree.append(p)
        todo.extend(kids.get(p, []))
    return tree


def core_times():
    """{core: (busy, total)} jiffies from /proc/stat, to see how busy a
    core was in a window, whoever used it."""
    t = {}
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("cpu") and line[3].isdigit():
                v = [int(x) for x in line.split()[1:]]
                idle = v[3] + v[4]          # idle + iowait
                t[int(line[3:line.index(" ")])] = (sum(v[:8]) - idle,
                                                   sum(v[:8]))
    return t


def core_busy(t0, t1, core):
    """Share of time core was busy between two core_times() readings."""
    if core is None or core not in t0 or core not in t1:
        return None
    busy = t1[core][0] - t0[core][0]
    total = t1[core][1] - t0[core][1]
    return round(busy / total, 3) if total else None


def stop(proc, sig=signal.SIGTERM, timeout=10):
    """Stop one child by its pid: sig, then SIGKILL after timeout."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def stop_tree(proc, sig=signal.SIGTERM, timeout=10.0, tree=None):
    """Stop one child we started, by its pid (sig, then SIGKILL after
    timeout); then any of its descendants that outlived it (tree: its
    process_tree, read now unless given)."""
    if proc is None:
        return None
    if tree is None:
        tree = process_tree(proc.pid)
    stop(proc, sig, timeout)
    for p in tree[1:]:          # a worker that outlived its parent
        if proc_stat(p) is not None:
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass
    return proc.returncode


def version_line(argv, first_line=False):
    """What `argv` (a program's version option) prints, stripped; "?"
    when it cannot run.  first_line: Kamailio's "version: " line only."""
    try:
        out = subprocess.run(argv, capture_output=True, text=True,
                             timeout=5).stdout
        if first_line:
            return out.splitlines()[0].replace("version: ", "").strip()
        return out.strip()
    except (OSError, subprocess.SubprocessError, IndexError):
        return "?"


def log_lines(path):
    """The lines of a log file (bytes decoded leniently), [] if none."""
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return []


def netns_or_reexec():
    """Whether this run has a network namespace of its own: unless
    BENCH_NETNS=0, re-runs this script under `unshare -n` (our own
    loopback: no port of anyone else's is in the way) and exits with its
    status; False when unshare is refused (126) or BENCH_NETNS=0."""
    netns = os.environ.get("BENCH_NETNS", "1") != "0"
    if netns and os.environ.get("BENCH_IN_NETNS") != "1":
        env = dict(os.environ, BENCH_IN_NETNS="1")
        cmd = ["unshare", "-n", "sh", "-c",
               "ip link set lo up && exec \"$0\" \"$@\"",
               sys.executable] + sys.argv
        rc = subprocess.call(cmd, env=env)
        if rc != 126:
            sys.exit(rc)
        netns = False
    return netns


def save_json(name, args, res):
    """bench/out/NAME: the run's knobs and results."""
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "out")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, name), "w") as f:
        json.dump({"args": args, "results": res}, f, indent=1)
