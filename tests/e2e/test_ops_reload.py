"""
Issue 8 (operations), end to end: reloading the configuration without
dropping calls.  SIGHUP and `sipguardctl reload` load the file anew; a
valid one is swapped in (new calls use it, calls in progress keep
working), an invalid one is refused with the exact error --check-config
prints, and the old one stays.

Ports: 35000-35099 (this helper's range).
"""
import json
import os
import signal
import subprocess
import time

from conftest import BIN, udp_exchange
from peers import Sipp
from opsconf import run_ctl

IP = "127.0.0.1"
SG_OUT = 35000      # untrusted zone
SG_IN = 35010       # trusted zone
UAS1 = 35020
UAS2 = 35021
UAC = 35030


def config(tmp, backend=UAS1, monitor="false", invite_rate=200, extra=""):
    return """
log:
  level: info
  call_records_file: %(tmp)s/cdr.json
guard:
  control_socket: %(tmp)s/ctl.sock
  monitor: %(monitor)s
  rates:
    invite: %(rate)d
zones:
  - name: internet
    trust: untrusted
    listen: [ "udp:%(ip)s:%(out)d" ]
    route:
      backends: [ "udp:%(ip)s:%(be)d" ]
  - name: pbx
    trust: trusted
    listen: [ "udp:%(ip)s:%(inn)d" ]
%(extra)s""" % {"tmp": tmp, "monitor": monitor, "rate": invite_rate,
                "ip": IP, "out": SG_OUT, "inn": SG_IN, "be": backend,
                "extra": extra}


def write(d, text):
    with open(d.conf, "w") as f:
        f.write(text)


def ctl(tmp, *args, json_out=True):
    r = run_ctl(tmp, args, json_out)
    return r.returncode, r.stdout.decode(), r.stderr.decode()


def stats(tmp):
    rc, out, _ = ctl(tmp, "stats")
    assert rc == 0
    return json.loads(out)["stats"]


def global_monitor(tmp):
    rc, out, _ = ctl(tmp, "rules")
    assert rc == 0
    return json.loads(out)["global_monitor"]


def options_ok(port=SG_OUT):
    msg = ("OPTIONS sip:%s:%d SIP/2.0\r\n"
           "Via: SIP/2.0/UDP %s:35040;branch=z9hG4bK-rl%d\r\n"
           "Max-Forwards: 70\r\nFrom: <sip:t@x>;tag=1\r\nTo: <sip:%s>\r\n"
           "Call-ID: rl-%f\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
           % (IP, port, IP, int(time.time() * 1e6), IP, time.time()))
    return udp_exchange((IP, port), msg.encode(), src=(IP, 35040))


def check_config(path):
    r = subprocess.run([BIN, "--check-config", path], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=10)
    return r.returncode, r.stderr.decode().strip()


def test_reload_valid_by_sighup_and_ctl(sipguard, tmp_path):
    tmp = str(tmp_path)
    d = sipguard(config(tmp), ready="control socket on")
    assert global_monitor(tmp) is False
    # SIGHUP: the file now turns monitor mode on.
    write(d, config(tmp, monitor="true"))
    d.proc.send_signal(signal.SIGHUP)
    assert d.wait_log("configuration reloaded")
    assert global_monitor(tmp) is True
    assert stats(tmp)["config.reloads"] == 1
    # sipguardctl reload: and off again; plain output says ok.
    write(d, config(tmp, monitor="false"))
    rc, out, err = ctl(tmp, "reload", json_out=False)
    assert rc == 0, err
    assert out.strip() == "ok"
    assert global_monitor(tmp) is False
    assert stats(tmp)["config.reloads"] == 2


def test_reload_keeps_runtime_monitor_flags(sipguard, tmp_path):
    # A flag set with sipguardctl survives a reload that does not change
    # the monitor options in the file.
    tmp = str(tmp_path)
    d = sipguard(config(tmp), ready="control socket on")
    assert ctl(tmp, "monitor", "rate-invite", "on")[0] == 0
    write(d, config(tmp, invite_rate=150))
    assert ctl(tmp, "reload")[0] == 0
    rules = json.loads(ctl(tmp, "rules")[1])["rules"]
    assert [r["monitor"] for r in rules if r["name"] == "rate-invite"] == \
        [True]


