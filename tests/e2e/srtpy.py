"""
SRTP for the e2e tests: Debian's libsrtp2 through ctypes (no Python
package needed).  Srtp(key, outbound) is one session with one wildcard
stream; protect()/unprotect() return the new packet or None.
Suite: AES_CM_128_HMAC_SHA1_80 (key||salt 30 bytes), as SDES offers it.
"""
import base64
import ctypes
import os

_lib = ctypes.CDLL("libsrtp2.so.1")
_lib.srtp_init()

SSRC_ANY_INBOUND, SSRC_ANY_OUTBOUND = 2, 3


class _CryptoPolicy(ctypes.Structure):
    _fields_ = [("cipher_type", ctypes.c_uint32),
                ("cipher_key_len", ctypes.c_int),
                ("auth_type", ctypes.c_uint32),
                ("auth_key_len", ctypes.c_int),
                ("auth_tag_len", ctypes.c_int),
                ("sec_serv", ctypes.c_int)]


class _Policy(ctypes.Structure):
    _fields_ = [("ssrc_type", ctypes.c_int),
                ("ssrc_value", ctypes.c_uint),
                ("rtp", _CryptoPolicy),
                ("rtcp", _CryptoPolicy),
                ("key", ctypes.c_void_p),
                ("keys", ctypes.c_void_p),
                ("num_master_keys", ctypes.c_ulong),
                ("deprecated_ekt", ctypes.c_void_p),
                ("window_size", ctypes.c_ulong),
                ("allow_repeat_tx", ctypes.c_int),
                ("enc_xtn_hdr", ctypes.c_void_p),
                ("enc_xtn_hdr_count", ctypes.c_int),
                ("next", ctypes.c_void_p)]


def new_key():
    return os.urandom(30)


def crypto_line(tag, key):
    return "a=crypto:%d AES_CM_128_HMAC_SHA1_80 inline:%s" % (
        tag, base64.b64encode(key).decode())


def parse_crypto(sdp):
    """(tag, suite, key bytes) of each a=crypto line of an SDP text."""
    out = []
    for line in sdp.splitlines():
        if line.startswith("a=crypto:"):
            tag, suite, kp = line[9:].split()[:3]
            out.append((int(tag), suite,
                        base64.b64decode(kp[7:].split("|")[0])))
    return out


class Srtp:
    def __init__(self, key, outbound):
        assert len(key) == 30
        self._key = ctypes.create_string_buffer(key, 30)
        p = _Policy()
        # The _80 setters are macros for the defaults.
        _lib.srtp_crypto_policy_set_rtp_default(ctypes.byref(p.rtp))
        _lib.srtp_crypto_policy_set_rtcp_default(ctypes.byref(p.rtcp))
        p.ssrc_type = SSRC_ANY_OUTBOUND if outbound else SSRC_ANY_INBOUND
        p.key = ctypes.cast(self._key, ctypes.c_void_p)
        p.window_size = 128
        self._s = ctypes.c_void_p()
        rc = _lib.srtp_create(ctypes.byref(self._s), ctypes.byref(p))
        assert rc == 0, rc

    def _run(self, fn, pkt):
        buf = ctypes.create_string_buffer(pkt, len(pkt) + 200)
        n = ctypes.c_int(len(pkt))
        rc = fn(self._s, buf, ctypes.byref(n))
        return buf.raw[:n.value] if rc == 0 else None

    def protect(self, pkt):
        return self._run(_lib.srtp_protect, pkt)

    def unprotect(self, pkt):
        return self._run(_lib.srtp_unprotect, pkt)

    def protect_rtcp(self, pkt):
        return self._run(_lib.srtp_protect_rtcp, pkt)

    def unprotect_rtcp(self, pkt):
        return self._run(_lib.srtp_unprotect_rtcp, pkt)

    def close(self):
        if self._s:
            _lib.srtp_dealloc(self._s)
            self._s = None
