"""
Pieces of sipguard configs that several e2e tests write: an instance's
two zones and its Redis store (the cluster tests: test_guard_cluster.py,
test_share_cluster.py, test_store_scale.py, fraudcluster.py), and the
credentials file of local authentication (those and test_guard.py,
test_fraud.py).
"""
import hashlib
import os


def zones_and_store(ip, out, inn, backend, rport, name, prefix,
                    transports=("udp",), store_extra=""):
    """The YAML of an instance on ip: its untrusted zone on port out
    (one listener a transport), routing to 127.0.0.1:backend over UDP,
    its trusted zone on inn (UDP), and the store on Redis at
    127.0.0.1:rport under key prefix, with store_extra (2-space
    indented lines) before its timeouts."""
    lis = ", ".join('"%s:%s:%d"' % (t, ip, out) for t in transports)
    return """zones:
  - name: internet
    trust: untrusted
    listen: [ %(lis)s ]
    route:
      backends: [ "udp:127.0.0.1:%(be)d" ]
  - name: pbx
    trust: trusted
    listen: [ "udp:%(ip)s:%(inn)d" ]
store:
  backend: redis
  address: 127.0.0.1:%(rport)d
  instance: %(name)s
  key_prefix: "%(prefix)s"
%(extra)s  timeout: 500ms
  reconnect_max: 1s
""" % {"lis": lis, "be": backend, "ip": ip, "inn": inn, "rport": rport,
       "name": name, "prefix": prefix, "extra": store_extra}


def credentials(tmp, users, realm):
    """tmp/credentials for users {name: password} (user:realm:HA1, MD5,
    as SIPVicious and sipp know it); its path."""
    path = os.path.join(tmp, "credentials")
    with open(path, "w") as f:
        for u, p in users.items():
            ha1 = hashlib.md5(("%s:%s:%s" % (u, realm, p)).encode())
            f.write("%s:%s:%s\n" % (u, realm, ha1.hexdigest()))
    return path
