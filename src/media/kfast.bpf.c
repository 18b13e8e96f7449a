/*
 * kfast.bpf.c - the media relay's kernel fast path (issue 6), a TCX
 * ingress program (compiled for the BPF target at build time, embedded
 * in the daemon, loaded by kfast.c).
 *
 * For a UDP datagram to one of our relay addresses and ports from
 * exactly the source the relay thread installed (kf_map), it does the
 * relay's RTP checks (RFC 3550 5.1: version, CSRC, extension and
 * padding lengths; payload type negotiated; size; SSRC, sequence and
 * timestamp continuity; the policing bucket) and rewrites it to leave
 * from our address facing the other leg toward that leg (addresses,
 * ports, L3/L4 checksums), then delivers it: the stack for a local
 * destination on loopback, else out of the egress device the relay
 * thread found at install (bpf_redirect_neigh: the neighbour table
 * fills the L2 header; no ip_forward needed, as we are the sender).
 *
 * Anything else goes on untouched (TCX_NEXT: other programs, then the
 * stack and the relay socket, which checks, counts and reports exactly
 * as without this program): not ours (no map entry: strangers reach
 * the socket), RTCP (RFC 5761 4: PT 192-223 on a muxed port; the RTCP
 * port is never installed), IPv4 options or fragments, IPv6 extension
 * headers, any failed check, a packet over the egress MTU.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <linux/udp.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "kfast_abi.h"

/* TCX verdicts (uapi 6.6; Debian 12's headers predate them). */
#define KF_NEXT     (-1)
#define KF_PASS     0
#define KF_AF_INET  2
#define KF_AF_INET6 10
#define ETH_LEN     14

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1024); /* set by the loader */
	__type(key, struct kf_key);
	__type(value, struct kf_val);
} kf_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KF_IFS_MAX);
	__type(key, __u32);
	__type(value, __u32);
} kf_ifs SEC(".maps");

/* Where the packet's parts are (offsets from the Ethernet header). */
struct pkt {
	__u32 l3, l4, rtp, n; /* n: UDP payload length */
	__u32 addr_off;       /* source address; destination follows */
	__u32 alen;
	__u32 ip_csum; /* IPv4 header checksum, 0: none (IPv6) */
};

static __always_inline int parse_l3(struct __sk_buff *skb, struct kf_key *k,
				    struct pkt *pk)
{
	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		struct iphdr ip;

		if (bpf_skb_load_bytes(skb, ETH_LEN, &ip, sizeof(ip)))
			return -1;
		if (ip.ihl != 5 || ip.protocol != IPPROTO_UDP ||
		    (ip.frag_off & bpf_htons(0x3fff)))
			return -1;
		k->family = KF_AF_INET;
		__builtin_memcpy(k->laddr, &ip.daddr, 4);
		__builtin_memcpy(k->saddr, &ip.saddr, 4);
		pk->l4 = ETH_LEN + sizeof(ip);
		pk->addr_off = ETH_LEN + 12;
		pk->alen = 4;
		pk->ip_csum = ETH_LEN + 10;
		return 0;
	}
	if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr ip6;

		if (bpf_skb_load_bytes(skb, ETH_LEN, &ip6, sizeof(ip6)))
			return -1;
		if (ip6.nexthdr != IPPROTO_UDP)
			return -1;
		k->family = KF_AF_INET6;
		__builtin_memcpy(k->laddr, &ip6.daddr, 16);
		__builtin_memcpy(k->saddr, &ip6.saddr, 16);
		pk->l4 = ETH_LEN + sizeof(ip6);
		pk->addr_off = ETH_LEN + 8;
		pk->alen = 16;
		pk->ip_csum = 0;
		return 0;
	}
	return -1;
}

/* RFC 3550 5.1 lengths as media_rtp_parse() checks them; the fixed
 * header in h[12].  0: sane. */
