"""
Issue 9 with issue 4: a password brute force spread over two sipguard
instances is stopped as if it hit one.  Instances A (127.0.0.31) and B
(127.0.0.32) authenticate locally (a credentials file written here) and
share one redis-server (Debian's, started here, stopped by pid).  The
attacker, 127.0.0.66, sends wrong-password REGISTERs to A and B in turn:
each instance alone stays under max_failures_ip, the cluster's window
(rate_share.c) crosses it, one instance bans the source and bansync
carries the ban to the other: both go silent for the attacker.  Without
the shared store (key prefixes apart) the same guesses ban nobody; with
the rule monitored, the cluster ban is only reported.  The same for an
INVITE flood split over both, each half under the per-source rate.

The failure window is a day: Redis' periods start at midnight UTC, so a
test does not straddle two (where the sliding estimate may round one
failure away).

Ports 38000-38499 only (this file's: 38100-38199, redis on 38452).
"""
import os
import socket
import time

import pytest

import digestua
from confparts import credentials, zones_and_store
from encpeers import events
from peers import redis_fixture

REDIS_PORT = 38452
A_IP, B_IP = "127.0.0.31", "127.0.0.32"
ATK = "127.0.0.66"
SG, SG_IN = 38100, 38110
BACKEND = 38120          # nothing listens: no request gets that far
ATK_PORT = 38130
REALM = "example.com"
MAX_IP = 10
USERS = {"alice": "secret-a", "bob": "secret-b", "carol": "secret-c"}


@pytest.fixture
def redis():
    yield from redis_fixture(REDIS_PORT, prefix="sipguard-gredis-")


def config(tmp, ip, name, prefix):
    return """
log:
  level: info
  events_file: %(tmp)s/events.json
guard:
  control_socket: %(tmp)s/ctl.sock
  auth:
    mode: local
    realm: %(realm)s
    credentials: %(creds)s
    sha256: false
    max_failures_ip: %(max)d
    failure_window: 24h
""" % {"tmp": tmp, "realm": REALM, "max": MAX_IP,
       "creds": credentials(tmp, USERS, REALM)} + \
        zones_and_store(ip, SG, SG_IN, BACKEND, REDIS_PORT, name, prefix)


class Attacker(digestua.DigestUA):
    """A UA on ATK guessing passwords, looking like a phone."""

    def __init__(self):
        super().__init__(ATK, ATK_PORT, REALM,
                         "User-Agent: Zoiper rv2.8.116\r\n")

    def guess(self, ip, user, password):
        """One guess; the final status line, or None when the instance
        answers nothing (the source is dropped)."""
        return self.login((ip, SG), user, password)


def start_pair(prefix_a, prefix_b, extra=""):
    def cfg(ip, name, prefix):
        return lambda tmp: config(tmp, ip, name, prefix).replace(
            "guard:\n", "guard:\n" + extra)
    return digestua.start_pair(cfg(A_IP, "ga", prefix_a),
                               cfg(B_IP, "gb", prefix_b), "g")


stop_pair = digestua.stop_pair


