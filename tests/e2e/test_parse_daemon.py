"""
Issue 2, end to end: the real sipguard binary listens on UDP, parses every
datagram, logs a summary, answers malformed requests with 400 (505, 513)
carrying the reason, and never answers responses or garbage.
"""
import os
import subprocess

import pytest

from conftest import BIN, CORPUS, udp_exchange

PORT = 25060
ADDR = ("127.0.0.1", PORT)

CONFIG = """
log:
  level: debug
sip:
  limits:
    max_message_size: %(maxsize)d
zones:
  - name: untrusted
    trust: untrusted
    listen: [ "udp:127.0.0.1:%(port)d" ]
    route:
      backends: [ "udp:127.0.0.1:25080" ]
  - name: trusted
    trust: trusted
    listen: [ "udp:127.0.0.1:%(tport)d" ]
"""


def config(maxsize=65535):
    return CONFIG % {"port": PORT, "tport": PORT + 10, "maxsize": maxsize}


def req(method="OPTIONS", extra="", body="", version="SIP/2.0", cseq_method=None):
    cseq_method = cseq_method or method
    msg = ("%s sip:bob@example.com %s\r\n"
           "Via: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK-e2e-1;rport\r\n"
           "Max-Forwards: 70\r\n"
           "From: <sip:alice@example.com>;tag=a1\r\n"
           "To: <sip:bob@example.com>\r\n"
           "Call-ID: e2e-call-1@127.0.0.1\r\n"
           "CSeq: 1 %s\r\n"
           "%s"
           "Content-Length: %d\r\n\r\n%s") % (method, version, cseq_method,
                                                extra, len(body), body)
    return msg.encode()


def status_of(reply):
    assert reply is not None, "no reply"
    first = reply.split(b"\r\n", 1)[0].decode()
    parts = first.split(" ", 2)
    assert parts[0] == "SIP/2.0"
    return int(parts[1]), parts[2] if len(parts) > 2 else ""


def test_valid_request_is_logged_and_not_refused(sipguard):
    d = sipguard(config())
    reply = udp_exchange(ADDR, req(), timeout=0.5)
    assert reply is None or status_of(reply)[0] < 400
    assert d.wait_log("OPTIONS sip:bob@example.com")
    assert "e2e-call-1@127.0.0.1" in d.log()


def test_duplicate_content_length_gets_400_with_reason(sipguard):
    sipguard(config())
    reply = udp_exchange(ADDR, req(extra="Content-Length: 0\r\n"))
    code, reason = status_of(reply)
    assert code == 400
    assert "Content-Length" in reason or "duplicate" in reason.lower()
    # The reply copies the headers needed to route it back.
    assert b"branch=z9hG4bK-e2e-1" in reply
    assert b"Call-ID: e2e-call-1@127.0.0.1" in reply
    assert b"\r\nTo: <sip:bob@example.com>;tag=" in reply


def test_cseq_method_mismatch_gets_400(sipguard):
    sipguard(config())
    code, _ = status_of(udp_exchange(ADDR, req("INVITE", cseq_method="ACK")))
    assert code == 400


def test_wrong_version_gets_505(sipguard):
    sipguard(config())
    code, _ = status_of(udp_exchange(ADDR, req(version="SIP/7.0")))
    assert code == 505


def test_too_large_gets_513(sipguard):
    sipguard(config(maxsize=1500))
    body = "v=0\r\n" + "a=x-pad:" + "x" * 3000 + "\r\n"
    code, _ = status_of(udp_exchange(ADDR, req(extra="Content-Type: application/sdp\r\n",
                                               body=body)))
    assert code == 513


def test_responses_and_garbage_are_never_answered(sipguard):
    d = sipguard(config())
    resp = (b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKx\r\n"
            b"From: <sip:a@b>;tag=1\r\nTo: <sip:b@c>;tag=2\r\nCall-ID: x\r\n"
            b"CSeq: 1 OPTIONS\r\nContent-Length: 5\r\n\r\n")  # body too short
    assert udp_exchange(ADDR, resp, timeout=0.3) is None
    assert udp_exchange(ADDR, os.urandom(512), timeout=0.3) is None
    assert udp_exchange(ADDR, b"\r\n\r\n", timeout=0.3) is None
    assert d.wait_log("refused")


TORTURE_EXPECT = {
    # RFC 4475 section 3.1.2: invalid messages an element must answer with an
    # error (when it answers at all) - never with success.
    "badvers.dat": 505,
    "mismatch01.dat": 400,
    "clerr.dat": 400,
    "ncl.dat": 400,
    "scalar02.dat": 400,
    "insuf.dat": 400,
    "lwsruri.dat": 400,
    "lwsstart.dat": 400,
    "trws.dat": 400,
    "escruri.dat": 400,
    "ltgtruri.dat": 400,
    "baddate.dat": None,       # semantic: parser may accept
    "regbadct.dat": None,
    "badaspec.dat": None,
    "baddn.dat": None,
    "zeromf.dat": None,        # valid syntax; the proxy answers 483
}


@pytest.mark.parametrize("name", sorted(os.listdir(os.path.join(CORPUS, "rfc4475")))
                         if os.path.isdir(os.path.join(CORPUS, "rfc4475")) else [])
def test_rfc4475_torture_never_crashes(sipguard, name):
    if not name.endswith(".dat"):
        pytest.skip("archive")
    d = sipguard(config())
    with open(os.path.join(CORPUS, "rfc4475", name), "rb") as f:
        data = f.read()
    reply = udp_exchange(ADDR, data, timeout=0.3)
    want = TORTURE_EXPECT.get(name)
    if want is not None and reply is not None:
        assert status_of(reply)[0] == want, reply
    # Still alive and answering after each message.
    code, _ = status_of(udp_exchange(ADDR, req(extra="Content-Length: 0\r\n")))
    assert code == 400
    assert d.proc.poll() is None


def test_check_config(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text(config())
    assert subprocess.run([BIN, "--check-config", str(good)]).returncode == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text(config().replace("trust: trusted", "trust: sometimes"))
    r = subprocess.run([BIN, "--check-config", str(bad)], capture_output=True, text=True)
    assert r.returncode == 1
    assert str(bad) + ":" in r.stderr
    assert "trust" in r.stderr


def test_bundled_example_config_is_valid():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    r = subprocess.run([BIN, "--check-config", os.path.join(root, "etc/sipguard.yaml")])
    assert r.returncode == 0
