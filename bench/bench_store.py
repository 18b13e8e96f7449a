#!/usr/bin/python3
"""
Store benchmark (issue 9, `make bench-store`, not part of `make test`):
calls per second of ONE sipguard instance with `store: memory` and with
`store: redis` (a redis-server started here), in one run, driven exactly
as bench/bench_proxy.py drives it (sipp UAC -> sipguard -> sipp UAS on
127.0.0.1, proxy and sipp pinned to their cores; its Sipp, Sipguard and
Run classes are reused).  For each backend: CPU per call at a fixed rate
and the highest rate sustained with <= 0.1 % failed calls.  The cost of
the Redis store is computed from CPU per call (capacity of the proxy's
core); the stepped rates are printed beside it (on a shared machine they
are bounded by sipp and other load).  Target: < 20 %.

Ports: 34160-34190 (UDP), Redis on 127.0.0.1:34381.  Every process is
started here and stopped by pid.  Knobs: BENCH_RATES (comma list, default
1000,2000,4000,8000,16000), BENCH_STEP_SECONDS [5], BENCH_CPU_RATE
[500], BENCH_CPU_SECONDS [10], BENCH_TESTS [cpu,rate].
"""
import argparse
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench_proxy as bp  # noqa: E402

REDIS_PORT = 34381
PORTS = {"uac": 34190, "untrusted": 34160, "trusted": 34170, "uas": 34180}
STORE_YAML = """
store:
  backend: %(backend)s
  address: 127.0.0.1:%(port)d
  instance: bench
  key_prefix: "bench:"
"""


class StoreSipguard(bp.Sipguard):
    def __init__(self, workdir, ports, binary, backend):
        self.name = "sipguard-" + backend
        super().__init__(workdir, ports, binary, bp.SG_POOL)
        with open(self.cfg, "a") as f:
            f.write(STORE_YAML % {"backend": backend, "port": REDIS_PORT})


def start_redis(workdir):
    log = open(os.path.join(workdir, "redis.log"), "wb")
    p = subprocess.Popen(["/usr/bin/redis-server", "--port", str(REDIS_PORT),
                          "--bind", "127.0.0.1", "--save", "",
                          "--appendonly", "no"], stdout=log,
                         stderr=subprocess.STDOUT,
                         preexec_fn=bp.pinned(bp.cores()[1]))
    for _ in range(100):
        r = subprocess.run(["redis-cli", "-p", str(REDIS_PORT), "PING"],
                           capture_output=True, text=True)
        if r.stdout.strip() == "PONG":
            return p
        time.sleep(0.05)
    raise SystemExit("redis-server did not start")


def env_list(name, default):
    v = os.environ.get(name)
    return [int(x) for x in v.split(",")] if v else default


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sipguard", default=os.path.join(
        bp.ROOT, "build/release/sipguard"))
    o = ap.parse_args()
    o.rates = env_list("BENCH_RATES", [1000, 2000, 4000, 8000, 16000])
    o.step_seconds = bp.env_int("BENCH_STEP_SECONDS", 5)
    o.cpu_rate = bp.env_int("BENCH_CPU_RATE", 500)
    o.cpu_seconds = bp.env_int("BENCH_CPU_SECONDS", 10)
    o.calls = 1000
    o.hold_rate = 1000
    o.tests = os.environ.get("BENCH_TESTS", "cpu,rate").split(",")
    signal.signal(signal.SIGTERM, lambda s, f: sys.exit(128 + s))
    workdir = os.path.join(HERE, "out", "store-logs")
    os.makedirs(workdir, exist_ok=True)
    redis = start_redis(workdir)
    res = {}
    try:
        for backend in ("memory", "redis"):
            proxy = StoreSipguard(workdir, PORTS, o.sipguard, backend)
            run = bp.Run(proxy, o, workdir, PORTS)
            run.run()
            if run.res["error"]:
                raise SystemExit("%s: %s" % (proxy.name, run.res["error"]))
            # Its heartbeat outlives it by 3 s: it was connected.
            if backend == "redis" and subprocess.run(
                    ["redis-cli", "-p", str(REDIS_PORT), "EXISTS",
                     "bench:inst:bench"], capture_output=True,
                    text=True).stdout.strip() != "1":
                raise SystemExit("sipguard never connected to redis")
            cpu = run.res["cpu"]
            res[backend] = {"max_rate": run.res.get("max_rate", 0),
                            "cpu_ms_per_call": 1000.0 * cpu["cpu_s"] /
                            max(cpu["ok"], 1)}
    finally:
        bp.stop_pid(redis)
    m, r = res["memory"], res["redis"]
    # Throughput of the proxy's one core = 1 / CPU per call.  The stepped
    # max rate is printed too, but on a shared machine it is bounded by
    # sipp and by other load on the proxy's core ("others" in the steps).
    cost = 1 - m["cpu_ms_per_call"] / r["cpu_ms_per_call"]
    print("\nstore backend   CPU ms/call   capacity calls/s/core   "
          "stepped max calls/s")
    for k in ("memory", "redis"):
        print("%-14s  %11.4f   %21.0f   %19d" % (
            k, res[k]["cpu_ms_per_call"], 1000 / res[k]["cpu_ms_per_call"],
            res[k]["max_rate"]))
    print("Redis store cost: %.1f %% of throughput (target < 20 %%) -> %s"
          % (100 * cost, "PASS" if cost < 0.20 else "FAIL"))
    return 0 if cost < 0.20 else 1


if __name__ == "__main__":
    sys.exit(main())
