"""
What the two fraud cluster tests (test_fraud_cluster.py,
test_share_cluster.py) share: the config of one sipguard instance of a
pair, with the fraud section and a Redis store, and raw INVITEs whose
first answer tells whether the fraud policy admitted the call.
"""
import time

from confparts import zones_and_store
from conftest import udp_exchange

REFUSED = "SIP/2.0 403 Forbidden - toll fraud policy"
TRYING = "SIP/2.0 100 Trying"


CLUSTER_SECRET = '  secret: "e2e fraud cluster secret"\n'


def fraud_config(ip, name, *, out, inn, backend, rport, prefix, classes,
                 dial_rules, users, per_source="", secret=CLUSTER_SECRET):
    """One instance on ip (untrusted zone on port out, trusted on inn),
    routing to 127.0.0.1:backend, sharing Redis on rport under key
    prefix; classes: the option lines of the fraud class "local"
    (6-space indent); dial_rules and users: the YAML flow mappings of
    those lists; per_source: a fraud.per_source line, or none; secret:
    the store.secret line (fraud counts are shared only under one: ""
    keeps them per instance)."""
    rules = "".join("    - %s\n" % r for r in dial_rules)
    who = "".join("    - %s\n" % u for u in users)
    return """
log:
  level: info
sip:
  t1: 500ms
""" + zones_and_store(ip, out, inn, backend, rport, name, prefix,
                    store_extra=secret) + """\
fraud:
  country_code: "44"
  reason: "Forbidden - toll fraud policy"
  classes:
    - name: local
%(cls)s
  %(ps)s
  dial_rules:
%(rules)s  users:
%(who)s""" % {"cls": classes, "ps": per_source, "rules": rules, "who": who}


class RawInvites:
    """Raw INVITEs to port sg of an instance, each from a port of its own
    (first_port + 1, + 2, ...): no answer to an earlier one is mistaken
    for the next one's."""

    def __init__(self, sg, first_port, tag):
        self.sg, self.port, self.tag = sg, first_port, tag

    def ask(self, sg_ip, number, user, src="127.0.0.1"):
        """The first answer to an INVITE of user to number through
        sg_ip (100 Trying, or a final one); none is a failure."""
        self.port += 1
        port, tag = self.port, self.tag
        msg = ("INVITE sip:%s@%s:%d SIP/2.0\r\n"
               "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK-%s-%f;rport\r\n"
               "Max-Forwards: 70\r\n"
               "From: <sip:%s@example.com>;tag=%s%d\r\n"
               "To: <sip:%s@example.com>\r\n"
               "Call-ID: %s-%f@%s\r\n"
               "CSeq: 1 INVITE\r\n"
               "Contact: <sip:%s@%s:%d>\r\n"
               "Content-Length: 0\r\n\r\n" %
               (number, sg_ip, self.sg, src, port, tag, time.time(), user,
                tag, port, number, tag, time.time(), src, user, src, port))
        # 2 s: a held INVITE waits for its cluster read at most 1 s.
        r = udp_exchange((sg_ip, self.sg), msg.encode(), src=(src, port),
                         timeout=2.0)
        assert r is not None, "no answer from %s" % sg_ip
        return r.split(b"\r\n", 1)[0].decode()
