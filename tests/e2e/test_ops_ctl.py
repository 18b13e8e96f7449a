"""
Issue 8 (operations), end to end: `sipguardctl calls` (live dialogs:
parties, zones, state, duration) and `sipguardctl drain` (new calls get
503, calls in progress finish; off takes calls again).

Ports: 35400-35499 (this helper's range).
"""
import json
import time

from peers import Sipp
from opsconf import base_config, run_ctl

IP = "127.0.0.1"
SG_OUT = 35400
SG_IN = 35410
UAS = 35420
UAC = 35430
UAC2 = 35431


def config(tmp):
    return base_config(tmp, IP, SG_OUT, SG_IN, UAS)


def ctl(tmp, *args, json_out=True):
    r = run_ctl(tmp, args, json_out)
    return r.returncode, r.stdout.decode(), r.stderr.decode()


def wait_calls(tmp, n, state="confirmed", timeout=5):
    deadline = time.time() + timeout
    calls = []
    while time.time() < deadline:
        rc, out, _ = ctl(tmp, "calls")
        assert rc == 0
        calls = json.loads(out)["calls"]
        if sum(1 for c in calls if c["state"] == state) == n:
            break
        time.sleep(0.05)
    return calls


def test_calls_and_drain(sipguard, tmp_path):
    tmp = str(tmp_path)
    sipguard(config(tmp), ready="control socket on")
    rc, out, _ = ctl(tmp, "calls", json_out=False)
    assert rc == 0 and out.strip() == "no calls"
    uas = Sipp("uas_rr.xml", (IP, UAS), calls=0, timeout=60)
    time.sleep(0.3)
    # Three calls that stay up 3 s.
    uac = Sipp("uac_long.xml", (IP, UAC), (IP, SG_OUT), calls=3, rate=20,
               extra=["-d", "3000"], timeout=30)
    calls = wait_calls(tmp, 3)
    assert len(calls) == 3, calls
    for c in calls:
        assert c["caller_addr"] == "%s:%d" % (IP, UAC)
        assert c["callee_addr"] == "%s:%d" % (IP, UAS)
        assert c["caller_zone"] == "internet" and c["callee_zone"] == "pbx"
        assert c["caller"].startswith("sip:") and c["callee"].startswith(
            "sip:bob@")
        assert c["call_id"] and c["duration"] >= 0 and c["talk"] >= 0
    rc, out, _ = ctl(tmp, "calls", json_out=False)
    assert rc == 0
    lines = out.strip().splitlines()
    assert lines[0].split()[:2] == ["CALLER", "FROM"]
    assert len(lines) == 4 and all("confirmed" in l for l in lines[1:])
    assert all("(internet)" in l and "(pbx)" in l for l in lines[1:])
    # Drain while they are up: a new call is refused with 503 ...
    rc, out, _ = ctl(tmp, "drain", json_out=False)
    assert rc == 0 and out.strip() == "ok"
    new = Sipp("uac_rr.xml", (IP, UAC2), (IP, SG_OUT), calls=1,
               timeout=10)
    new.wait(20)
    assert new.stats().get("FailedCall(C)") == "1"
    # ... and the calls in progress end normally.
    assert uac.wait(30) == 0, uac.errors()[-2000:]
    assert uac.stats().get("SuccessfulCall(C)") == "3"
    stats = json.loads(ctl(tmp, "stats")[1])["stats"]
    assert stats["calls.draining"] == 1
    assert stats["calls.drain_refused"] == 1
    assert not [c for c in wait_calls(tmp, 0) if c["state"] == "confirmed"]
    # Drain off: calls are taken again.
    assert ctl(tmp, "drain", "off")[0] == 0
    again = Sipp("uac_rr.xml", (IP, UAC2), (IP, SG_OUT), calls=1,
                 timeout=10)
    assert again.wait(20) == 0, again.errors()[-2000:]
    uas.stop()
    stats = json.loads(ctl(tmp, "stats")[1])["stats"]
    assert stats["calls.draining"] == 0
    # Bad use: refused by the client's own check of the line.
    assert ctl(tmp, "drain", "maybe")[0] != 0
