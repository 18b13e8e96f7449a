"""
Pieces of sipguard configs that several e2e tests write: the two zones
of an instance, its untrusted one routing to a backend and its trusted
one (zones(): the media tests, test_media.py, test_media_kernel.py,
test_media_baresip.py, test_srtp.py, test_dtls_srtp.py, test_fraud.py,
test_store_tls.py, and opsconf.base_config() for the test_ops_*.py),
with its Redis store (zones_and_store(): the cluster tests,
test_guard_cluster.py, test_share_cluster.py, test_store_scale.py,
fraudcluster.py); the relay's ports (media()); the debug log with call
records and events (log_files()); and the credentials file of local
authentication (the cluster tests, test_guard.py, test_fraud.py).
Extra lines are YAML text, indented as they stand in the block; blank
ones are dropped.
"""
import hashlib
import os


def _lines(text):
    """text's non-blank lines, each ending in a newline."""
    return "".join(ln + "\n" for ln in text.splitlines() if ln.strip())


def zones(ip, out, backend, in_ip, inn, transports=("udp",), internet="",
          pbx="", between=""):
    """zones: "internet" (untrusted) listening on ip:out (one listener a
    transport) and routing to backend (a port: UDP on 127.0.0.1, or a
    "transport:host:port" string), "pbx" (trusted) on udp:in_ip:inn.
    internet, pbx: more lines of that zone (4-space indented); between:
    more zones, after internet (2-space "- name:" items)."""
    lis = ", ".join('"%s:%s:%d"' % (t, ip, out) for t in transports)
    if not isinstance(backend, str):
        backend = "udp:127.0.0.1:%d" % backend
    return """zones:
  - name: internet
    trust: untrusted
    listen: [ %s ]
    route:
      backends: [ "%s" ]
%s%s  - name: pbx
    trust: trusted
    listen: [ "udp:%s:%d" ]
%s""" % (lis, backend, _lines(internet), _lines(between), in_ip, inn,
         _lines(pbx))


def media(port_min, port_max, extra=""):
    """media: the relay on ports port_min to port_max, then extra
    (2-space indented lines)."""
    return "media:\n  port_min: %d\n  port_max: %d\n%s" % (
        port_min, port_max, _lines(extra))


# Quick retransmissions (the media tests' calls, lost packets retried).
SIP_T1_FAST = "sip:\n  t1: 200ms\n"


def log_files(d, level="debug"):
    """log: at level, call records and events (JSON lines) in d."""
    return """log:
  level: %s
  call_records_file: %s/cdr.json
  events_file: %s/events.json
""" % (level, d, d)


def zones_and_store(ip, out, inn, backend, rport, name, prefix,
                    transports=("udp",), store_extra=""):
    """The YAML of an instance on ip: its untrusted zone on port out
    (one listener a transport), routing to 127.0.0.1:backend over UDP,
    its trusted zone on inn (UDP), and the store on Redis at
    127.0.0.1:rport under key prefix, with store_extra (2-space
    indented lines) before its timeouts."""
    return zones(ip, out, backend, ip, inn, transports) + """store:
  backend: redis
  address: 127.0.0.1:%(rport)d
  instance: %(name)s
  key_prefix: "%(prefix)s"
%(extra)s  timeout: 500ms
  reconnect_max: 1s
""" % {"rport": rport, "name": name, "prefix": prefix,
       "extra": store_extra}


def credentials(tmp, users, realm):
    """tmp/credentials for users {name: password} (user:realm:HA1, MD5,
    as SIPVicious and sipp know it); its path."""
    path = os.path.join(tmp, "credentials")
    with open(path, "w") as f:
        for u, p in users.items():
            ha1 = hashlib.md5(("%s:%s:%s" % (u, realm, p)).encode())
            f.write("%s:%s:%s\n" % (u, realm, ha1.hexdigest()))
    return path