static __always_inline int rtp_ok(struct __sk_buff *skb, struct pkt *pk,
				  __u8 *h)
{
	__u32 n = pk->n, hl;
	__u8 pad;

	if (n < 12 || n > KF_PKT_MAX)
		return -1;
	if (bpf_skb_load_bytes(skb, pk->rtp, h, 12))
		return -1;
	if ((h[0] >> 6) != 2)
		return -1;
	if (h[1] >= 192 && h[1] <= 223)
		return -1; /* RTCP on a muxed port: userspace reads it */
	hl = 12 + 4 * (h[0] & 0x0f);
	if (hl > n)
		return -1;
	if (h[0] & 0x10) {
		__u8 x[4];

		if (hl + 4 > n)
			return -1;
		if (bpf_skb_load_bytes(skb, (pk->rtp + hl) & 0xffff, x, 4))
			return -1;
		hl += 4 + 4 * (((__u32)x[2] << 8) | x[3]);
		if (hl > n)
			return -1;
	}
	if (h[0] & 0x20) {
		if (bpf_skb_load_bytes(skb, (pk->rtp + n - 1) & 0xffff, &pad,
				       1))
			return -1;
		if (pad == 0 || pad > n - hl)
			return -1;
	}
	return 0;
}

/* Continuity (relay.c rtp_anomaly) and the bucket (relay.c policed),
 * state and counters updated when the packet passes.  0: pass. */
static __always_inline int checks(struct kf_val *v, const __u8 *h, __u32 n,
				  __u64 now)
{
	__u32 ssrc = ((__u32)h[8] << 24) | ((__u32)h[9] << 16) |
		     ((__u32)h[10] << 8) | h[11];
	__u32 ts = ((__u32)h[4] << 24) | ((__u32)h[5] << 16) |
		   ((__u32)h[6] << 8) | h[7];
	__u16 seq = (__u16)(((__u32)h[2] << 8) | h[3]);
	__u16 ds, dsb;
	__u32 dt, dtb;
	int rc = -1;

	bpf_spin_lock(&v->lock);
	if (ssrc != v->ssrc)
		goto out;
	ds = (__u16)(seq - v->seq);
	dsb = (__u16)(v->seq - seq);
	if (ds > v->max_seq_jump && dsb > v->max_seq_jump)
		goto out;
	dt = ts - v->ts;
	dtb = v->ts - ts;
	if (dt > v->max_ts_jump && dtb > v->max_ts_jump)
		goto out;
	if (v->bw) {
		if (now > v->tok_ns) {
			__u64 el = now - v->tok_ns;

			if (el > 2000000000ULL)
				el = 2000000000ULL;
			v->tokens += el * v->bw / 1000000000ULL;
			v->tok_ns = now;
			if (v->tokens > v->bw)
				v->tokens = v->bw;
		}
		if (v->tokens < n)
			goto out;
		v->tokens -= n;
	}
	v->seq = seq;
	v->ts = ts;
	v->pkts++;
	v->bytes += n;
	v->last_ns = now;
	rc = 0;
out:
	bpf_spin_unlock(&v->lock);
	return rc;
}

/* Where the rewritten packet goes: 0 up the local stack (loopback
 * only: elsewhere a packet with a local source is a martian), >0 out
 * of that device (the route the relay thread looked up at install),
 * <0 hand it up (it does not fit the device's MTU). */
static __always_inline int route(struct __sk_buff *skb, const struct kf_val *v)
{
	__u32 *in, idx = skb->ingress_ifindex, mtu = 0;

	in = bpf_map_lookup_elem(&kf_ifs, &idx);
	if (!in)
		return -1;
	if (!v->oif)
		return *in == KF_IF_LOOP ? 0 : -1;
	if (bpf_check_mtu(skb, v->oif, &mtu, -ETH_LEN, 0))
		return -1;
	return (int)v->oif;
}