def test_reload_invalid_refused_with_exact_error(sipguard, tmp_path):
    tmp = str(tmp_path)
    d = sipguard(config(tmp), ready="control socket on")
    good = open(d.conf).read()
    # A value out of bounds: the same line --check-config prints.
    write(d, config(tmp, invite_rate=-5))
    rc_chk, want = check_config(d.conf)
    assert rc_chk == 1 and ":" in want
    rc, out, err = ctl(tmp, "reload")
    assert rc != 0
    ans = json.loads(out)
    assert ans["ok"] is False
    assert ans["error"] == want
    # Plain output: the error on stderr, exit status non-zero.
    rc, out, err = ctl(tmp, "reload", json_out=False)
    assert rc != 0 and err.strip() == "sipguardctl: " + want
    # SIGHUP logs it too, and the daemon keeps serving.
    d.proc.send_signal(signal.SIGHUP)
    assert d.wait_log("reload refused, keeping the running configuration: " +
                      want)
    # A YAML syntax error.
    write(d, good.replace("  rates:\n", "  rates: [\n"))
    rc_chk, want = check_config(d.conf)
    assert rc_chk == 1
    rc, out, _ = ctl(tmp, "reload")
    assert rc != 0 and json.loads(out)["error"] == want
    # Options that need a restart: all of them are named.
    write(d, good.replace("udp:%s:%d" % (IP, SG_OUT),
                          "udp:%s:%d" % (IP, SG_OUT + 1))
          .replace("  level: info", "  level: info\n  events_file: %s/ev.json"
                   % tmp))
    rc, out, _ = ctl(tmp, "reload")
    assert rc != 0
    assert json.loads(out)["error"] == (
        "log.events_file, zones[0].listen: cannot change on reload, "
        "restart needed")
    # The old configuration still runs.
    assert stats(tmp)["config.reloads"] == 0
    assert options_ok() is not None
    assert d.proc.poll() is None


def test_reload_under_load_drops_no_call(sipguard, tmp_path):
    """Calls of 2 s at 20/s while the backend is switched from UAS1 to
    UAS2 (and back) by reloads: every call completes (ACK and BYE of the
    calls already up still reach their callee), and new calls go to the
    new backend."""
    tmp = str(tmp_path)
    d = sipguard(config(tmp), ready="control socket on")
    uas1 = Sipp("uas_rr.xml", (IP, UAS1), calls=0, timeout=60)
    uas2 = Sipp("uas_rr.xml", (IP, UAS2), calls=0, timeout=60)
    time.sleep(0.3)
    uac = Sipp("uac_long.xml", (IP, UAC), (IP, SG_OUT), calls=100, rate=20,
               extra=["-d", "2000"], timeout=60)
    reloads = 0
    for i, be in enumerate([UAS2, UAS1, UAS2]):
        time.sleep(1.2)
        write(d, config(tmp, backend=be))
        if i % 2:
            d.proc.send_signal(signal.SIGHUP)
            deadline = time.time() + 3
            while time.time() < deadline and \
                    stats(tmp)["config.reloads"] < reloads + 1:
                time.sleep(0.02)
        else:
            rc, out, err = ctl(tmp, "reload")
            assert rc == 0, out + err
        reloads += 1
        assert stats(tmp)["config.reloads"] == reloads
    rc = uac.wait(60)
    time.sleep(0.3)
    uas1.stop()
    uas2.stop()
    st = uac.stats()
    assert rc == 0, "calls failed:\n" + uac.errors()[-3000:]
    assert st.get("SuccessfulCall(C)") == "100", st
    assert st.get("FailedCall(C)") == "0", st
    s1, s2 = uas1.stats(), uas2.stats()
    got1 = int(s1.get("SuccessfulCall(C)", 0))
    got2 = int(s2.get("SuccessfulCall(C)", 0))
    assert got1 + got2 == 100, (s1, s2)
    assert got1 > 0 and got2 > 0, (got1, got2)
    # The call records agree: 100 calls, all ended by the caller's BYE.
    recs = []
    deadline = time.time() + 3
    while time.time() < deadline and len(recs) < 100:
        p = os.path.join(tmp, "cdr.json")
        recs = [json.loads(l) for l in open(p).read().splitlines()
                if l.strip()] if os.path.exists(p) else []
        time.sleep(0.05)
    assert len(recs) == 100
    assert all(r["end_reason"] == "bye-caller" for r in recs)


def message(size):
    body = "x" * size
    msg = ("MESSAGE sip:bob@%s:%d SIP/2.0\r\n"
           "Via: SIP/2.0/UDP %s:35041;branch=z9hG4bK-im%d\r\n"
           "Max-Forwards: 70\r\nFrom: <sip:alice@example.com>;tag=1\r\n"
           "To: <sip:bob@example.com>\r\nCall-ID: rl-im-%f\r\n"
           "CSeq: 1 MESSAGE\r\nContent-Type: text/plain\r\n"
           "Content-Length: %d\r\n\r\n%s"
           % (IP, SG_OUT, IP, int(time.time() * 1e6), time.time(), size,
              body))
    r = udp_exchange((IP, SG_OUT), msg.encode(), src=(IP, 35041),
                     timeout=0.5)
    return int(r.split(b" ", 2)[1]) if r else None


def test_reload_applies_im_policy(sipguard, tmp_path):
    """guard.im is rebuilt on reload: a smaller max_size refuses a
    MESSAGE the old policy let through."""
    tmp = str(tmp_path)
    d = sipguard(config(tmp), ready="control socket on")
    assert message(2000) != 413          # default max_size 4k: forwarded
    write(d, config(tmp, extra="") .replace(
        "  rates:\n", "  im:\n    max_size: 1k\n  rates:\n"))
    rc, out, err = ctl(tmp, "reload")
    assert rc == 0, out + err
    assert message(2000) == 413
    assert message(500) != 413
