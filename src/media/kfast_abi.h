/*
 * kfast_abi.h - what the media relay's kernel fast path (kfast.bpf.c)
 * and its loader (kfast.c) share: the forwarding map's key and value,
 * and the interface map.  Plain fixed-width types only: this header is
 * compiled both for the BPF target and for the daemon.
 *
 * Addresses and ports are in network order (as on the wire); an IPv4
 * address is the first 4 bytes of its 16.  RTP fields (SSRC, sequence,
 * timestamp) are in host order, as media_rtp_parse() gives them.
 */
#ifndef SIPGUARD_KFAST_ABI_H
#define SIPGUARD_KFAST_ABI_H

#include <linux/bpf.h>
#include <linux/types.h>

/* One direction of a stream: what arrives at our relay address and
 * port (laddr, lport) from exactly (saddr, sport). */
struct kf_key {
	__u8 family; /* AF_INET, AF_INET6 */
	__u8 pad0;
	__u16 lport;
	__u16 sport;
	__u16 pad1;
	__u8 laddr[16];
	__u8 saddr[16];
};

/* What to do with it.  The action and the limits are written by the
 * relay thread; state and counters are the kernel's between two
 * writes.  lock: the program updates state and counters under it; the
 * relay thread reads and writes the value with BPF_F_LOCK. */
struct kf_val {
	struct bpf_spin_lock lock;
	__u32 ssrc; /* the only SSRC forwarded */
	/* action: rewrite to (nsrc, nsport) -> (ndst, ndport) */
	__u8 nsrc[16];
	__u8 ndst[16];
	__u16 nsport, ndport;
	__u16 max_seq_jump;
	__u16 pad0;
	__u32 max_ts_jump;
	__u32 bw;  /* policing, bytes/s; 0: off */
	__u32 oif; /* egress device toward ndst; 0: ndst is local */
	__u32 pad2;
	__u64 pt[2]; /* payload types allowed: bits 0-63, 64-127 */
	/* state: the last packet forwarded, the policing bucket */
	__u32 ts;
	__u16 seq;
	__u16 pad1;
	__u64 tokens; /* bytes */
	__u64 tok_ns; /* CLOCK_MONOTONIC of the last refill */
	/* counters: forwarded by the kernel, handed up (failed a check) */
	__u64 pkts, bytes, last_ns;
	__u64 up;
};

/* kf_ifs: ifindex -> how its frames start. */
enum {
	KF_IF_ETHER = 1, /* 14-byte Ethernet header */
	KF_IF_LOOP = 2,  /* loopback: Ethernet framing, local delivery */
};

enum {
	KF_PKT_MAX = 1500, /* = MEDIA_RTP_MAX: larger ones go up */
	KF_IFS_MAX = 256,
};

#endif
