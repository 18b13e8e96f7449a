"""
Issue 8 (operations), end to end: the Prometheus /metrics endpoint after a
known scenario - three calls through sipguard (sipp both sides), one
request from a scanner (refused by the guard) and one malformed message -
read over HTTP while the daemon runs.

Ports: 35100-35199 (this helper's range).
"""
import re
import time
import urllib.error
import urllib.request

from conftest import udp_exchange
from peers import Sipp
from opsconf import base_config

IP = "127.0.0.1"
ATK = "127.0.0.66"
SG_OUT = 35100
SG_IN = 35110
UAS = 35120
UAC = 35130
HTTP = 35190


def config(tmp):
    return base_config(tmp, IP, SG_OUT, SG_IN, UAS) + """ops:
  metrics_listen: "tcp:%(ip)s:%(http)d"
""" % {"ip": IP, "http": HTTP}


def fetch(path="/metrics", method="GET"):
    req = urllib.request.Request("http://%s:%d%s" % (IP, HTTP, path),
                                 method=method)
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, r.headers.get("Content-Type"), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, None, ""


SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? (\S+)$')


def parse(text):
    """{(name, frozenset(labels)): value}; checks the text format."""
    types, out = {}, {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, typ = line.split(" ", 3)
            types[name] = typ
            continue
        if line.startswith("#") or not line:
            continue
        m = SAMPLE.match(line)
        assert m, "bad sample line: %r" % line
        name, labels = m.group(1), m.group(3) or ""
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        assert name in types or base in types, "no TYPE for " + name
        lab = frozenset(tuple(kv.split("=", 1)) for kv in
                        re.findall(r'[a-z_]+="[^"]*"', labels))
        out[(name, lab)] = float(m.group(4))
    return out


def val(samples, name, **labels):
    key = (name, frozenset((k, '"%s"' % v) for k, v in labels.items()))
    return samples[key]


def scanner_options():
    msg = ("OPTIONS sip:%s:%d SIP/2.0\r\n"
           "Via: SIP/2.0/UDP %s:35140;branch=z9hG4bK-met1\r\n"
           "Max-Forwards: 70\r\nFrom: <sip:100@%s>;tag=x\r\n"
           "To: <sip:100@%s>\r\nCall-ID: met-scan-1\r\nCSeq: 1 OPTIONS\r\n"
           "User-Agent: friendly-scanner\r\nContent-Length: 0\r\n\r\n"
           % (IP, SG_OUT, ATK, ATK, IP)).encode()
    return udp_exchange((IP, SG_OUT), msg, src=(ATK, 35140), timeout=0.5)


def test_metrics_after_known_scenario(sipguard, tmp_path):
    d = sipguard(config(str(tmp_path)))
    assert d.wait_log("metrics on http://%s:%d/metrics" % (IP, HTTP))
    st, ctype, text = fetch()
    assert st == 200 and ctype.startswith("text/plain; version=0.0.4")
    s0 = parse(text)
    assert val(s0, "sipguard_sip_requests_total", zone="internet",
               method="INVITE") == 0
    assert val(s0, "sipguard_request_duration_seconds_count") == 0

    uas = Sipp("uas_rr.xml", (IP, UAS), calls=0)
    time.sleep(0.3)
    uac = Sipp("uac_rr.xml", (IP, UAC), (IP, SG_OUT), calls=3, rate=10)
    assert uac.wait(30) == 0, uac.errors()[-2000:]
    time.sleep(0.3)
    uas.stop()
    # A scanner: dropped silently, its rule counted.
    assert scanner_options() is None
    # Garbage: a parse error in the untrusted zone.
    udp_exchange((IP, SG_OUT), b"NOT SIP AT ALL\r\n\r\n", src=(IP, 35141),
                 timeout=0.3)

    s = parse(fetch()[2])
    for method in ("INVITE", "ACK", "BYE"):
        assert val(s, "sipguard_sip_requests_total", zone="internet",
                   method=method) == 3, method
    assert val(s, "sipguard_sip_requests_total", zone="internet",
               method="OPTIONS") == 1
    assert val(s, "sipguard_sip_requests_total", zone="pbx",
               method="INVITE") == 0
    # The callee's answers arrive on the trusted side: 180 and 200 for
    # each INVITE, 200 for each BYE.
    assert s[("sipguard_sip_responses_total",
              frozenset({("zone", '"pbx"'), ("class", '"2xx"')}))] == 6
    assert s[("sipguard_sip_responses_total",
              frozenset({("zone", '"pbx"'), ("class", '"1xx"')}))] == 3
    assert val(s, "sipguard_sip_parse_errors_total", zone="internet") == 1
    assert val(s, "sipguard_sip_parse_errors_total", zone="pbx") == 0
    assert val(s, "sipguard_rule_hits_total", rule="scanner-ua") == 1
    assert val(s, "sipguard_guard_verdicts_total", action="drop") >= 1
    assert val(s, "sipguard_bans_active") == 1
    assert val(s, "sipguard_bans_total") == 1
    assert val(s, "sipguard_fraud_users_held", action="block") == 0
    assert val(s, "sipguard_dialogs_active") == 0
    assert val(s, "sipguard_forwarded_total", kind="request") == 9
    # Every request received was timed; buckets are cumulative.
    n = val(s, "sipguard_request_duration_seconds_count")
    assert n == 10
    buckets = sorted((float(dict(k[1])["le"].strip('"')), v)
                     for k, v in s.items()
                     if k[0] == "sipguard_request_duration_seconds_bucket"
                     and dict(k[1])["le"] != '"+Inf"')
    assert [v for _, v in buckets] == sorted(v for _, v in buckets)
    assert val(s, "sipguard_request_duration_seconds_bucket",
               le="+Inf") == n
    assert val(s, "sipguard_request_duration_seconds_bucket", le="0.1") == n
    assert 0 < val(s, "sipguard_request_duration_seconds_sum") < n * 0.1


def test_metrics_http_answers(sipguard, tmp_path):
    sipguard(config(str(tmp_path)))
    assert fetch("/nothing")[0] == 404
    assert fetch("/metrics", method="POST")[0] == 405
    assert fetch("/metrics", method="HEAD")[0] == 200