static __always_inline int csum_addr(struct __sk_buff *skb,
				     const struct pkt *pk, __u32 off,
				     const __u8 *old, const __u8 *new)
{
	__u32 csum = pk->l4 + 6;
	__u64 l4f = BPF_F_PSEUDO_HDR | 4;
	int i;

	if (pk->ip_csum)
		l4f |= BPF_F_MARK_MANGLED_0;
#pragma unroll
	for (i = 0; i < 16; i += 4) {
		__u32 o, w;

		if ((__u32)i >= pk->alen)
			break;
		__builtin_memcpy(&o, old + i, 4);
		__builtin_memcpy(&w, new + i, 4);
		if (bpf_l4_csum_replace(skb, csum, o, w, l4f))
			return -1;
		if (pk->ip_csum &&
		    bpf_l3_csum_replace(skb, pk->ip_csum, o, w, 4))
			return -1;
	}
	return bpf_skb_store_bytes(skb, off, new, pk->alen, 0) ? -1 : 0;
}

/* Addresses and ports to the action's, checksums kept right (with
 * CHECKSUM_PARTIAL, e.g. on loopback, the helpers update only the
 * pseudo-header sum, as the stack expects). */
static __always_inline int rewrite(struct __sk_buff *skb, const struct pkt *pk,
				   const struct kf_key *k,
				   const struct kf_val *v)
{
	__u64 pf = pk->ip_csum ? BPF_F_MARK_MANGLED_0 : 0;
	__u32 csum = pk->l4 + 6;
	__u16 ports[2] = {v->nsport, v->ndport};

	if (csum_addr(skb, pk, pk->addr_off, k->saddr, v->nsrc) ||
	    csum_addr(skb, pk, pk->addr_off + pk->alen, k->laddr, v->ndst))
		return -1;
	if (bpf_l4_csum_replace(skb, csum, k->sport, v->nsport, pf | 2) ||
	    bpf_l4_csum_replace(skb, csum, k->lport, v->ndport, pf | 2))
		return -1;
	return bpf_skb_store_bytes(skb, pk->l4, ports, 4, 0) ? -1 : 0;
}

SEC("tc")
int kf_ingress(struct __sk_buff *skb)
{
	struct kf_key k;
	struct pkt pk;
	struct udphdr uh;
	struct kf_val *v;
	__u8 h[12];
	__u64 now;
	int out;

	__builtin_memset(&k, 0, sizeof(k));
	__builtin_memset(&pk, 0, sizeof(pk));
	if (parse_l3(skb, &k, &pk))
		return KF_NEXT;
	if (bpf_skb_load_bytes(skb, pk.l4, &uh, sizeof(uh)))
		return KF_NEXT;
	k.lport = uh.dest;
	k.sport = uh.source;
	v = bpf_map_lookup_elem(&kf_map, &k);
	if (!v)
		return KF_NEXT; /* not ours, or a stranger: the socket */
	pk.rtp = pk.l4 + sizeof(uh);
	pk.n = bpf_ntohs(uh.len);
	if (pk.n < sizeof(uh) || pk.rtp + pk.n - sizeof(uh) > skb->len)
		goto up;
	pk.n -= sizeof(uh);
	if (rtp_ok(skb, &pk, h))
		goto up;
	if (!(v->pt[(h[1] & 0x7f) >> 6] >> (h[1] & 63) & 1))
		goto up;
	out = route(skb, v);
	if (out < 0)
		goto up;
	now = bpf_ktime_get_ns();
	if (checks(v, h, pk.n, now))
		goto up;
	/* Past this point the packet is the kernel's to deliver: a failed
	 * store leaves it half-written, so it is dropped, not passed. */
	if (rewrite(skb, &pk, &k, v))
		return TC_ACT_SHOT;
	if (out == 0)
		return KF_PASS;
	/* The neighbour subsystem writes the L2 header (and resolves it
	 * if need be); no forwarding sysctl involved: we are the sender. */
	return bpf_redirect_neigh((__u32)out, 0, 0, 0);
up:
	__sync_fetch_and_add(&v->up, 1);
	return KF_NEXT;
}

char LICENSE[] SEC("license") = "GPL";
