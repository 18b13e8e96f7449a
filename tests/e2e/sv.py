"""
Run a SIPVicious tool (Debian's sipvicious 0.3.3: svmap, svwar, svcrack)
as an attacker on its own loopback address.

    /usr/bin/python3 sv.py TOOL BIND_IP [UA|-] -- TOOL-ARGS...

svwar and svcrack 0.3.3 accept -b/--bindingip but never pass it on: their
socket binds to every interface, so on loopback their packets would come
from 127.0.0.1, the legitimate user's address.  This wrapper binds every
socket the tool binds to "any" to BIND_IP instead - what the tool meant
to do - and, with UA other than "-", replaces the tool's User-Agent
("friendly-scanner") with UA: a scanner that hides its name.  Nothing
else of the tool changes: its requests, timing and reports are its own,
but for one thing the tests may ask (environment SV_SOCKET_TIMEOUT, in
seconds): the socket timeouts the tool sets are capped at that.  The
tool waits that long for an answer that does not come (svcrack 10 s,
svwar and svmap 3 s) before it gives up or ends; on loopback an answer
comes in milliseconds or not at all (the attacker is banned).
"""
import os
import socket
import sys

SIPVICIOUS = "/usr/share/sipvicious"


def main():
    tool, bind_ip, ua = sys.argv[1], sys.argv[2], sys.argv[3]
    if sys.argv[4] != "--":
        raise SystemExit("usage: sv.py TOOL BIND_IP UA|- -- ARGS...")
    args = sys.argv[5:]
    sys.path.insert(0, SIPVICIOUS)

    real_bind = socket.socket.bind

    def bind(self, addr):
        if isinstance(addr, tuple) and addr[0] in ("", "0.0.0.0"):
            addr = (bind_ip,) + tuple(addr[1:])
        return real_bind(self, addr)

    socket.socket.bind = bind
    cap = os.environ.get("SV_SOCKET_TIMEOUT")
    if cap:
        real_settimeout = socket.socket.settimeout

        def settimeout(self, t):
            if t is not None and t > float(cap):
                t = float(cap)
            return real_settimeout(self, t)

        socket.socket.settimeout = settimeout
    if ua != "-":
        from sipvicious.libs import svhelper
        f = svhelper.makeRequest
        names = f.__code__.co_varnames[:f.__code__.co_argcount]
        defaults = list(f.__defaults__)
        first = len(names) - len(defaults)
        defaults[names.index("useragent") - first] = ua
        f.__defaults__ = tuple(defaults)
    mod = __import__("sipvicious." + tool, fromlist=["main"])
    sys.argv = [tool] + args
    mod.main()


if __name__ == "__main__":
    main()