def spread(atk, n):
    """n wrong guesses, A and B in turn, users in turn (each pair stays
    under max_failures_user_ip, the users under the scanner's count)."""
    users = sorted(USERS)
    out = []
    for i in range(n):
        ip = (A_IP, B_IP)[i % 2]
        out.append((ip, atk.guess(ip, users[(i // 2) % len(users)],
                                  "wrong-%d" % i)))
        time.sleep(0.05)
    return out


def dropped_everywhere(atk, timeout=3.0):
    """Both instances silent for the attacker (banned), within timeout."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if all(atk.guess(ip, "alice", "x") is None for ip in (A_IP, B_IP)):
            return True
        time.sleep(0.2)
    return False


def test_bruteforce_spread_over_two_instances_is_banned_on_both(redis):
    (a, ta), (b, tb) = start_pair("gc-e2e:", "gc-e2e:")
    atk = Attacker()
    try:
        # 2 x 5 guesses: each instance alone stays under 10 ...
        out = spread(atk, 2 * (MAX_IP // 2) - 2)
        assert all(st and st.startswith("SIP/2.0 4") for _, st in out), out
        # ... and the cluster reaches it with the last two.
        time.sleep(0.6)
        spread(atk, 2)
        assert dropped_everywhere(atk), (a.log()[-3000:], b.log()[-3000:])
        evs = events(ta.name) + events(tb.name)
        bans = [e for e in evs if e["type"] == "ban" and e["src"] == ATK]
        assert bans and bans[0]["rule"] == "auth-bruteforce-ip", evs
        assert "across the cluster" in bans[0]["reason"], bans
    finally:
        atk.close()
        stop_pair((a, ta), (b, tb))


def test_without_sharing_each_instance_counts_alone(redis):
    """The same guesses, instances on key prefixes apart (no shared
    window): nobody bans; the local limit is as it was."""
    (a, ta), (b, tb) = start_pair("gc-e2e-a:", "gc-e2e-b:")
    atk = Attacker()
    try:
        out = spread(atk, 2 * (MAX_IP // 2))
        assert all(st and st.startswith("SIP/2.0 4") for _, st in out), out
        time.sleep(1.0)
        assert atk.guess(A_IP, "alice", "x") is not None
        assert atk.guess(B_IP, "alice", "x") is not None
        evs = events(ta.name) + events(tb.name)
        assert not [e for e in evs if e["type"] == "ban"], evs
    finally:
        atk.close()
        stop_pair((a, ta), (b, tb))


def test_monitored_rule_only_reports_the_cluster_ban(redis):
    """auth-bruteforce-ip in monitor mode: the cluster's count crossing
    the limit is reported (would-ban), the source keeps its answers."""
    (a, ta), (b, tb) = start_pair(
        "gc-e2e-m:", "gc-e2e-m:",
        "  monitor_rules: [ auth-bruteforce-ip ]\n")
    atk = Attacker()
    try:
        out = spread(atk, 2 * (MAX_IP // 2) + 2)
        assert all(st and st.startswith("SIP/2.0 4") for _, st in out), out
        deadline = time.time() + 3
        would = []
        while time.time() < deadline and not would:
            evs = events(ta.name) + events(tb.name)
            would = [e for e in evs if e["type"] == "would-ban"
                     and e["src"] == ATK]
            time.sleep(0.1)
        assert would and "across the cluster" in would[0]["reason"], evs
        assert not [e for e in evs if e["type"] == "ban"], evs
        assert atk.guess(A_IP, "alice", "x") is not None
        assert atk.guess(B_IP, "alice", "x") is not None
    finally:
        atk.close()
        stop_pair((a, ta), (b, tb))


def invite(sock, ip, n):
    msg = ("INVITE sip:alice@%s SIP/2.0\r\n"
           "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK-gi-%d-%d;rport\r\n"
           "Max-Forwards: 70\r\n"
           "From: <sip:atk@%s>;tag=gi%d\r\n"
           "To: <sip:alice@%s>\r\n"
           "Call-ID: gi-%d-%d@%s\r\n"
           "CSeq: 1 INVITE\r\n"
           "Contact: <sip:atk@%s:%d>\r\n"
           "User-Agent: Zoiper rv2.8.116\r\n"
           "Content-Length: 0\r\n\r\n" %
           (REALM, ATK, ATK_PORT + 1, n, os.getpid(), REALM, n, REALM, n,
            os.getpid(), ATK, ATK, ATK_PORT + 1))
    sock.sendto(msg.encode(), (ip, SG))


def test_invite_flood_spread_over_two_instances_is_banned(redis):
    """15 INVITEs a second to each instance, under each one's rate-invite
    limit (20 a second by default), 30 in the cluster, over it: banned
    (rule rate-invite) and silent on both within the lag bound."""
    (a, ta), (b, tb) = start_pair("gc-e2e-i:", "gc-e2e-i:")
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((ATK, ATK_PORT + 1))
    s.settimeout(0.01)
    try:
        answered = 0
        # 2 s at 30/s, A and B in turn (15/s each).
        for n in range(60):
            invite(s, (A_IP, B_IP)[n % 2], n)
            t_end = time.time() + 1.0 / 30
            while time.time() < t_end:
                try:
                    s.recv(65535)
                    answered += 1
                except socket.timeout:
                    pass
        deadline = time.time() + 3
        bans = []
        while time.time() < deadline and not bans:
            evs = events(ta.name) + events(tb.name)
            bans = [e for e in evs if e["type"] == "ban" and e["src"] == ATK]
            time.sleep(0.1)
        assert answered >= 10, answered     # challenged, until the ban
        assert bans and bans[0]["rule"] == "rate-invite", evs
        assert "across the cluster" in bans[0]["reason"], bans
        # Neither instance dropped over its own limit before the ban.
        assert not [e for e in evs if e["rule"] == "rate-invite"
                    and e["type"] == "drop"], evs
        # The window names the source by a keyed hash, never in clear
        # (the ban does: every instance enforces it on that address).
        keys = redis.cli("--scan", "--pattern", "gc-e2e-i:rate:*").split()
        assert [k for k in keys if k.startswith("gc-e2e-i:rate:ri:")], keys
        assert not [k for k in keys if ATK in k], keys
        atk = Attacker()
        try:
            assert dropped_everywhere(atk), (a.log()[-2000:],
                                             b.log()[-2000:])
        finally:
            atk.close()
    finally:
        s.close()
        stop_pair((a, ta), (b, tb))
